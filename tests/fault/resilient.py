"""A protocol-level client with vango.js's reconnect rules, for fault-injection tests.

It keeps every event until acknowledged, reconnects after any failure with HELLO
(last applied patch seq, last event seq), drops queued events WELCOME acknowledges and
re-sends the rest in order, ignores replayed PATCHES (seq <= last), reconnects on a seq gap
unless the frame is a resync (first op REPLACE of hid 0), and applies every other frame to its
``dom.Document`` exactly once, in order.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import trio
import trio_websocket

from vango_actors import dom, protocol
from vango_actors.protocol import SERVER_FRAME_LIMITS, Event, Hello, Patches, Ping, Pong, Welcome

from ..liveclient import PageShell, live_url_for, origin_of

_FAILURES = (
    trio_websocket.ConnectionClosed,
    trio_websocket.HandshakeError,
    trio.BrokenResourceError,
    trio.ClosedResourceError,
    OSError,
)


class Gap(Exception):
    """A PATCHES frame skipped a seq: reconnect to get it replayed."""


class ResilientClient:
    def __init__(self, base_url: str, shell: PageShell) -> None:
        self.base_url = base_url
        self.shell = shell
        self.document = dom.Document.from_html(shell.inner_html)
        self.last_seq = 0
        self.event_seq = 0
        self.acked = 0
        self.queue: list[Event] = []  # unacknowledged events, in seq order
        self.connections = 0
        self.welcomes: list[Welcome] = []
        self.applied: list[int] = []  # seqs of the PATCHES frames applied, in order

    def hid(self, selector: str) -> int:
        found = self.document.select(selector)
        assert len(found) == 1 and found[0].hid is not None, selector
        return found[0].hid

    def text(self, selector: str) -> str:
        return self.document.select(selector)[0].text_content

    def add_event(self, hid: int, type: str, payload: dict[str, object] | None = None) -> None:
        self.event_seq += 1
        self.queue.append(Event(self.event_seq, hid, type, payload or {}))

    async def run_until_acked(self, make_events: int, hid: int, window: int = 8) -> None:
        """Click ``hid`` ``make_events`` times (at most ``window`` unacked at once),
        reconnecting through every failure, until all are acknowledged."""
        remaining = make_events
        while remaining or self._unsettled():
            try:
                remaining = await self._connection(remaining, hid, window)
            except (*_FAILURES, Gap):
                pass  # reconnect at once: the proxy decides how long the link stays down

    async def _connection(self, remaining: int, hid: int, window: int) -> int:
        url = urlsplit(live_url_for(self.base_url, self.shell))
        assert url.hostname is not None and url.port is not None
        headers = [(b"Origin", origin_of(self.base_url).encode())]
        stream = await trio.open_tcp_stream(url.hostname, url.port)
        async with stream, trio.open_nursery() as nursery:
            try:
                ws = await trio_websocket.wrap_client_stream(
                    nursery, stream, url.netloc, url.path, extra_headers=headers
                )
                self.connections += 1
                hello = Hello(1, self.shell.session_id, self.shell.token, self.last_seq, 0, "/")
                await ws.send_message(protocol.encode(hello))
                welcomed = False
                while remaining or self._unsettled():
                    if welcomed:
                        while remaining and len(self.queue) < window:
                            remaining -= 1
                            self.add_event(hid, "click")
                            await ws.send_message(protocol.encode(self.queue[-1]))
                    frame = protocol.decode(await ws.get_message(), SERVER_FRAME_LIMITS)
                    if isinstance(frame, Welcome):
                        welcomed = True
                        await self._welcome(ws, frame)
                    elif isinstance(frame, Patches):
                        self._patches(frame)
                    elif isinstance(frame, Ping):
                        await ws.send_message(protocol.encode(Pong(frame.n)))
            except (*_FAILURES, Gap):
                pass  # the caller reconnects
            finally:
                nursery.cancel_scope.cancel()
        return remaining

    async def _welcome(self, ws: trio_websocket.WebSocketConnection, frame: Welcome) -> None:
        self.welcomes.append(frame)
        if not frame.resumed:
            self.last_seq = min(self.last_seq, frame.seq)
        self._ack(frame.ack)
        for event in self.queue:
            await ws.send_message(protocol.encode(event))

    def _patches(self, frame: Patches) -> None:
        if frame.seq <= self.last_seq:
            return
        resync = bool(frame.ops) and frame.ops[0][:2] == [7, 0]
        if frame.seq > self.last_seq + 1 and not resync:
            raise Gap(f"PATCHES {frame.seq} after {self.last_seq}")
        self._ack(frame.ack)
        dom.apply(self.document, frame.ops)
        self.last_seq = frame.seq
        self.applied.append(frame.seq)

    def _unsettled(self) -> bool:
        """Events unacknowledged, or the catch-up announced by the last WELCOME not applied."""
        behind = bool(self.welcomes) and self.last_seq < self.welcomes[-1].seq
        return bool(self.queue) or behind

    def _ack(self, ack: int) -> None:
        self.acked = max(self.acked, ack)
        self.queue = [e for e in self.queue if e.seq > ack]
