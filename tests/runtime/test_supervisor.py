"""Supervision: restart one component, keep its siblings, escalate past the budget."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import pytest
import trio
import trio.testing

from vango_actors import (
    Component,
    Element,
    MountError,
    RestartPolicy,
    SessionManager,
    SessionNotFound,
    h,
    open_runtime,
    pubsub,
)
from vango_actors.actor import SessionActor
from vango_actors.protocol import CloseCode, Error, ErrorCode, Patches, Reload
from vango_actors.supervisor import handleable

from .harness import Browser
from .pages import Bomb, Counter, Panel


async def test_a_crashing_handler_restarts_only_its_component(
    rt: SessionManager, caplog: pytest.LogCaptureFixture
) -> None:
    b = await Browser.open(rt, Panel)
    await b.click("#inc")
    await b.click("#inc")
    old_bomb = b.hid("#bomb")
    frames = await b.click("#boom")
    # outside dev mode the page learns the exception's type, not its text (the log has it)
    message = "Panel/Bomb crashed in on_click handler and was restarted: ValueError"
    assert frames[0] == Error(ErrorCode.COMPONENT_CRASHED, message)
    patch = frames[1]
    assert isinstance(patch, Patches)
    assert patch.ops[0][:2] == [7, old_bomb]  # REPLACE of the crashed component's old root
    assert b.hid("#bomb") != old_bomb and Bomb.mounts == 2
    assert b.text("#count") == "2"  # the sibling kept its state
    assert "Panel/Bomb crashed in on_click handler, restarting: ValueError: boom" in caplog.text
    assert b.session_id in caplog.text
    assert rt.statistics().restarts == 1


async def test_the_fourth_crash_within_the_window_ends_the_session_with_reload(
    rt: SessionManager, autojump_clock: trio.testing.MockClock
) -> None:
    b = await Browser.open(rt, Panel)
    for _ in range(3):
        await b.click("#boom")
        await trio.sleep(1)
    assert len(b.errors()) == 3 and Bomb.mounts == 4
    frames = await b.click("#boom")
    assert len(frames) == 1 and isinstance(frames[0], Reload)
    assert frames[0].reason.startswith("Panel/Bomb crashed 4 times within 5.0 s")
    assert b.att is not None and b.att.close_code == CloseCode.SESSION_GONE
    await trio.testing.wait_all_tasks_blocked()
    with pytest.raises(SessionNotFound, match=r"\(ended\): Panel/Bomb crashed 4 times"):
        await b.connect()


async def test_crashes_spread_beyond_the_window_keep_restarting(
    rt: SessionManager, autojump_clock: trio.testing.MockClock
) -> None:
    b = await Browser.open(rt, Panel)
    for _ in range(8):
        await b.click("#boom")
        await trio.sleep(2)  # 3 crashes never fit in 5 s
    assert Bomb.mounts == 9
    assert not any(isinstance(f, Reload) for f in b.frames)


async def test_a_crash_repeated_by_clicks_logs_its_traceback_once_per_period(
    rt: SessionManager, autojump_clock: trio.testing.MockClock, caplog: pytest.LogCaptureFixture
) -> None:
    # A user clicking a button whose handler always raises logged a full traceback per click:
    # with a lenient restart policy, a log flood one user could drive
    class Lenient(Bomb):
        restart_policy = RestartPolicy(max_restarts=1000, within=1.0)

    class Page(Component):
        def render(self) -> Element:
            return h.div(h(Lenient))

    b = await Browser.open(rt, Page)
    with caplog.at_level(logging.ERROR, logger="vango_actors"):
        for _ in range(5):
            await b.click("#boom")
        await trio.sleep(11)
        await b.click("#boom")
    crashes = [r for r in caplog.records if "crashed in on_click handler" in r.getMessage()]
    assert len(crashes) == 6  # every crash still has its line
    assert [r.exc_info is not None for r in crashes] == [True, False, False, False, False, True]
    assert "traceback omitted" in crashes[1].getMessage()


async def test_restart_policy_per_component_class(rt: SessionManager) -> None:
    class Fragile(Bomb):
        restart_policy = RestartPolicy(max_restarts=0, within=1.0)

    class Page(Component):
        def render(self) -> Element:
            return h.div(h(Fragile))

    b = await Browser.open(rt, Page)
    frames = await b.click("#boom")
    assert isinstance(frames[0], Reload)


async def test_a_bad_render_result_is_a_clear_crash(
    rt: SessionManager, caplog: pytest.LogCaptureFixture
) -> None:
    class Twice(Counter):
        def render(self) -> Element:
            if self.count:
                return [super().render(), super().render()]  # type: ignore[return-value]
            return super().render()

    class Page(Component):
        def render(self) -> Element:
            return h.main(h(Twice))

    b = await Browser.open(rt, Page)
    await b.click("#inc")
    assert b.errors()[0].message == "Page/Twice crashed in render and was restarted: RenderError"
    assert (
        "RenderError: Page/Twice.render() must return exactly one Element, got list" in caplog.text
    )
    assert b.text("#count") == "0"  # the fresh instance


async def test_root_mount_failure_makes_create_raise(rt: SessionManager) -> None:
    class Broken(Component):
        def mount(self, props: Mapping[str, Any]) -> None:
            raise KeyError("user")

    with pytest.raises(MountError) as info:
        await rt.create(Broken)
    assert str(info.value) == "cannot create session: Broken failed to mount: KeyError: 'user'"
    assert isinstance(info.value.__cause__, KeyError)
    assert len(rt) == 0 and rt.statistics().parked == 0


async def test_a_failed_create_unmounts_what_did_mount(rt: SessionManager) -> None:
    # A child whose mount fails past the budget makes create raise. Its sibling had mounted
    # and subscribed: it was never unmounted, so its subscription stayed in the hub, feeding
    # the dead session's mailbox; once that was full (64 messages), every publish on the
    # topic raised "Nursery is closed to new arrivals" (a backlog task for a dead session).
    unmounted: list[str] = []

    class Listener(Component):
        def mount(self, props: Mapping[str, Any]) -> None:
            self.subscribe("room", self.heard)

        def heard(self, message: object) -> None:
            pass

        def unmount(self) -> None:
            unmounted.append("Listener")

        def render(self) -> Element:
            return h.p("listening")

    class Down(Component):
        def mount(self, props: Mapping[str, Any]) -> None:
            raise ConnectionError("database down")

        def unmount(self) -> None:
            unmounted.append("Down")

        def render(self) -> Element:
            return h.p("never")

    class Page(Component):
        def render(self) -> Element:
            return h.main(h(Listener), h(Down))

    with pytest.raises(MountError, match="Page/Down crashed 4 times"):
        await rt.create(Page)
    assert sorted(unmounted) == ["Down"] * 4 + ["Listener"]  # 3 restarts, then the end
    broker = pubsub.current()
    assert broker.hub.subscribers("room") == 0
    for n in range(100):
        await broker.publish("room", n)


async def test_a_first_render_with_a_value_html_cannot_hold_makes_create_raise(
    rt: SessionManager,
) -> None:
    # the tree builds (attribute values are checked when written out), the page does not:
    # create hung for ever, the session task gone, the page request with it
    class Unwritable(Component):
        def render(self) -> Element:
            return h.div(title=["not", "text"])

    with trio.fail_after(5), pytest.raises(MountError, match="got list"):
        await rt.create(Unwritable)
    assert len(rt) == 0 and rt.statistics().parked == 0


async def test_dev_mode_error_frames_carry_the_traceback() -> None:
    async with open_runtime(dev=True) as rt:
        b = await Browser.open(rt, Panel)
        await b.click("#boom")
        assert "Traceback (most recent call last)" in b.errors()[0].message
        assert 'raise ValueError("boom")' in b.errors()[0].message


async def test_a_runtime_bug_ends_only_that_session(
    rt: SessionManager, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    a = await Browser.open(rt, Counter)
    b = await Browser.open(rt, Counter)
    actor = rt.session(a.session_id)

    send_output = SessionActor._send_output

    def broken(self: SessionActor, answer_event: bool) -> None:
        if self is actor:
            raise AssertionError("runtime bug")
        send_output(self, answer_event)

    monkeypatch.setattr(SessionActor, "_send_output", broken)
    await a.click("#inc")
    assert a.att is not None and a.att.close_code == CloseCode.INTERNAL_ERROR
    assert "ended by a runtime error: AssertionError: runtime bug" in caplog.text
    await b.click("#inc")
    assert b.text("#count") == "1"  # the other session, and the manager, go on
    assert len(rt) == 1


def test_cancellation_is_never_swallowed() -> None:
    cancelled = KeyboardInterrupt()
    group = BaseExceptionGroup("mixed", [ValueError("x"), cancelled])
    with pytest.raises(BaseExceptionGroup) as info:
        handleable(group)
    assert info.value.exceptions == (cancelled,)
    with pytest.raises(KeyboardInterrupt):
        handleable(cancelled)
    error = ValueError("plain")
    assert handleable(error) is error


async def test_unmount_errors_are_logged_not_fatal(
    rt: SessionManager, caplog: pytest.LogCaptureFixture
) -> None:
    class Sticky(Bomb):
        def unmount(self) -> None:
            raise OSError("disk gone")

    class Page(Component):
        def render(self) -> Element:
            return h.div(h(Sticky))

    b = await Browser.open(rt, Page)
    await b.click("#boom")
    assert "Page/Sticky raised in unmount (ignored): OSError: disk gone" in caplog.text
    assert caplog.records[0].levelno == logging.ERROR
