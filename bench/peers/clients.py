"""Drivers for the peers: the same lean client as bench.load (bench._lean), their protocols.

PyView speaks Phoenix LiveView's JSON channel protocol (phx_join, event, phx_reply with the
diff); ReactPy sends the whole layout on connect and a ``layout-update`` per change. Both use
text frames; WebSocket PINGs (uvicorn sends them) are answered by the client.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from typing import Any

import attrs

from bench._lean import NEVER, OP_TEXT, RawWS, WSClosed, client_frame
from bench.load import Conn, http_get, idle_until_closed

_CSRF = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
_PHX_SESSION = re.compile(r'data-phx-session="([^"]*)"')
_PHX_ID = re.compile(r'id="phx-([^"]+)"')


class PyViewConn:
    __slots__ = ("_event", "ref", "topic", "ws")
    reply_opcode = OP_TEXT

    def __init__(self, ws: RawWS, topic: str) -> None:
        self.ws = ws
        self.topic = topic
        self.ref = 1
        event = {"type": "click", "event": "increment", "value": {}}
        self._event = json.dumps(event)

    def click(self) -> tuple[bytes, bytes]:
        self.ref += 1
        message = f'["1","{self.ref}",{json.dumps(self.topic)},"event",{self._event}]'
        return client_frame(OP_TEXT, message.encode()), NEVER

    def on_message(self, opcode: int, payload: bytes) -> bool:
        message = json.loads(payload)
        if message[1] == str(self.ref) and message[3] == "phx_reply":
            if message[4].get("status") != "ok":
                raise RuntimeError(f"PyView refused: {message}")
            return True
        return False

    async def idle(self) -> None:
        await idle_until_closed(self)


@attrs.frozen
class PyViewPage:
    csrf: str
    session: str
    topic: str


@attrs.define
class PyViewDriver:
    name: str = "PyView 0.9.0"
    open_concurrency: int = 100

    async def page(self, base_url: str) -> PyViewPage:
        page = (await http_get(base_url + "/")).body.decode()
        csrf, session, phx_id = (p.search(page) for p in (_CSRF, _PHX_SESSION, _PHX_ID))
        if csrf is None or session is None or phx_id is None:
            raise RuntimeError("the PyView page has no csrf token, session or phx id")
        return PyViewPage(
            html.unescape(csrf.group(1)),
            html.unescape(session.group(1)),
            "lv:phx-" + phx_id.group(1),
        )

    async def connect(self, base_url: str, page: PyViewPage, counter: list[int]) -> Conn:
        ws_url = "ws" + base_url[4:] + f"/live/websocket?_csrf_token={page.csrf}&vsn=2.0.0"
        ws = await RawWS.connect(ws_url, counter, [("Origin", base_url)])
        try:
            join = {
                "url": base_url + "/",
                "params": {"_csrf_token": page.csrf, "_mounts": 0},
                "session": page.session,
                "static": "",
            }
            ws.send_message(OP_TEXT, json.dumps(["1", "1", page.topic, "phx_join", join]).encode())
            conn = PyViewConn(ws, page.topic)
            while not conn.on_message(*await ws.receive()):
                pass
            return conn
        except BaseException:
            ws.close()
            raise


def _walk(model: Any) -> Iterator[dict[str, Any]]:
    if isinstance(model, dict):
        yield model
        for child in model.get("children", ()):
            yield from _walk(child)


class ReactPyConn:
    __slots__ = ("_frame", "ws")
    reply_opcode = OP_TEXT

    def __init__(self, ws: RawWS, target: str) -> None:
        self.ws = ws
        event = json.dumps({"type": "layout-event", "target": target, "data": [{}]})
        self._frame = client_frame(OP_TEXT, event.encode())

    def click(self) -> tuple[bytes, bytes]:
        return self._frame, NEVER

    def on_message(self, opcode: int, payload: bytes) -> bool:
        return bool(json.loads(payload).get("type") == "layout-update")

    async def idle(self) -> None:
        await idle_until_closed(self)


@attrs.define
class ReactPyDriver:
    name: str = "ReactPy 1.1.0"
    # concurrent first renders corrupt ReactPy 1.1's thread-local hook stack ("Hook stack is
    # in an invalid state", the socket closes 1006): sessions are opened one at a time
    open_concurrency: int = 1

    async def page(self, base_url: str) -> None:
        await http_get(base_url + "/")  # the page a browser loads first (a static shell)

    async def connect(self, base_url: str, page: None, counter: list[int]) -> Conn:
        ws_url = "ws" + base_url[4:] + "/_reactpy/stream"
        ws = await RawWS.connect(ws_url, counter, [("Origin", base_url)])
        try:
            while True:
                update = json.loads((await ws.receive())[1])
                if update.get("type") == "layout-update":
                    break
            for node in _walk(update["model"]):
                if node.get("attributes", {}).get("id") == "inc":
                    return ReactPyConn(ws, node["eventHandlers"]["onClick"]["target"])
            raise RuntimeError("the ReactPy layout has no #inc button with an onClick handler")
        except WSClosed as exc:
            ws.close()
            raise RuntimeError(f"ReactPy closed the socket while mounting: {exc}") from None
        except BaseException:
            ws.close()
            raise
