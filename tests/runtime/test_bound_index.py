"""The index of bound hids comes from the render's resolver walk; it must equal a full walk.

Shapes that change between clicks: a childless bound element, a bound element inside a
child component's slot (the child's index, not the parent's), a memoised subtree (Lazy),
an element shared across renders (copied by the diff: the walk's list cannot be trusted),
and bindings that come and go.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from vango_actors import Component, Element, SessionManager, h
from vango_actors.actor import _collect_bound

from .harness import Browser

SHARED = h.button("shared", id="shared", on_click=lambda: None)


def _row(label: str) -> Element:
    return h.li(h.button(label, class_="row", on_click=lambda: None))


class Child(Component):
    def mount(self, props: Mapping[str, Any]) -> None:
        self.n = 0

    def bump(self) -> None:
        self.n += 1

    def render(self) -> Element:
        return h.p(h.button(self.n, id="child", on_click=self.bump))


class Page(Component):
    def mount(self, props: Mapping[str, Any]) -> None:
        self.count = 0

    def inc(self) -> None:
        self.count += 1

    def render(self) -> Element:
        phase = self.count % 4
        return h.div(
            h.button(id="inc", on_click=self.inc),  # childless and bound
            h.span(self.count, id="count"),
            h(Child) if phase != 1 else None,
            h.lazy(_row, f"lazy {phase % 2}") if phase >= 2 else h.i("no lazy"),
            SHARED if phase == 3 else h.b("x", on_click=self.inc if phase == 0 else None),
        )


async def test_the_index_equals_a_full_walk_through_every_shape(rt: SessionManager) -> None:
    browser = await Browser.open(rt, Page)
    actor = rt.session(browser.session_id)
    for clicks in range(1, 9):
        await browser.click("#inc")
        assert browser.text("#count") == str(clicks)
        assert not browser.errors()
        for host, indexed in actor._host_bound.items():
            walked: dict[int, Element] = {}
            _collect_bound(host.tree, walked)
            assert indexed == walked, (clicks, host)
            assert all(actor._bound[hid] is host for hid in walked)
    await browser.click("#child")  # count 8: phase 0, the child is there
    assert browser.text("#child") == "1"
    assert not browser.errors()
