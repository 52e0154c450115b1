"""What an idle session keeps: not its page request's context, not its page HTML.

The byte figures are measured by ``python -m bench memory`` (docs/PERFORMANCE.md); these
tests pin the reasons for them (references), which do not depend on the machine.
"""

from __future__ import annotations

import contextvars
import gc
import sys
import weakref
from typing import Any

import pytest
import trio
import trio.testing

from vango_actors import MountError, SessionState, open_runtime
from vango_actors.component import Component
from vango_actors.vdom import Element, h

REQUEST: contextvars.ContextVar[Any] = contextvars.ContextVar("request")
SEEN: list[Any] = []


class _Request:
    """Stands for a page request (Quart keeps its request in a contextvar like this one)."""


class Peek(Component):
    def mount(self, props: object) -> None:
        SEEN.append(REQUEST.get(None))

    def render(self) -> Element:
        return h.p("x" * 2000, id="big")


class Broken(Component):
    def mount(self, props: object) -> None:
        raise ValueError("no mount today")

    def render(self) -> Element:
        return h.p()


class Slow(Component):
    async def mount(self, props: object) -> None:
        await trio.sleep(10)

    def render(self) -> Element:
        return h.p()


async def test_a_session_does_not_keep_the_creating_request_context() -> None:
    SEEN.clear()
    async with open_runtime() as rt:
        found: list[Any] = []

        async def page_request() -> None:  # a request task, as hypercorn spawns one
            request = _Request()
            REQUEST.set(request)
            created = await rt.create(Peek)
            found.extend([created.session_id, weakref.ref(request)])

        async with trio.open_nursery() as nursery:
            nursery.start_soon(page_request)
        session_id, request = found
        gc.collect()
        assert rt.session(session_id).state is SessionState.PARKED
        assert SEEN == [None]  # the component runs in the runtime's context
        assert request() is None  # nothing of the session holds the request


async def test_a_parked_session_does_not_keep_its_page_html() -> None:
    async with open_runtime() as rt:
        created = await rt.create(Peek)
        html = created.html
        assert "x" * 2000 in html
        del created
        gc.collect()
        assert sys.getrefcount(html) == 2  # ``html`` and getrefcount's argument: nobody else
        assert rt.statistics().parked == 1


async def test_a_failing_mount_raises_in_create_and_leaves_nothing() -> None:
    async with open_runtime() as rt:
        with pytest.raises(MountError, match="no mount today"):
            await rt.create(Broken)
        assert len(rt) == 0
        assert rt.statistics().parked == 0
        assert rt.statistics().total_created == 0


async def test_a_cancelled_create_ends_its_session(autojump_clock: Any) -> None:
    async with open_runtime() as rt:
        with trio.move_on_after(1):
            await rt.create(Slow)
        await trio.sleep(20)  # the mount finishes, the stopped session ends
        assert len(rt) == 0
        assert rt.statistics().parked == 0


class _Big:
    """Stands for a session's state (a page's data, its tree): weakly referenceable."""


async def test_an_expired_session_is_not_kept_by_the_expiry_timer(autojump_clock: Any) -> None:
    async with open_runtime(unclaimed_ttl=5.0) as rt:
        state = _Big()
        created = await rt.create(Peek, {"state": state})
        kept = weakref.ref(state)
        del state
        await trio.sleep(6)  # expired: the timer task ended it and sleeps again
        await trio.testing.wait_all_tasks_blocked()
        assert len(rt) == 0
        assert not rt.has(created.session_id)
        gc.collect()
        assert kept() is None  # the timer's frame does not hold the last actor it expired
