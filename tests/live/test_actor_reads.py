"""The fast door's actor reads its socket itself: woken by mailbox messages, losing nothing."""

from __future__ import annotations

import random
import socket
from collections.abc import Awaitable, Callable
from functools import partial

import pytest
import trio
import trio.testing

from vango_actors.fastdoor import OP_BINARY, OP_PING, OP_PONG, Control, FastTransport
from vango_actors.live import ConnectionClosed
from vango_actors.scheduler import Call

from ..liveclient import LiveClient, open_page
from .test_fastdoor import client_frame
from .test_socket import TIMEOUT, running_app


def _pair() -> tuple[socket.socket, socket.socket]:
    a, b = socket.socketpair()
    a.setblocking(False)
    return a, b


def _shows(client: LiveClient, count: str) -> bool:
    return client.text("#count") == count


_SENT = [str(i).encode() * (1 + i % 7) for i in range(300)]


async def _write_in_bursts(sock: socket.socket, burst: int) -> None:
    """``_SENT`` as client frames, ``burst`` frames per send (several per recv)."""
    for i in range(0, len(_SENT), burst):
        sock.sendall(b"".join(client_frame(OP_BINARY, m) for m in _SENT[i : i + burst]))
        await trio.sleep(0)


async def _read_all_under_random_cancels(
    burst: int, seed: int, read: Callable[[FastTransport, list[bytes]], Awaitable[None]]
) -> list[bytes]:
    """``_SENT`` written in bursts of ``burst`` frames while ``read`` (one step: append what
    it got) runs again and again, each time in a scope cancelled at random; what came out."""
    a, b = _pair()
    with a, b, trio.fail_after(10):
        transport = FastTransport(a, 1 << 20)
        got: list[bytes] = []
        rng = random.Random(seed)
        async with trio.open_nursery() as nursery:
            nursery.start_soon(_write_in_bursts, b, burst)
            while len(got) < len(_SENT):
                with trio.CancelScope() as scope:
                    if rng.random() < 0.5:  # cancelled before its next checkpoint
                        scope.cancel()
                    await read(transport, got)
        return got


async def test_a_receive_cancelled_at_any_point_loses_no_message() -> None:
    async def receive(transport: FastTransport, got: list[bytes]) -> None:
        got.append(await transport.receive())

    assert await _read_all_under_random_cancels(5, 7, receive) == _SENT


async def test_receive_nowait_gives_whole_messages_and_never_waits() -> None:
    a, b = _pair()
    with a, b, trio.fail_after(10):
        transport = FastTransport(a, 1 << 20)
        assert transport.receive_nowait() is None  # nothing sent: no wait, no message
        whole = client_frame(OP_BINARY, b"hello")
        b.sendall(whole[:4])
        await transport.wait_readable()
        assert transport.receive_nowait() is None  # half a frame is kept, not returned
        b.sendall(whole[4:] + client_frame(OP_BINARY, b"again"))
        await transport.wait_readable()
        assert transport.receive_nowait() == b"hello"
        assert transport.receive_nowait() == b"again"
        assert transport.receive_nowait() is None


async def test_a_control_frame_met_without_waiting_is_kept_for_receive() -> None:
    """A PING between two messages: receive_nowait stops at it (only receive answers it),
    then receive sends the PONG and goes on with the next message, losing nothing."""
    a, b = _pair()
    with a, b, trio.fail_after(10):
        transport = FastTransport(a, 1 << 20)
        b.sendall(
            client_frame(OP_BINARY, b"one")
            + client_frame(OP_PING, b"p")
            + client_frame(OP_BINARY, b"two")
        )
        await transport.wait_readable()
        assert transport.receive_nowait() == b"one"
        assert transport.receive_nowait() == Control(OP_PING, b"p")
        assert transport.receive_nowait() == Control(OP_PING, b"p")  # still kept
        assert await transport.receive() == b"two"
        assert b.recv(64) == bytes((0x80 | OP_PONG, 1)) + b"p"
        assert transport.receive_nowait() is None


async def test_receive_nowait_reports_the_peer_closing() -> None:
    a, b = _pair()
    with a, trio.fail_after(10):
        transport = FastTransport(a, 1 << 20)
        b.sendall(client_frame(OP_BINARY, b"last"))
        b.close()
        await transport.wait_readable()
        assert transport.receive_nowait() == b"last"
        if transport.receive_nowait() is None:  # the short read left nothing to try yet
            await transport.wait_readable()
        with pytest.raises(ConnectionClosed, match="closed the TCP connection"):
            transport.receive_nowait()


async def test_polls_between_cancelled_waits_lose_no_message() -> None:
    """The session actor's way of reading: poll, else wait for readability (a wake cancels
    that wait at any time); every message comes out once, in order."""

    async def poll_or_wait(transport: FastTransport, got: list[bytes]) -> None:
        message = transport.receive_nowait()
        if message is None:
            await transport.wait_readable()
        else:
            assert type(message) is bytes
            got.append(message)

    assert await _read_all_under_random_cancels(3, 11, poll_or_wait) == _SENT


async def test_pending_tells_whether_the_peer_sent_unread_bytes() -> None:
    a, b = _pair()
    with a, b, trio.fail_after(10):
        transport = FastTransport(a, 1 << 20)
        assert not transport.pending()
        b.sendall(client_frame(OP_BINARY, b"x") * 2)
        await trio.lowlevel.wait_readable(a)
        assert transport.pending()
        assert await transport.receive() == b"x"
        assert transport.pending()  # the second frame waits in the transport's buffer
        assert await transport.receive() == b"x"
        assert not transport.pending()


async def test_server_messages_wake_a_session_reading_its_socket(door: str) -> None:
    """Calls posted to the session (as timers and pub/sub do) interleave with clicks: each is
    handled once, every event is acknowledged, on both doors."""
    with trio.fail_after(TIMEOUT):
        async with running_app(door) as server, open_page(server.base_url, "/counter") as client:
            await client.synced()
            manager = server.app.front.manager
            assert manager is not None
            actor = manager.session(client.shell.session_id)
            host = actor.root
            assert host.instance is not None
            inc = host.instance.inc  # type: ignore[attr-defined]
            for i in range(20):
                if i % 2:
                    await client.click("#inc")
                else:  # the session is idle, waiting on its socket (fast door) or mailbox
                    actor.send_nowait(Call(host, host.generation, inc, (), "test"))
                    # no click follows until the post shows: the message alone wakes the loop
                    await client.wait_for(partial(_shows, client, str(i + 1)))
            await client.synced()
            await client.wait_for(lambda: client.text("#count") == "20")
            assert actor.events_handled == 10 and actor.dropped_events == 0


async def test_a_handling_stopped_in_one_task_is_finished_and_cancelled_in_another() -> None:
    """What the poller begins and cannot finish (it reaches ``_off_poller``) goes on in the
    session's task: its waits are that task's, and so is a cancellation."""
    from vango_actors.actor import _OFF_POLLER, _off_poller, _resume_here

    tasks: list[trio.lowlevel.Task] = []
    finished = []

    async def handling() -> None:
        tasks.append(trio.lowlevel.current_task())
        await _off_poller()
        tasks.append(trio.lowlevel.current_task())
        try:
            await trio.sleep_forever()
        finally:
            finished.append(True)

    with trio.fail_after(5):
        begun = handling()
        stop = None
        async with trio.open_nursery() as nursery:

            async def begin() -> None:  # the "poller": runs it to its first stop
                nonlocal stop
                stop = begun.send(None)

            nursery.start_soon(begin)
        assert stop is _OFF_POLLER

        async def carry_on() -> None:  # the session's task
            await _resume_here(begun)

        with trio.CancelScope() as scope:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(carry_on)
                await trio.testing.wait_all_tasks_blocked()
                scope.cancel()
        assert scope.cancelled_caught and finished == [True]
        assert tasks[0] is not tasks[1]  # begun in one task, carried on in another
