"""`/nav`: live navigation. Tabs are `?tab=` params (`push_patch`, `handle_params`), links
carry `data-vango-nav`, back/forward work, and a button navigates with a flash message."""

from __future__ import annotations

from collections.abc import Mapping

from vango_actors import Element, h
from vango_actors.component import Component
from vango_actors.routing import live_page

from ._flash import flash_bar, nav_bar

TABS = {"a": "First tab", "b": "Second tab", "c": "Third tab"}


@live_page(title="Navigation")
class NavTabs(Component):
    def mount(self, props: object) -> None:
        self.tab = "a"
        self.params_calls = 0

    def handle_params(self, params: Mapping[str, str]) -> None:
        """Runs after mount and on every patch / back / forward to this page."""
        self.tab = params.get("tab", "a") if params.get("tab") in TABS else "a"
        self.params_calls += 1
        self.set_title(f"Navigation: {TABS[self.tab]}")

    def next_tab(self) -> None:
        order = list(TABS)
        self.push_patch(f"/nav?tab={order[(order.index(self.tab) + 1) % len(order)]}")

    def leave(self) -> None:
        self.put_flash("info", "You came from the tabs page.")
        self.navigate("/nav_other")

    def render(self) -> Element:
        tabs = [
            h.a(
                title,
                href=f"/nav?tab={key}",
                id=f"tab-{key}",
                data_vango_nav=True,
                class_="current" if key == self.tab else None,
            )
            for key, title in TABS.items()
        ]
        return h.main(
            nav_bar(),
            flash_bar(self),
            h.h1("Navigation"),
            h.p(tabs, " "),
            h.p(TABS[self.tab], id="tab-content"),
            h.p("handle_params calls: ", h.span(self.params_calls, id="params-calls")),
            h.button("Next tab (push_patch)", id="next-tab", on_click=self.next_tab),
            " ",
            h.button("Go to the other page (navigate + flash)", id="leave", on_click=self.leave),
        )
