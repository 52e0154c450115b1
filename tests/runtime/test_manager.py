"""The session lifecycle, transition by transition, and the manager's limits and drain."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest
import trio
import trio.testing

from vango_actors import (
    Component,
    Element,
    RuntimeClosed,
    SessionLimitReached,
    SessionManager,
    SessionNotFound,
    SessionState,
    h,
    open_runtime,
    pubsub,
)
from vango_actors.lifecycle import TRANSITIONS, IllegalTransition, Trigger, next_state
from vango_actors.protocol import CloseCode, Event, GoAway, Patches, Welcome

from .harness import Browser
from .pages import Clock, Counter

P, L, D, E = SessionState.PARKED, SessionState.LIVE, SessionState.DISCONNECTED, SessionState.ENDED


def _state(rt: SessionManager, b: Browser) -> SessionState:
    return rt.session(b.session_id).state


def test_the_lifecycle_table() -> None:
    assert TRANSITIONS == {
        (P, Trigger.ATTACH): L,
        (P, Trigger.EXPIRE): E,
        (P, Trigger.END): E,
        (L, Trigger.ATTACH): L,
        (L, Trigger.DETACH): D,
        (L, Trigger.END): E,
        (D, Trigger.ATTACH): L,
        (D, Trigger.EXPIRE): E,
        (D, Trigger.END): E,
    }
    with pytest.raises(IllegalTransition) as info:
        next_state(L, Trigger.EXPIRE)
    assert str(info.value) == (
        "session lifecycle: 'expire' is not allowed when live; allowed: ['attach', 'detach', 'end']"
    )


async def test_create_parks_and_attach_makes_live(rt: SessionManager) -> None:
    created = await rt.create(Counter)
    assert len(created.session_id) == 32  # 24 random bytes, urlsafe base64
    assert 'id="count">0</span>' in created.html
    b = Browser(rt, created)
    assert _state(rt, b) is P and rt.statistics().parked == 1
    assert await b.connect() == Welcome(1, 0, 0, 15000, False)
    assert _state(rt, b) is L and rt.statistics().live == 1


async def test_parked_session_expires_after_the_unclaimed_ttl(
    rt: SessionManager, autojump_clock: trio.testing.MockClock
) -> None:
    b = Browser(rt, await rt.create(Counter))
    await trio.sleep(29.999)
    assert _state(rt, b) is P
    await trio.sleep(0.001)
    await trio.testing.wait_all_tasks_blocked()
    with pytest.raises(SessionNotFound) as info:
        await b.connect()
    assert info.value.reason == "expired"
    assert str(info.value) == (
        f"session {b.session_id!r} not found (expired): not claimed within 30.0 s (unclaimed_ttl)"
    )
    assert rt.statistics().parked == 0


async def test_detach_keeps_state_for_the_grace_period(
    rt: SessionManager, autojump_clock: trio.testing.MockClock
) -> None:
    b = await Browser.open(rt, Counter)
    await b.click("#inc")
    b.att.detach()  # type: ignore[union-attr]
    assert _state(rt, b) is D and rt.statistics().disconnected == 1
    await trio.sleep(59.9)
    welcome = await b.connect()
    assert welcome == Welcome(1, 1, 1, 15000, True)
    assert _state(rt, b) is L
    await b.click("#inc")
    assert b.text("#count") == "2"  # state kept
    b.att.detach()  # type: ignore[union-attr]
    await trio.sleep(60)
    await trio.testing.wait_all_tasks_blocked()
    with pytest.raises(SessionNotFound, match=r"\(expired\): no connection within 60.0 s"):
        await b.connect()


async def test_one_timer_expires_each_session_at_its_own_deadline(
    rt: SessionManager, autojump_clock: trio.testing.MockClock
) -> None:
    """Parked and disconnected sessions share the manager's one timer (no cancel scope per
    waiting session): each ends at its own deadline; a session that moved since is spared."""
    first = Browser(rt, await rt.create(Counter))  # due at 30
    await trio.sleep(10)
    second = Browser(rt, await rt.create(Counter))  # due at 40
    third = await Browser.open(rt, Counter)  # live: its parked deadline (40) no longer counts
    third.att.detach()  # type: ignore[union-attr]  # due at 70
    await trio.sleep(20)
    await trio.testing.wait_all_tasks_blocked()
    assert not rt.has(first.session_id) and rt.has(second.session_id)
    await trio.sleep(10)
    await trio.testing.wait_all_tasks_blocked()
    assert not rt.has(second.session_id) and rt.has(third.session_id)
    assert _state(rt, third) is D
    await trio.sleep(30)
    await trio.testing.wait_all_tasks_blocked()
    assert len(rt) == 0 and rt._nursery.child_tasks == set()
    assert trio.current_time() == pytest.approx(70)


async def test_a_second_connection_replaces_the_first(rt: SessionManager) -> None:
    b = await Browser.open(rt, Counter)
    await b.click("#inc")
    old = b.att
    assert old is not None
    assert (await b.connect()).resumed  # the same tab on a new socket
    assert [frame async for frame in old.outbox] == []  # the old outbox has ended
    assert (old.close_code, old.close_reason) == (
        CloseCode.REPLACED,
        "another connection claimed the session",
    )
    await old.deliver(Event(2, b.hid("#inc"), "click", {}))  # ignored: not the connection
    await b.settle()
    assert b.text("#count") == "1"
    await b.click("#inc")
    assert b.text("#count") == "2"


async def test_reconnect_replays_missed_frames(rt: SessionManager) -> None:
    b = await Browser.open(rt, Counter)
    b.att.detach()  # type: ignore[union-attr]
    actor = rt.session(b.session_id)
    for _ in range(3):  # changes while disconnected (e.g. pub/sub)
        await actor.mailbox.send(_call(actor))
    await trio.testing.wait_all_tasks_blocked()
    await b.connect()
    assert [type(f) for f in b.pump()] == [Patches, Patches, Patches]
    assert b.text("#count") == "3" and b.seq == 3


async def test_reconnect_past_the_replay_buffer_gets_a_resync() -> None:
    async with open_runtime(replay_size=2) as rt:
        b = await Browser.open(rt, Counter)
        b.att.detach()  # type: ignore[union-attr]
        actor = rt.session(b.session_id)
        for _ in range(3):
            await actor.mailbox.send(_call(actor))
        await trio.testing.wait_all_tasks_blocked()
        await b.connect()
        (resync,) = b.pump()
        assert isinstance(resync, Patches) and resync.seq == 4
        assert resync.ops[0][:2] == [7, 0] and len(resync.ops) == 1
        assert b.text("#count") == "3"


def _call(actor: object) -> object:
    from vango_actors.scheduler import Call

    root = actor.root  # type: ignore[attr-defined]

    def bump() -> None:
        root.instance.count += 1

    return Call(root, root.generation, bump, ())


async def test_the_session_limit_is_a_clear_error() -> None:
    async with open_runtime(max_sessions=2) as rt:
        await rt.create(Counter)
        await rt.create(Counter)
        with pytest.raises(SessionLimitReached) as info:
            await rt.create(Counter)
        assert str(info.value) == (
            "cannot create a session: the limit of 2 sessions (max_sessions) is reached"
        )


async def test_unknown_session(rt: SessionManager) -> None:
    with pytest.raises(SessionNotFound) as info:
        b = Browser(rt, await rt.create(Counter))
        b.session_id = "nope"
        await b.connect()
    assert str(info.value) == "session 'nope' not found (unknown): no such session here"


async def test_aclose_drains_1000_live_sessions_within_its_deadline(
    autojump_clock: trio.testing.MockClock,
) -> None:
    unmounted = 0

    class Tracked(Clock):
        def unmount(self) -> None:
            nonlocal unmounted
            unmounted += 1

    async with open_runtime() as rt:
        browsers = [await Browser.open(rt, Tracked) for _ in range(1000)]
        await trio.sleep(1.5)
        start = trio.current_time()
        await rt.aclose(deadline=5.0)
        assert trio.current_time() - start < 5.0
        assert unmounted == 1000 and len(rt) == 0
        assert rt._nursery.child_tasks == set()
        for b in browsers[:3]:
            frames = b.pump()
            assert frames[-1] == GoAway("server shutting down")
            assert b.att is not None and b.att.close_code == CloseCode.GOING_AWAY
        with pytest.raises(RuntimeClosed, match="the runtime is shutting down"):
            await rt.create(Counter)
        stats = rt.statistics()
        assert (stats.live, stats.total_created) == (0, 1000)


async def test_aclose_cancels_what_overruns_the_deadline(
    autojump_clock: trio.testing.MockClock,
) -> None:
    class Stubborn(Counter):
        async def unmount(self) -> None:
            await trio.sleep(100)

    async with open_runtime() as rt:
        await rt.create(Stubborn)
        start = trio.current_time()
        await rt.aclose(deadline=2.0)
        await trio.testing.wait_all_tasks_blocked()
        assert trio.current_time() - start == 2.0
        assert len(rt) == 0


async def test_a_cancelled_program_still_unmounts_every_component_and_its_subscriptions() -> None:
    # The program running the runtime is cancelled (its nursery, Ctrl+C): the first async
    # unmount that awaited stopped every other unmount, so the page's unmount() never ran and
    # its pub/sub subscription stayed in the hub, keeping the dead session's components alive
    ran: list[str] = []

    class Slow(Component):
        async def unmount(self) -> None:
            ran.append(f"Slow {self.props['k']}")
            await trio.sleep(1)  # cancelled here, as any trio clean-up that does not shield
            ran.append("never")

        def render(self) -> Element:
            return h.span(self.props["k"])

    class Page(Component):
        def mount(self, props: Mapping[str, Any]) -> None:
            self.subscribe("news", self.on_news)

        def on_news(self, message: Any) -> None:
            pass

        def unmount(self) -> None:
            ran.append("Page")

        def render(self) -> Element:
            return h.div(h(Slow, k=1), h(Slow, k=2))

    hub = pubsub.current().hub
    with trio.CancelScope() as program:
        async with open_runtime() as rt:
            await Browser.open(rt, Page)
            assert hub.subscribers("news") == 1
            program.cancel()
            await trio.sleep_forever()
    assert ran == ["Slow 1", "Slow 2", "Page"]
    assert hub.subscribers("news") == 0


async def test_statistics_count_the_work(rt: SessionManager) -> None:
    b = await Browser.open(rt, Counter)
    await b.click("#inc")
    await b.send(12345)
    await b.settle()
    stats = rt.statistics()
    assert (stats.events_handled, stats.dropped_events, stats.patches_sent) == (2, 1, 2)
    assert stats.bytes_sent == sum(len(f) for f in _raw(b))
    session = rt.session_statistics(b.session_id)
    assert (session.state, session.seq, session.ack, session.mailbox_size) == ("live", 2, 2, 0)


def _raw(b: Browser) -> list[bytes]:
    from vango_actors.protocol import encode

    return [encode(f) for f in b.frames]
