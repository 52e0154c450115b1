"""Elements shared across renders and sessions keep each session's hids apart.

The diff numbers a render's elements in place; an element that already carries a hid (here a
module-level constant mounted by another session) must be copied, never renumbered.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from vango_actors import Component, Element, SessionManager, h

from .harness import Browser

FOOTER = h.footer(h.a("home", href="/"), h.span("v1", class_="version"))


class Page(Component):
    def mount(self, props: Mapping[str, Any]) -> None:
        self.count = 0
        self.extra: int = props.get("extra", 0)

    def inc(self) -> None:
        self.count += 1

    def render(self) -> Element:
        footer = FOOTER if self.count % 2 == 0 else h.footer(h.a("home", href="/"), "odd")
        return h.div(
            [h.p(str(i)) for i in range(self.extra)],  # shifts this session's hids
            h.span(self.count, id="count"),
            h.button("+", id="inc", on_click=self.inc),
            footer,
        )


async def test_a_module_level_element_is_mounted_once_and_copied_by_other_sessions(
    rt: SessionManager,
) -> None:
    first = await Browser.open(rt, Page)
    second = await Browser.open(rt, Page, {"extra": 3})
    mounted = FOOTER.hid
    assert mounted == first.hid("footer") != second.hid("footer")
    for clicks in range(1, 5):  # footer: odd, shared, odd, shared
        await first.click("#inc")
        await second.click("#inc")
        for browser in (first, second):
            assert browser.text("#count") == str(clicks)
            assert browser.text("footer") == ("homeodd" if clicks % 2 else "homev1")
            assert not browser.errors()
    assert FOOTER.hid == mounted
    assert first.doc.select("footer")[0].hid != second.doc.select("footer")[0].hid
