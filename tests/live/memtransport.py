"""An in-memory live socket: a real :class:`vango_actors.live.Transport` over trio channels.

Lets ``serve_connection`` run under ``autojump_clock`` (virtual time: heartbeats, HELLO
timeouts) where a real socket would stall the clock. The client end speaks encoded frames.
"""

from __future__ import annotations

import math

import attrs
import trio

from vango_actors import protocol
from vango_actors.live import ConnectionClosed, text_message_error


@attrs.define
class MemoryTransport:
    """Server end: what ``serve_connection`` sees."""

    inbound: trio.MemoryReceiveChannel[bytes | str]
    outbound: trio.MemorySendChannel[bytes]
    closed_with: tuple[int, str] | None = None

    async def receive(self) -> bytes:
        try:
            data = await self.inbound.receive()
        except trio.EndOfChannel:
            raise ConnectionClosed(1005, "peer closed") from None
        if isinstance(data, str):
            raise text_message_error()
        return data

    async def send(self, data: bytes) -> None:
        if self.closed_with is not None:
            return
        try:
            await self.outbound.send(data)
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            raise ConnectionClosed(1006, "peer gone") from None

    async def close(self, code: int, reason: str) -> None:
        if self.closed_with is None:
            self.closed_with = (code, reason)
            await self.outbound.aclose()


@attrs.define
class MemoryPeer:
    """Client end: send frames or raw messages, read decoded frames until the server closes."""

    outbound: trio.MemorySendChannel[bytes | str]
    inbound: trio.MemoryReceiveChannel[bytes]
    server: MemoryTransport

    async def send(self, frame: protocol.Frame) -> None:
        await self.outbound.send(protocol.encode(frame))

    async def send_raw(self, data: bytes | str) -> None:
        await self.outbound.send(data)

    async def receive(self) -> protocol.Frame | None:
        """The next frame from the server, or None once it closed the socket."""
        try:
            return protocol.decode(await self.inbound.receive())
        except trio.EndOfChannel:
            return None

    async def hang_up(self) -> None:
        await self.outbound.aclose()


def memory_socket() -> tuple[MemoryTransport, MemoryPeer]:
    """A connected (server transport, client peer) pair with unbounded buffers."""
    to_server_send, to_server_receive = trio.open_memory_channel[bytes | str](math.inf)
    to_client_send, to_client_receive = trio.open_memory_channel[bytes](math.inf)
    server = MemoryTransport(to_server_receive, to_client_send)
    return server, MemoryPeer(to_server_send, to_client_receive, server)
