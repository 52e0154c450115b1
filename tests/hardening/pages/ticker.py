"""`/ticker`: a timer ticks ``#ticks`` every 0.2 s; ``#inc`` counts clicks into ``#count``."""

from __future__ import annotations

from vango_actors import Element, h
from vango_actors.component import Component
from vango_actors.routing import live_page


@live_page(title="Ticker")
class Ticker(Component):
    def mount(self, props: object) -> None:
        self.count = 0
        self.ticks = 0
        self.every(0.2, self.tick)

    def tick(self) -> None:
        self.ticks += 1

    def inc(self) -> None:
        self.count += 1

    def render(self) -> Element:
        return h.main(
            h.span(self.count, id="count"),
            h.span(self.ticks, id="ticks"),
            h.button("+", id="inc", on_click=self.inc),
        )
