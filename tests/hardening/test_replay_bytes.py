"""The replay buffer is bounded by bytes as well as frames: big patches cannot pin memory."""

from __future__ import annotations

import trio
import trio.testing

from vango_actors import Element, h, open_runtime
from vango_actors.component import Component
from vango_actors.protocol import Patches
from vango_actors.scheduler import Call

from ..runtime.harness import Browser

BIG = 10_000  # characters of text per render: each PATCHES frame carries ~10 KB


class Big(Component):
    def mount(self, props: object) -> None:
        self.n = 0

    def render(self) -> Element:
        return h.main(h.p(str(self.n % 10) * BIG, id="text"), h.span(self.n, id="n"))


def _bump(actor: object) -> Call:
    root = actor.root  # type: ignore[attr-defined]

    def bump() -> None:
        root.instance.n += 1

    return Call(root, root.generation, bump, ())


async def _changes(rt: object, b: Browser, count: int) -> object:
    actor = rt.session(b.session_id)  # type: ignore[attr-defined]
    for _ in range(count):
        await actor.mailbox.send(_bump(actor))
    await trio.testing.wait_all_tasks_blocked()
    return actor


async def test_the_replay_buffer_keeps_at_most_replay_bytes() -> None:
    async with open_runtime(replay_bytes=35_000) as rt:
        b = await Browser.open(rt, Big)
        b.att.detach()  # type: ignore[union-attr]
        actor = await _changes(rt, b, 8)  # 8 frames of ~10 KB: only the last 3 fit
        replay = actor.replay  # type: ignore[attr-defined]
        sizes = [len(frame) for _, frame in replay]
        assert len(replay) == 3 and all(size > BIG for size in sizes)
        assert actor.replay_bytes == sum(sizes) <= 35_000  # type: ignore[attr-defined]
        assert [seq for seq, _ in replay] == [6, 7, 8]


async def test_a_resume_within_the_bytes_is_replayed_past_them_is_a_resync() -> None:
    async with open_runtime(replay_bytes=35_000) as rt:
        b = await Browser.open(rt, Big)
        b.att.detach()  # type: ignore[union-attr]
        await _changes(rt, b, 2)  # 2 frames, both kept
        await b.connect()
        assert [(type(f), f.seq) for f in b.pump()] == [(Patches, 1), (Patches, 2)]
        assert b.text("#n") == "2"
        b.att.detach()  # type: ignore[union-attr]
        await _changes(rt, b, 5)  # 5 more: frame 3 left the buffer
        await b.connect()
        (resync,) = b.pump()
        assert isinstance(resync, Patches) and resync.ops[0][:2] == [7, 0]
        assert b.text("#n") == "7"


async def test_a_frame_larger_than_the_bound_is_not_kept() -> None:
    async with open_runtime(replay_bytes=5_000) as rt:
        b = await Browser.open(rt, Big)
        b.att.detach()  # type: ignore[union-attr]
        actor = await _changes(rt, b, 2)
        assert len(actor.replay) == 0 and actor.replay_bytes == 0  # type: ignore[attr-defined]
        await b.connect()
        (resync,) = b.pump()
        assert resync.ops[0][:2] == [7, 0] and b.text("#n") == "2"
