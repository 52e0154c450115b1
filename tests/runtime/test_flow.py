"""Bounded queues: a full mailbox blocks the sender, a slow reader is resynced, then detached."""

from __future__ import annotations

import trio
import trio.testing

from vango_actors import SessionState, open_runtime
from vango_actors.protocol import CloseCode, Patches, Welcome

from .harness import Browser
from .pages import Clock, Counter, SlowLog


async def test_a_full_mailbox_blocks_deliver(autojump_clock: trio.testing.MockClock) -> None:
    async with open_runtime(mailbox_size=2) as rt:
        b = await Browser.open(rt, SlowLog)
        log = b.hid("#log")
        await b.send(log, payload={"label": "busy", "delay": 10})
        await trio.testing.wait_all_tasks_blocked()  # the actor is inside the slow handler
        await b.send(log, payload={"label": "1"})
        await b.send(log, payload={"label": "2"})  # the mailbox is full now
        delivered = trio.Event()

        async def third() -> None:
            await b.send(log, payload={"label": "3"})
            delivered.set()

        async with trio.open_nursery() as nursery:
            nursery.start_soon(third)
            await trio.testing.wait_all_tasks_blocked()
            assert not delivered.is_set()
            assert rt.session_statistics(b.session_id).mailbox_size == 2
            start = trio.current_time()
            await delivered.wait()
            assert trio.current_time() - start == 10  # released when the handler finished
        await b.settle()
        assert [li.text_content for li in b.doc.select("#log li")] == ["busy", "1", "2", "3"]


async def test_a_slow_reader_gets_the_latest_render_instead_of_a_backlog(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async with open_runtime(outbox_size=4) as rt:
        b = await Browser.open(rt, Clock)
        await trio.sleep(6.5)  # 6 ticks, nobody reading: frames 1-2 take half the outbox
        await trio.testing.wait_all_tasks_blocked()
        assert rt.session_statistics(b.session_id).outbox_size == 2  # ticks 3-6 wait
        frames = b.pump()
        assert [f.seq for f in frames if isinstance(f, Patches)] == [1, 2]
        frames = await b.settle()  # the client took frames: one render of ticks 3-6
        assert [f.seq for f in frames if isinstance(f, Patches)] == [3]
        assert isinstance(frames[0], Patches) and frames[0].ops[0][0] != 7  # a diff
        assert b.text("#clock") == "6"
        assert rt.session_statistics(b.session_id).resyncs == 0


async def test_answers_to_a_slow_reader_become_one_resync_instead_of_a_backlog() -> None:
    async with open_runtime(outbox_size=4) as rt:
        b = await Browser.open(rt, Counter)
        inc = b.hid("#inc")
        for _ in range(6):  # nobody reading: answers 1-4 fill the outbox
            await b.send(inc)
            await trio.testing.wait_all_tasks_blocked()
        frames = b.pump()  # 1-5 dropped, 6 is the resync, 7 the 6th answer
        assert [f.seq for f in frames if isinstance(f, Patches)] == [6, 7]
        resync = frames[0]
        assert isinstance(resync, Patches) and resync.ops[0][:2] == [7, 0]
        assert b.text("#count") == "6" and b.acked == 6
        assert rt.session_statistics(b.session_id).resyncs == 1


async def test_the_resync_keeps_a_queued_welcome() -> None:
    async with open_runtime(outbox_size=4) as rt:
        b = Browser(rt, await rt.create(Counter))
        assert b.att is None
        b.att = await rt.attach(b.session_id, _hello(b))
        inc = b.hid("#inc")
        for _ in range(4):  # WELCOME + answers 1-3 fill the outbox; the 4th overflows it
            await b.send(inc)
            await trio.testing.wait_all_tasks_blocked()
        frames = b.pump()
        assert isinstance(frames[0], Welcome)
        assert b.text("#count") == "4"
        assert rt.session_statistics(b.session_id).resyncs == 1


def _hello(b: Browser) -> object:
    from vango_actors.protocol import Hello

    return Hello(1, b.session_id, "", 0, 0, "/")


async def test_a_reader_that_never_catches_up_is_detached_with_state_kept() -> None:
    async with open_runtime(outbox_size=4, max_resyncs=2) as rt:
        b = await Browser.open(rt, Counter)
        att = b.att
        assert att is not None
        inc = b.hid("#inc")
        for _ in range(30):  # events answered, never read
            await b.send(inc)
            await trio.testing.wait_all_tasks_blocked()
        assert att.close_code == CloseCode.INTERNAL_ERROR
        assert att.close_reason == "outbox overflow: the client read too slowly (2 resyncs)"
        assert rt.session(b.session_id).state is SessionState.DISCONNECTED
        b.seq = 0
        await b.connect()  # a reconnect gets a resync and the live state
        b.pump()
        assert b.text("#count") == str(b.acked)


async def test_pushes_to_a_reader_that_never_reads_wait_with_the_state_kept(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """Server pushes never overflow the outbox: they wait (the door ends a connection that
    stopped reading: stall timeout, heartbeat) and the session keeps its state."""
    async with open_runtime(outbox_size=4, max_resyncs=2) as rt:
        b = await Browser.open(rt, Clock)
        await trio.sleep(30)
        await trio.testing.wait_all_tasks_blocked()
        stats = rt.session_statistics(b.session_id)
        assert stats.state == "live" and stats.outbox_size == 2 and stats.resyncs == 0
        b.att.detach()  # type: ignore[union-attr]  # the door gave up on the socket
        b.seq = 0
        await b.connect()  # a reconnect gets the frames it missed, then the latest render
        await b.settle()
        await b.settle()
        assert b.text("#clock") == "30"


async def test_a_counter_frame_is_small(autojump_clock: trio.testing.MockClock) -> None:
    async with open_runtime() as rt:
        b = await Browser.open(rt, Counter)
        await b.click("#inc")
        assert rt.statistics().bytes_sent < 40


async def test_overflows_the_client_caught_up_after_do_not_add_up_to_a_disconnect() -> None:
    """``max_resyncs`` counts overflows in a row: a client that took everything since the
    last one (an occasional burst on a long-lived page) starts again from zero."""
    async with open_runtime(outbox_size=4, max_resyncs=1) as rt:
        b = await Browser.open(rt, Counter)
        att = b.att
        inc = b.hid("#inc")
        for burst in range(1, 6):
            for _ in range(6):  # nobody reading: the answers overflow the outbox once
                await b.send(inc)
                await trio.testing.wait_all_tasks_blocked()
            await b.settle()  # then the client reads everything
            assert rt.session_statistics(b.session_id).resyncs == burst
            assert b.att is att and att is not None and att.close_code == CloseCode.NORMAL
        assert rt.session(b.session_id).state is SessionState.LIVE
        assert b.text("#count") == "30"
