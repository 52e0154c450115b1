"""`/counter`: the smallest live page."""

from __future__ import annotations

from vango_actors import Element, h
from vango_actors.component import Component
from vango_actors.routing import live_page


@live_page(title="Counter")
class Counter(Component):
    def mount(self, props: object) -> None:
        self.count = 0

    def inc(self) -> None:
        self.count += 1

    def dec(self) -> None:
        self.count -= 1

    def render(self) -> Element:
        return h.main(
            h.h1("Counter"),
            h.p(
                h.button("\N{MINUS SIGN}", id="dec", on_click=self.dec),
                " ",
                h.span(self.count, id="count"),
                " ",
                h.button("+", id="inc", on_click=self.inc),
            ),
            h.p(h.a("all demos", href="/")),
        )
