"""`/firehose`: a timer re-renders ~16 KB every 5 ms: a client that stops reading falls behind."""

from __future__ import annotations

from vango_actors import Element, h
from vango_actors.component import Component
from vango_actors.routing import live_page

BLOCK = 16 * 1024


@live_page(title="Firehose")
class Firehose(Component):
    def mount(self, props: object) -> None:
        self.n = 0
        self.clicks = 0
        self.every(0.005, self.tick)

    def tick(self) -> None:
        self.n += 1

    def click(self) -> None:
        self.clicks += 1

    def render(self) -> Element:
        fill = str(self.n % 10) * BLOCK
        return h.main(
            h.span(self.clicks, id="count"),
            h.button("+", id="inc", on_click=self.click),
            h.p(fill, id="fill"),
        )
