"""Drivers for the peers: the same open / click / idle logic as bench.load, their protocols.

PyView speaks Phoenix LiveView's JSON channel protocol (phx_join, event, phx_reply with the
diff); ReactPy sends the whole layout on connect and a ``layout-update`` per change.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from typing import Any

import attrs
import trio
import trio_websocket

from bench.load import Conn, http_get, open_ws

_CSRF = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
_PHX_SESSION = re.compile(r'data-phx-session="([^"]*)"')
_PHX_ID = re.compile(r'id="phx-([^"]+)"')


class PyViewConn:
    def __init__(self, ws: trio_websocket.WebSocketConnection, topic: str) -> None:
        self.ws = ws
        self.topic = topic
        self.ref = 1

    async def reply(self, ref: str) -> Any:
        while True:
            message = json.loads(await self.ws.get_message())
            if message[1] == ref and message[3] == "phx_reply":
                if message[4].get("status") != "ok":
                    raise RuntimeError(f"PyView refused: {message}")
                return message

    async def click(self) -> None:
        self.ref += 1
        ref = str(self.ref)
        event = {"type": "click", "event": "increment", "value": {}}
        await self.ws.send_message(json.dumps(["1", ref, self.topic, "event", event]))
        await self.reply(ref)

    async def idle(self) -> None:
        try:
            while True:
                await self.ws.get_message()
        except trio_websocket.ConnectionClosed:
            pass


@attrs.define
class PyViewDriver:
    name: str = "PyView 0.9.0"
    open_concurrency: int = 100

    async def open(self, nursery: trio.Nursery, base_url: str, counter: list[int]) -> Conn:
        page = (await http_get(base_url + "/")).body.decode()
        csrf, session, phx_id = (p.search(page) for p in (_CSRF, _PHX_SESSION, _PHX_ID))
        if csrf is None or session is None or phx_id is None:
            raise RuntimeError("the PyView page has no csrf token, session or phx id")
        token = html.unescape(csrf.group(1))
        topic = "lv:phx-" + phx_id.group(1)
        ws_url = "ws" + base_url[4:] + f"/live/websocket?_csrf_token={token}&vsn=2.0.0"
        ws = await open_ws(nursery, ws_url, counter, [(b"Origin", base_url.encode())])
        join = {
            "url": base_url + "/",
            "params": {"_csrf_token": token, "_mounts": 0},
            "session": html.unescape(session.group(1)),
            "static": "",
        }
        await ws.send_message(json.dumps(["1", "1", topic, "phx_join", join]))
        conn = PyViewConn(ws, topic)
        await conn.reply("1")
        return conn


def _walk(model: Any) -> Iterator[dict[str, Any]]:
    if isinstance(model, dict):
        yield model
        for child in model.get("children", ()):
            yield from _walk(child)


class ReactPyConn:
    def __init__(self, ws: trio_websocket.WebSocketConnection, target: str) -> None:
        self.ws = ws
        self.event = json.dumps({"type": "layout-event", "target": target, "data": [{}]})

    async def click(self) -> None:
        await self.ws.send_message(self.event)
        while json.loads(await self.ws.get_message()).get("type") != "layout-update":
            pass

    async def idle(self) -> None:
        try:
            while True:
                await self.ws.get_message()
        except trio_websocket.ConnectionClosed:
            pass


@attrs.define
class ReactPyDriver:
    name: str = "ReactPy 1.1.0"
    # concurrent first renders corrupt ReactPy 1.1's thread-local hook stack ("Hook stack is
    # in an invalid state", the socket closes 1006): sessions are opened one at a time
    open_concurrency: int = 1

    async def open(self, nursery: trio.Nursery, base_url: str, counter: list[int]) -> Conn:
        await http_get(base_url + "/")  # the page a browser loads first (a static shell)
        ws_url = "ws" + base_url[4:] + "/_reactpy/stream"
        ws = await open_ws(nursery, ws_url, counter, [(b"Origin", base_url.encode())])
        while True:
            update = json.loads(await ws.get_message())
            if update.get("type") == "layout-update":
                break
        for node in _walk(update["model"]):
            if node.get("attributes", {}).get("id") == "inc":
                return ReactPyConn(ws, node["eventHandlers"]["onClick"]["target"])
        raise RuntimeError("the ReactPy layout has no #inc button with an onClick handler")
