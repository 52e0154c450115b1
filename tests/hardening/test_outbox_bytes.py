"""The outbox is bounded by bytes as well as frames: a slow reader of big answers to its events
gets a resync before the queued frames pass ``outbox_bytes``; a frame alone in the outbox always
fits. Server pushes do not get that far: past half the outbox they wait, and the client gets the
latest render once it takes frames."""

from __future__ import annotations

import trio
import trio.testing

from vango_actors import Element, h, open_runtime
from vango_actors.protocol import Patches

from ..runtime.harness import Browser
from .test_replay_bytes import BIG, Big, _bump


class Clicked(Big):
    def bump(self) -> None:
        self.n += 1

    def render(self) -> Element:
        return h.div(super().render(), h.button("+", id="bump", on_click=self.bump))


async def _queue_changes(rt: object, b: Browser, count: int) -> list[int]:
    """``count`` clicks answered by re-renders of ~10 KB each, nobody reading; the outbox
    bytes after each."""
    hid = b.hid("#bump")
    queued = []
    for _ in range(count):
        await b.send(hid)
        await trio.testing.wait_all_tasks_blocked()
        queued.append(rt.session_statistics(b.session_id).outbox_bytes)  # type: ignore[attr-defined]
    return queued


async def _push_changes(rt: object, b: Browser, count: int) -> list[int]:
    """``count`` server pushes (a post, a timer tick) that re-render ~10 KB each, nobody
    reading; the outbox bytes after each."""
    actor = rt.session(b.session_id)  # type: ignore[attr-defined]
    queued = []
    for _ in range(count):
        await actor.mailbox.send(_bump(actor))
        await trio.testing.wait_all_tasks_blocked()
        queued.append(rt.session_statistics(b.session_id).outbox_bytes)  # type: ignore[attr-defined]
    return queued


async def test_big_answers_past_outbox_bytes_are_coalesced_into_a_resync() -> None:
    async with open_runtime(outbox_bytes=35_000, max_resyncs=10) as rt:
        b = await Browser.open(rt, Clicked)
        queued = await _queue_changes(rt, b, 8)
        # 3 frames of ~10 KB fit; the 4th replaces them with one resync (~10 KB), and so on
        assert all(q <= 35_000 for q in queued)
        assert [q // BIG for q in queued] == [1, 2, 3, 1, 2, 3, 1, 2]
        stats = rt.session_statistics(b.session_id)
        assert stats.resyncs == 2 and stats.outbox_size == 2
        frames = b.pump()
        assert [type(f) for f in frames] == [Patches, Patches]
        assert frames[0].ops[0][:2] == [7, 0]  # the second resync, then the 8th change
        assert b.doc.select("#n")[0].text_content == "8"
        assert rt.session_statistics(b.session_id).outbox_bytes == 0


async def test_a_frame_larger_than_outbox_bytes_still_goes_out() -> None:
    async with open_runtime(outbox_bytes=5_000, max_resyncs=10) as rt:
        b = await Browser.open(rt, Clicked)
        queued = await _queue_changes(rt, b, 1)  # alone in the outbox: it fits, whatever its size
        assert queued[0] > BIG and rt.session_statistics(b.session_id).resyncs == 0
        await _queue_changes(rt, b, 1)  # the next one is coalesced with it into a resync
        assert rt.session_statistics(b.session_id).resyncs == 1
        (resync,) = b.pump()
        assert isinstance(resync, Patches) and resync.ops[0][:2] == [7, 0]
        assert b.doc.select("#n")[0].text_content == "2"


async def test_outbox_bytes_zero_leaves_only_the_frame_count() -> None:
    async with open_runtime(outbox_bytes=0, outbox_size=32) as rt:
        b = await Browser.open(rt, Clicked)
        queued = await _queue_changes(rt, b, 8)
        assert queued[-1] > 8 * BIG and rt.session_statistics(b.session_id).resyncs == 0
        assert [f.seq for f in b.pump() if isinstance(f, Patches)] == list(range(1, 9))


async def test_big_pushes_wait_past_half_the_outbox_bytes_and_the_latest_goes_out() -> None:
    async with open_runtime(outbox_bytes=35_000, max_resyncs=10) as rt:
        b = await Browser.open(rt, Big)
        queued = await _push_changes(rt, b, 8)
        # 2 frames of ~10 KB take half the bytes: the next 6 changes wait, no resync
        assert [q // BIG for q in queued] == [1, 2, 2, 2, 2, 2, 2, 2]
        assert rt.session_statistics(b.session_id).resyncs == 0
        frames = await b.settle()  # taking them lets the session send the latest render
        assert [f.seq for f in frames if isinstance(f, Patches)] == [1, 2]
        frames = await b.settle()
        assert [f.seq for f in frames if isinstance(f, Patches)] == [3]
        assert frames[0].ops[0][0] != 7 and b.doc.select("#n")[0].text_content == "8"
        assert await b.settle() == [] and rt.session_statistics(b.session_id).outbox_bytes == 0
