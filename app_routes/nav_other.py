"""`/nav_other`: a second live page reached by live navigation; shows the flash it got."""

from __future__ import annotations

from vango_actors import Element, h
from vango_actors.component import Component
from vango_actors.routing import live_page

from ._flash import flash_bar, nav_bar


@live_page(title="Other page")
class NavOther(Component):
    def mount(self, props: object) -> None:
        self.clicks = 0

    def click(self) -> None:
        self.clicks += 1

    def back(self) -> None:
        self.put_flash("info", "Back from the other page.")
        self.navigate("/nav?tab=b")

    def render(self) -> Element:
        return h.main(
            nav_bar(),
            flash_bar(self),
            h.h1("Other page", id="other-title"),
            h.p(
                h.button("Click", id="other-click", on_click=self.click),
                " ",
                h.span(self.clicks, id="other-clicks"),
            ),
            h.button("Back to tab b (navigate)", id="back", on_click=self.back),
        )
