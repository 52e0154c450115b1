"""Timers and background work: virtual-time ticks, scoped to the instance, no leaked tasks."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pytest
import trio
import trio.testing

from vango_actors import Component, Element, SessionManager, h, pubsub
from vango_actors.protocol import Error, Patches

from .harness import Browser
from .pages import Clock, ClockHolder


async def test_every_ticks_at_the_right_virtual_times(
    rt: SessionManager, autojump_clock: trio.testing.MockClock
) -> None:
    b = await Browser.open(rt, Clock)
    start = trio.current_time()
    await trio.sleep(3.5)
    await b.settle()
    assert [t - start for t in Clock.ticks] == [1.0, 2.0, 3.0]
    assert b.text("#clock") == "3"
    assert [p.ops for p in b.patches()] == [[[0, b.hid("#clock"), 0, str(n)]] for n in (1, 2, 3)]
    assert [p.ack for p in b.patches()] == [0, 0, 0]  # no event answered


async def test_ticks_while_parked_are_replayed_on_attach(
    rt: SessionManager, autojump_clock: trio.testing.MockClock
) -> None:
    b = Browser(rt, await rt.create(Clock))
    await trio.sleep(2.5)
    welcome = await b.connect()
    assert welcome.seq == 2 and not welcome.resumed
    b.pump()
    assert b.text("#clock") == "2" and b.seq == 2


async def test_timers_stop_when_the_component_is_unmounted(
    rt: SessionManager, autojump_clock: trio.testing.MockClock
) -> None:
    b = await Browser.open(rt, ClockHolder)
    await trio.sleep(2.5)
    await b.click("#hide")
    assert b.doc.select("#clock") == []
    await trio.sleep(10)
    assert len(Clock.ticks) == 2
    assert _session_tasks(rt) == ["_run_session"]  # only the actor itself


async def test_timers_restart_with_a_restarted_component(
    rt: SessionManager, autojump_clock: trio.testing.MockClock
) -> None:
    b = await Browser.open(rt, Clock)
    await trio.sleep(1.5)
    await trio.testing.wait_all_tasks_blocked()
    await b.click("#fail")
    assert b.text("#clock") == "0"  # fresh instance
    await trio.sleep(1)
    await b.settle()
    # the old timer (due at t=2) died with the old instance; the new one started at 1.5
    assert [t - Clock.ticks[0] for t in Clock.ticks] == [0.0, 1.5]
    assert _session_tasks(rt) == ["_run", "_run_session"]  # the actor, one timer


async def test_no_task_outlives_its_session(
    rt: SessionManager, autojump_clock: trio.testing.MockClock
) -> None:
    b = await Browser.open(rt, Clock)
    await trio.sleep(1.5)
    b.att.detach()  # type: ignore[union-attr]
    await trio.sleep(60)  # grace period over
    await trio.testing.wait_all_tasks_blocked()
    assert len(rt) == 0
    assert rt._nursery.child_tasks == set()
    ticks = len(Clock.ticks)
    await trio.sleep(10)
    assert len(Clock.ticks) == ticks


async def test_a_tick_slower_than_its_interval_does_not_pile_up_ahead_of_the_users_clicks(
    rt: SessionManager, autojump_clock: trio.testing.MockClock
) -> None:
    # every(1.0) whose async callback takes 1.5 s (a slow backend) queued a tick each second
    # in the mailbox the events share: after two minutes a click waited behind 40 ticks (60 s,
    # growing until the mailbox was full); now a timer has at most one tick in the mailbox
    # and skips the ticks it missed meanwhile
    class Refresher(Component):
        def mount(self, props: Mapping[str, Any]) -> None:
            self.ticks = 0
            self.clicks = 0
            self.every(1.0, self.refresh)

        async def refresh(self) -> None:
            await trio.sleep(1.5)
            self.ticks += 1

        def click(self) -> None:
            self.clicks += 1

        def render(self) -> Element:
            return h.div(
                h.span(self.ticks, id="ticks"), h.button(self.clicks, id="b", on_click=self.click)
            )

    b = await Browser.open(rt, Refresher)
    await trio.sleep(120)
    start = trio.current_time()
    seq = await b.send(b.hid("#b"))
    while b.acked < seq:
        await trio.sleep(0.1)
        b.pump()
    assert trio.current_time() - start <= 1.6  # at most the tick running now
    assert b.text("#b") == "1"
    assert 55 <= int(b.text("#ticks")) <= 60  # every 2 s: one ran 1.5 s, the next was missed


async def test_after_fires_once_and_can_be_cancelled(
    rt: SessionManager, autojump_clock: trio.testing.MockClock
) -> None:
    class Delayed(Component):
        def mount(self, props: Mapping[str, Any]) -> None:
            self.state = "waiting"
            self.after(2, lambda: setattr(self, "state", "fired"))
            self.after(1, lambda: setattr(self, "state", "never")).cancel()

        def render(self) -> Element:
            return h.p(self.state, id="state")

    b = await Browser.open(rt, Delayed)
    await trio.sleep(1.5)
    assert await b.settle() == [] and b.text("#state") == "waiting"
    await trio.sleep(1)
    await b.settle()
    assert b.text("#state") == "fired"


async def test_spawn_delivers_its_result_through_the_mailbox(
    rt: SessionManager, autojump_clock: trio.testing.MockClock
) -> None:
    class Loader(Component):
        def mount(self, props: Mapping[str, Any]) -> None:
            self.data = "loading"
            self.spawn(self.fetch, "users", on_done=self.loaded)

        async def fetch(self, what: str) -> str:
            await trio.sleep(3)
            return f"{what}: 3"

        def loaded(self, result: str) -> None:
            self.data = result

        def render(self) -> Element:
            return h.p(self.data, id="data")

    b = await Browser.open(rt, Loader)
    await trio.sleep(3)
    frames = await b.settle()
    assert frames == [Patches(1, 0, [[0, b.hid("#data"), 0, "users: 3"]])]


async def test_failing_background_work_restarts_the_component(
    rt: SessionManager, autojump_clock: trio.testing.MockClock
) -> None:
    class Flaky(Component):
        mounts = 0

        def mount(self, props: Mapping[str, Any]) -> None:
            Flaky.mounts += 1
            if Flaky.mounts == 1:
                self.spawn(self.work)

        async def work(self) -> None:
            await trio.sleep(1)
            raise ConnectionError("backend down")

        def render(self) -> Element:
            return h.p(Flaky.mounts, id="mounts")

    b = await Browser.open(rt, Flaky)
    await trio.sleep(1)
    await b.settle()
    assert b.errors() == [
        Error(8, "Flaky crashed in background task and was restarted: ConnectionError")
    ]
    assert b.text("#mounts") == "2"


class Inbox(Component):
    """Shows the items posted to it; registers itself in ``props["kept"]`` when it mounts."""

    def mount(self, props: Mapping[str, Any]) -> None:
        self.items: list[str] = []
        props["kept"].append(self)

    def receive(self, item: str) -> None:
        self.items.append(item)

    def render(self) -> Element:
        return h.ul([h.li(i) for i in self.items], id="inbox")


async def test_post_runs_a_call_in_the_session(rt: SessionManager) -> None:
    kept: list[Inbox] = []
    b = await Browser.open(rt, Inbox, {"kept": kept})
    await kept[0].post(kept[0].receive, "hello")  # e.g. from a pub/sub task
    await b.settle()
    assert b.text("#inbox") == "hello"


async def test_a_post_to_a_component_that_left_or_whose_session_ended_is_dropped(
    rt: SessionManager, autojump_clock: trio.testing.MockClock
) -> None:
    # A service or pub/sub task that keeps components cannot know one just left the page:
    # post raised VangoError ("not mounted in a session") in that task, though the message
    # was merely for an instance that is gone (timer ticks for it are dropped)
    class Holder(Component):
        def mount(self, props: Mapping[str, Any]) -> None:
            self.show = True
            kept.append(self)

        def hide(self) -> None:
            self.show = False

        def render(self) -> Element:
            return h.div(
                h.button("hide", id="hide", on_click=self.hide),
                h(Inbox, kept=kept) if self.show else None,
            )

    kept: list[Component] = []
    b = await Browser.open(rt, Holder)
    holder, inbox = kept
    await b.click("#hide")
    await inbox.post(inbox.receive, "too late")  # dropped: it left the page
    await b.settle()
    assert b.errors() == [] and b.doc.select("#inbox") == []
    b.att.detach()  # type: ignore[union-attr]
    await trio.sleep(60)  # the disconnect grace is over: the session ended
    await trio.testing.wait_all_tasks_blocked()
    assert len(rt) == 0
    await holder.post(inbox.receive, "ended")  # dropped: the session ended first


def _session_tasks(rt: SessionManager) -> list[str]:
    """Names of the tasks in every session's nursery, plus the session tasks themselves."""
    names = []
    for task in rt._nursery.child_tasks:
        names.append(task.name.rsplit(".", 1)[-1])
        for nursery in task.child_nurseries:
            names.extend(t.name.rsplit(".", 1)[-1] for t in nursery.child_tasks)
    return sorted(names)


async def test_a_call_instead_of_a_function_is_refused_where_it_is_passed(
    rt: SessionManager, autojump_clock: trio.testing.MockClock
) -> None:
    # self.spawn(self.fetch()) crashed later "in background task" with "'coroutine' object
    # is not callable" (and a never-awaited warning); self.every(1, self.tick()) crashed at
    # every tick until the session ended. Now the call that passes it raises, saying what to
    # write, and the traceback points at that line.
    class Mistaken(Component):
        def mount(self, props: Mapping[str, Any]) -> None:
            self.errors: list[str] = []

        async def fetch(self) -> int:
            return 1

        def tick(self) -> None:
            pass

        def go(self) -> None:
            wrongs: list[Callable[[], object]] = [
                lambda: self.spawn(self.fetch()),  # type: ignore[arg-type]
                lambda: self.every(1.0, self.tick()),  # type: ignore[func-returns-value,arg-type]
                lambda: self.after(1.0, None),  # type: ignore[arg-type]
                lambda: self.spawn(self.fetch, on_done=1),  # type: ignore[arg-type]
            ]
            for wrong in wrongs:
                try:
                    wrong()
                except TypeError as exc:
                    self.errors.append(str(exc))

        def render(self) -> Element:
            return h.ul([h.li(e) for e in self.errors], id="errors", on_click=self.go)

    b = await Browser.open(rt, Mistaken)
    await b.click("#errors")
    await trio.sleep(3)
    await b.settle()
    assert b.errors() == []
    assert [li.text_content for li in b.doc.select("#errors li")] == [
        "spawn() takes an async function and its arguments, got a coroutine object: "
        "write self.spawn(self.fetch, arg), not self.spawn(self.fetch(arg))",
        "every: expected a function to call later, got NoneType "
        "(pass the function itself, e.g. self.every(1.0, self.tick))",
        "after: expected a function to call later, got NoneType "
        "(pass the function itself, e.g. self.after(1.0, self.done))",
        "spawn(on_done=): expected a function to call later, got int "
        "(pass the function itself, e.g. on_done=self.show)",
    ]


async def test_subscribe_and_post_refuse_a_call_instead_of_a_function_where_it_is_passed(
    rt: SessionManager, autojump_clock: trio.testing.MockClock
) -> None:
    # self.subscribe(topic, self.on_message()) crashed the component at every message until
    # the session ended; self.post(self.show(x)) crashed it in the session, far from the line
    class Mistaken(Component):
        def mount(self, props: Mapping[str, Any]) -> None:
            self.errors: list[str] = []
            try:
                self.subscribe("news", self.on_message(None))  # type: ignore[func-returns-value]
            except TypeError as exc:
                self.errors.append(str(exc))

        def on_message(self, message: Any) -> None:
            pass

        async def go(self) -> None:
            try:
                await self.post(self.on_message(1))  # type: ignore[func-returns-value]
            except TypeError as exc:
                self.errors.append(str(exc))

        def render(self) -> Element:
            return h.ul([h.li(e) for e in self.errors], id="errors", on_click=self.go)

    b = await Browser.open(rt, Mistaken)
    await b.click("#errors")
    await pubsub.current().publish("news", "hi")
    await b.settle()
    assert b.errors() == []
    assert pubsub.current().hub.subscribers("news") == 0
    assert [li.text_content for li in b.doc.select("#errors li")] == [
        "subscribe: expected a function to call later, got NoneType "
        "(pass the function itself, e.g. self.subscribe(topic, self.on_message))",
        "post: expected a function to call later, got NoneType "
        "(pass the function itself, e.g. await self.post(self.show, result))",
    ]


async def test_spawning_a_plain_function_says_it_needs_an_async_one(
    rt: SessionManager, autojump_clock: trio.testing.MockClock, caplog: pytest.LogCaptureFixture
) -> None:
    # self.spawn(self.load) with a plain def crashed with Python's "object list can't be used
    # in 'await' expression", which says nothing of spawn or of what to write instead
    class Loader(Component):
        def mount(self, props: Mapping[str, Any]) -> None:
            self.rows: list[int] = []

        def load(self) -> list[int]:
            return [1, 2]

        def go(self) -> None:
            self.spawn(self.load, on_done=self.show)

        def show(self, rows: list[int]) -> None:
            self.rows = rows

        def render(self) -> Element:
            return h.p(len(self.rows), id="rows", on_click=self.go)

    b = await Browser.open(rt, Loader)
    await b.click("#rows")
    await b.settle()
    assert b.errors() == [
        Error(8, "Loader crashed in background task and was restarted: TypeError")
    ]
    assert (
        "spawn(load): expected an async function (async def), load() returned list; for "
        "blocking work, await trio.to_thread.run_sync(...) in an async one" in caplog.text
    )
