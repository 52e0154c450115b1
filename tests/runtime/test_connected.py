"""``Component.connected``: once per instance, only when a live socket has the page (as
LiveView's ``connected?(socket)`` in mount): never for a page fetched but not connected."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import trio
import trio.testing

from vango_actors import Component, Element, SessionManager, h, open_runtime
from vango_actors.navigation import Destination
from vango_actors.protocol import CloseCode, Error, ErrorCode, Patches, Reload
from vango_actors.scheduler import Call
from vango_actors.testing import open_harness

from .harness import Browser

calls: list[str] = []


class Child(Component):
    def mount(self, props: Mapping[str, Any]) -> None:
        self.live = False
        calls.append(f"mount {props['name']}")

    def connected(self) -> None:
        calls.append(f"connected {self.props['name']}")
        self.live = True

    def render(self) -> Element:
        return h.span("live" if self.live else "static", id=self.props["name"])


class Page(Component):
    def mount(self, props: Mapping[str, Any]) -> None:
        self.live = False
        self.extra = False

    def connected(self) -> None:
        calls.append("connected page")
        self.live = True

    def more(self) -> None:
        self.extra = True

    def render(self) -> Element:
        return h.main(
            h.p("live" if self.live else "static", id="page"),
            h(Child, name="a"),
            h(Child, name="b") if self.extra else h.p("-"),
            h.button("more", id="more", on_click=self.more),
        )


def setup_function() -> None:
    calls.clear()


async def test_a_page_that_is_only_rendered_never_gets_connected(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async with open_runtime(unclaimed_ttl=30.0) as rt:
        created = await rt.create(Page, {})
        assert 'id="page">static<' in created.html
        await trio.sleep(31)  # the unclaimed session expires: unmounted, never connected
        assert not rt.has(created.session_id)
    assert calls == ["mount a"]


async def test_the_first_claim_runs_every_instance_hook_once_and_sends_what_they_changed(
    rt: SessionManager,
) -> None:
    b = Browser(rt, await rt.create(Page, {}))
    assert b.text("#page") == "static" and b.text("#a") == "static"
    await b.connect()
    frames = await b.settle()
    assert calls == ["mount a", "connected page", "connected a"]  # parents first
    assert b.text("#page") == "live" and b.text("#a") == "live"
    assert [type(f) for f in frames] == [Patches]  # one frame for both
    assert rt.session(b.session_id).connected


async def test_a_reconnect_or_a_replacing_connection_does_not_run_it_again(
    rt: SessionManager,
) -> None:
    b = await Browser.open(rt, Page)
    await b.settle()
    assert calls.count("connected page") == 1
    assert b.att is not None
    b.att.detach()
    welcome = await b.connect()  # a resume of the same session
    assert welcome.resumed
    await b.connect()  # another tab takes it over
    await b.settle()
    assert calls == ["mount a", "connected page", "connected a"]


async def test_a_child_mounted_in_a_live_session_gets_it_right_after_mount(
    rt: SessionManager,
) -> None:
    b = await Browser.open(rt, Page)
    await b.settle()
    calls.clear()
    await b.click("#more")
    assert calls == ["mount b", "connected b"]
    assert b.text("#b") == "live"  # its first render already shows it


async def test_the_hook_runs_before_the_first_event_even_with_a_full_mailbox() -> None:
    async with open_runtime(mailbox_size=4) as rt:
        b = Browser(rt, await rt.create(Page, {}))
        actor = rt.session(b.session_id)
        for n in range(5):  # the waiting loop takes one, four fill the mailbox
            actor.send_nowait(Call(None, 0, calls.append, (f"post {n}",)))
        await b.connect()
        await b.send(b.hid("#more"))
        await b.settle()
        assert calls.count("connected page") == 1
        assert calls.index("connected page") < calls.index("mount b")
        assert calls[-2:] == ["mount b", "connected b"]
        assert b.text("#b") == "live"


class Restartable(Component):
    def mount(self, props: Mapping[str, Any]) -> None:
        calls.append("mount")

    def connected(self) -> None:
        calls.append("connected")

    def boom(self) -> None:
        raise ValueError("boom")

    def render(self) -> Element:
        return h.button("boom", id="boom", on_click=self.boom)


async def test_an_instance_the_supervisor_restarts_gets_it_again(rt: SessionManager) -> None:
    b = await Browser.open(rt, Restartable)
    await b.settle()
    await b.click("#boom")
    assert [e.code for e in b.errors()] == [ErrorCode.COMPONENT_CRASHED]
    assert calls == ["mount", "connected", "mount", "connected"]


class AsyncHook(Component):
    def mount(self, props: Mapping[str, Any]) -> None:
        self.status = "rendered"

    async def connected(self) -> None:
        await trio.sleep(1)
        self.status = "connected"

    def render(self) -> Element:
        return h.p(self.status, id="status")


async def test_an_async_hook_is_awaited_and_its_changes_are_sent(
    rt: SessionManager, autojump_clock: trio.testing.MockClock
) -> None:
    b = await Browser.open(rt, AsyncHook)
    await trio.sleep(2)
    await b.settle()
    assert b.text("#status") == "connected"


class Fragile(Component):
    """Its hook fails for its first instance only."""

    failures = 1

    def connected(self) -> None:
        calls.append("fragile connected")
        if Fragile.failures:
            Fragile.failures -= 1
            raise RuntimeError("no presence service")
        self.ok = True

    def render(self) -> Element:
        return h.p("ok" if getattr(self, "ok", False) else "-", id="fragile")


class Pair(Component):
    def render(self) -> Element:
        return h.main(h(Fragile), h(Child, name="a"))


async def test_a_crash_in_the_hook_restarts_only_that_component(rt: SessionManager) -> None:
    Fragile.failures = 1
    b = await Browser.open(rt, Pair)
    await b.settle()
    (error,) = b.errors()
    assert error.code == ErrorCode.COMPONENT_CRASHED
    assert "Pair/Fragile crashed in connected" in error.message
    assert calls == ["mount a", "fragile connected", "fragile connected", "connected a"]
    assert b.text("#fragile") == "ok" and b.text("#a") == "live"  # the sibling is untouched


class AlwaysFails(Component):
    def connected(self) -> None:
        raise RuntimeError("down")

    def render(self) -> Element:
        return h.p("-", id="fails")


async def test_a_hook_that_always_fails_ends_the_session_without_a_reload_loop(
    rt: SessionManager,
) -> None:
    # RELOAD (as for a handler's crashes) made the client reload the page, whose socket ran
    # the failing hook again: every tab reloaded as fast as it could while the hook failed.
    # The page is told and closed with 1008, on which the client stops and asks for a reload.
    b = await Browser.open(rt, AlwaysFails)
    await b.settle()
    assert not any(isinstance(f, Reload) for f in b.frames)
    assert b.frames[-1] == Error(
        ErrorCode.COMPONENT_CRASHED,
        "AlwaysFails failed as the page connected: reload the page to try again",
    )
    assert b.att is not None and b.att.close_code == CloseCode.POLICY_VIOLATION
    assert len(rt) == 0  # the session ended


class Linker(Component):
    def connected(self) -> None:
        calls.append("linker connected")

    def render(self) -> Element:
        return h.a("next", href="/next", id="next", on_click=lambda: self.navigate("/next"))


class NextPage(Component):
    def connected(self) -> None:
        calls.append("next connected")

    def render(self) -> Element:
        return h.p("next", id="next-page")


async def test_the_page_a_live_navigation_mounts_gets_it() -> None:
    def navigator(url: str, info: object) -> Destination | None:
        return Destination(NextPage, {}, "/next", "Next") if url == "/next" else None

    async with open_harness(navigator=navigator) as harness:
        view = await harness.mount(Linker, {})
        assert calls == ["linker connected"]
        await view.click("#next")
        assert view.text("#next-page") == "next"
        assert calls == ["linker connected", "next connected"]


class Named(Component):
    """A component of before the hook existed, with its own ``connected`` state."""

    connected = False  # type: ignore[assignment]

    def mount(self, props: Mapping[str, Any]) -> None:
        self.connected = True

    def render(self) -> Element:
        return h.p("named", id="named")


async def test_a_component_using_the_name_for_data_is_not_called(rt: SessionManager) -> None:
    b = await Browser.open(rt, Named)
    await b.settle()
    assert b.errors() == [] and b.text("#named") == "named"
