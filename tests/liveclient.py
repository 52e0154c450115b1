"""A protocol-level live client for tests, fault injection and load: no browser, real sockets.

``async with open_page(base_url, "/counter") as client`` GETs the page over plain HTTP/1.1,
reads the session id, token and HTML from the page's root container, builds a
``vango_actors.dom.Document`` from it, opens the live WebSocket, says HELLO and waits for
WELCOME. Then ``await client.click("#inc")``, ``await client.synced()`` and
``client.text("#count")``. PATCHES are applied to the document model, PINGs answered.
Lower-level pieces (``http_get``, ``parse_shell``, ``open_live``, ``send_raw``) let tests
break the protocol on purpose.
"""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlsplit

import attrs
import trio
import trio_websocket

from vango_actors import dom, protocol
from vango_actors.protocol import Error, Event, GoAway, Hello, Patches, Ping, Pong, Reload, Welcome

# ------------------------------------------------------------------------------ plain HTTP


@attrs.frozen
class HttpResponse:
    status: int
    headers: dict[str, str]  # lower-case names; repeated headers joined with ", "
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode()


async def http_get(url: str, headers: Sequence[tuple[str, str]] = ()) -> HttpResponse:
    """GET ``url`` over a fresh HTTP/1.1 connection; reads exactly one response."""
    parts = urlsplit(url)
    if parts.scheme != "http" or parts.hostname is None:
        raise ValueError(f"http_get: expected an http:// URL, got {url!r}")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    lines = [f"GET {path} HTTP/1.1", f"Host: {parts.netloc}", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in headers]
    stream = await trio.open_tcp_stream(parts.hostname, parts.port or 80)
    async with stream:
        await stream.send_all(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        raw = bytearray()
        while not _complete(raw):
            chunk = await stream.receive_some(65536)
            if not chunk:
                break
            raw += chunk
    return _parse_response(bytes(raw))


def _complete(raw: bytearray) -> bool:
    """True once ``raw`` holds a whole response (by Content-Length or the last chunk)."""
    head, sep, body = bytes(raw).partition(b"\r\n\r\n")
    if not sep:
        return False
    found = re.search(rb"(?im)^content-length:\s*(\d+)\s*$", head)
    if found:
        return len(body) >= int(found.group(1))
    if re.search(rb"(?im)^transfer-encoding:\s*chunked\s*$", head):
        return body.endswith(b"0\r\n\r\n")
    return False  # delimited by EOF


def _parse_response(raw: bytes) -> HttpResponse:
    head, sep, body = raw.partition(b"\r\n\r\n")
    if not sep:
        raise ValueError(f"incomplete HTTP response: {raw[:200]!r}")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers: dict[str, str] = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        key = name.strip().lower()
        headers[key] = f"{headers[key]}, {value.strip()}" if key in headers else value.strip()
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = _unchunk(body)
    elif "content-length" in headers:
        body = body[: int(headers["content-length"])]
    return HttpResponse(int(status_line.split()[1]), headers, body)


def _unchunk(body: bytes) -> bytes:
    out = bytearray()
    while True:
        size_line, _, body = body.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            return bytes(out)
        out += body[:size]
        body = body[size + 2 :]


# ------------------------------------------------------------------------------ page shell

_ROOT_OPEN = re.compile(r"<div\b[^>]*\bdata-vango-root\b[^>]*>", re.S)
_ATTR = re.compile(r'([\w-]+)(?:="([^"]*)")?')


@attrs.frozen
class PageShell:
    """What a live page hands its client: the root container's attributes and contents."""

    session_id: str
    token: str
    live_url: str | None  # None: same origin, /vango/live/<session_id>
    inner_html: str  # the root container's contents: the root component's HTML


def parse_shell(page: str) -> PageShell:
    """Find the root container (``data-vango-root``) in a page and read its attributes."""
    match = _ROOT_OPEN.search(page)
    if match is None:
        raise ValueError("page has no live root container (<div data-vango-root ...>)")
    attributes = {k: html.unescape(v or "") for k, v in _ATTR.findall(match.group(0)[4:-1])}
    end = _matching_div_end(page, match.end())
    return PageShell(
        session_id=attributes["data-vango-session"],
        token=attributes["data-vango-token"],
        live_url=attributes.get("data-vango-live"),
        inner_html=page[match.end() : end],
    )


def _matching_div_end(page: str, start: int) -> int:
    """Index of the ``</div>`` closing the div opened just before ``start``."""
    depth = 1
    for tag in re.finditer(r"<(/?)div\b[^>]*>", page[start:], re.I):
        depth += -1 if tag.group(1) else 1
        if depth == 0:
            return start + tag.start()
    raise ValueError("the live root container is never closed")


def live_url_for(base_url: str, shell: PageShell) -> str:
    """The WebSocket URL a page's client connects to."""
    if shell.live_url:
        return shell.live_url
    parts = urlsplit(base_url)
    scheme = "wss" if parts.scheme == "https" else "ws"
    return f"{scheme}://{parts.netloc}/vango/live/{shell.session_id}"


def origin_of(base_url: str) -> str:
    parts = urlsplit(base_url)
    return f"{parts.scheme}://{parts.netloc}"


# ----------------------------------------------------------------------------- the client


@attrs.frozen
class Closed:
    code: int | None
    reason: str | None


class LiveClient:
    """One live connection plus the DOM model its patches are applied to."""

    def __init__(
        self,
        ws: trio_websocket.WebSocketConnection,
        shell: PageShell,
        *,
        answer_pings: bool = True,
    ) -> None:
        self.ws = ws
        self.shell = shell
        self.document = dom.Document.from_html(shell.inner_html)
        self.answer_pings = answer_pings
        self.frames: list[protocol.Frame] = []  # every server frame, in order
        self.welcome: Welcome | None = None
        self.seq = 0  # last PATCHES seq applied
        self.acked = 0  # highest event seq the server acknowledged
        self.event_seq = 0  # last event seq sent
        self.closed: Closed | None = None
        self._changed = trio.Event()

    # ---- reading
    async def _read(self) -> None:
        try:
            while True:
                message = await self.ws.get_message()
                if isinstance(message, str):
                    raise AssertionError(f"server sent a text message: {message!r}")
                frame = protocol.decode(message)
                self.frames.append(frame)
                await self._on_frame(frame)
                self._notify()
        except trio_websocket.ConnectionClosed as exc:
            reason = exc.reason
            self.closed = Closed(reason.code, reason.reason) if reason else Closed(None, None)
            self._notify()

    async def _on_frame(self, frame: protocol.Frame) -> None:
        if isinstance(frame, Welcome):
            self.welcome = frame  # frame.seq is the server's: catch-up PATCHES follow
            self.acked = max(self.acked, frame.ack)
            # event seqs are per session: a new client for an old session continues after ack
            self.event_seq = max(self.event_seq, frame.ack)
        elif isinstance(frame, Patches):
            dom.apply(self.document, frame.ops)
            self.seq, self.acked = frame.seq, max(self.acked, frame.ack)
        elif isinstance(frame, Ping) and self.answer_pings:
            await self.send_frame(Pong(frame.n))

    def _notify(self) -> None:
        self._changed.set()
        self._changed = trio.Event()

    async def wait_for(self, predicate: Callable[[], bool]) -> None:
        """Wait until ``predicate()`` holds; checked after every frame and at close."""
        while not predicate():
            if self.closed is not None:
                raise AssertionError(f"connection closed while waiting: {self.closed}")
            await self._changed.wait()

    async def wait_closed(self) -> Closed:
        while self.closed is None:
            await self._changed.wait()
        return self.closed

    # ---- what arrived
    def of_type(self, kind: type[Any]) -> list[Any]:
        return [f for f in self.frames if isinstance(f, kind)]

    @property
    def errors(self) -> list[Error]:
        return self.of_type(Error)

    @property
    def reloads(self) -> list[Reload]:
        return self.of_type(Reload)

    @property
    def goaways(self) -> list[GoAway]:
        return self.of_type(GoAway)

    # ---- sending
    async def send_raw(self, data: bytes | str) -> None:
        await self.ws.send_message(data)

    async def send_frame(self, frame: protocol.Frame) -> None:
        await self.ws.send_message(protocol.encode(frame))

    async def hello(
        self, token: str | None = None, *, version: int = protocol.VERSION, url: str = "/"
    ) -> None:
        """Send HELLO for this page's session, resuming from what was applied and sent;
        ``url`` is the page's address (the browser's client sends ``location.href``)."""
        await self.send_frame(
            Hello(
                version,
                self.shell.session_id,
                self.shell.token if token is None else token,
                self.seq,
                self.event_seq,
                url,
            )
        )

    async def connected(self) -> Welcome:
        await self.wait_for(lambda: self.welcome is not None)
        assert self.welcome is not None
        return self.welcome

    async def send_event(self, hid: int, type: str, payload: dict[str, Any] | None = None) -> int:
        """Send one EVENT with the next seq; returns the seq."""
        self.event_seq += 1
        await self.send_frame(Event(self.event_seq, hid, type, payload or {}))
        return self.event_seq

    async def click(self, selector: str) -> int:
        return await self.send_event(self.hid(selector), "click")

    async def input(self, selector: str, value: str) -> int:
        return await self.send_event(self.hid(selector), "input", {"value": value})

    async def synced(self) -> None:
        """Wait until every event sent so far is acknowledged (its patches are applied)."""
        await self.wait_for(lambda: self.welcome is not None and self.acked >= self.event_seq)

    # ---- the document model
    def element(self, selector: str) -> dom.DomElement:
        """The one element matching ``selector`` in the current document model."""
        found = self.document.select(selector)
        if len(found) != 1:
            raise AssertionError(f"expected one element for {selector!r}, found {len(found)}")
        return found[0]

    def hid(self, selector: str) -> int:
        hid = self.element(selector).hid
        if hid is None:
            raise AssertionError(f"{selector!r} has no data-hid")
        return hid

    def text(self, selector: str) -> str:
        return self.element(selector).text_content


@asynccontextmanager
async def open_live(
    base_url: str,
    shell: PageShell,
    *,
    origin: str | None = "",
    answer_pings: bool = True,
    cookie: str | None = None,
) -> AsyncIterator[LiveClient]:
    """Open the live socket for ``shell`` (no HELLO yet); ``origin=""``: the page's origin,
    ``None``: send no Origin header; ``cookie``: a Cookie header, as a browser sends."""
    origin = origin_of(base_url) if origin == "" else origin
    headers = [] if origin is None else [(b"Origin", origin.encode())]
    if cookie is not None:
        headers.append((b"Cookie", cookie.encode()))
    url = urlsplit(live_url_for(base_url, shell))
    assert url.hostname is not None
    # We own the TCP stream: trio-websocket leaves it open when the server closes first.
    stream = await trio.open_tcp_stream(url.hostname, url.port or 80)
    async with stream, trio.open_nursery() as nursery:
        ws = await trio_websocket.wrap_client_stream(
            nursery, stream, url.netloc, url.path, extra_headers=headers
        )
        client = LiveClient(ws, shell, answer_pings=answer_pings)
        nursery.start_soon(client._read)
        try:
            yield client
        finally:
            with trio.move_on_after(5):
                await ws.aclose()
            nursery.cancel_scope.cancel()


async def load_page(base_url: str, path: str) -> PageShell:
    response = await http_get(base_url + path)
    if response.status != 200:
        raise AssertionError(f"GET {path}: expected 200, got {response.status}: {response.text}")
    return parse_shell(response.text)


@asynccontextmanager
async def open_page(base_url: str, path: str, **options: Any) -> AsyncIterator[LiveClient]:
    """GET a live page, connect, HELLO, and wait for WELCOME."""
    shell = await load_page(base_url, path)
    async with open_live(base_url, shell, **options) as client:
        await client.hello()
        await client.connected()
        yield client
