"""`/counter`: ``#count`` and ``#inc``, the page whose state must survive every attack."""

from __future__ import annotations

from vango_actors import Element, h
from vango_actors.component import Component
from vango_actors.routing import live_page


@live_page(title="Counter")
class Counter(Component):
    def mount(self, props: object) -> None:
        self.count = 0
        self.items: list[int] = []

    def inc(self) -> None:
        self.count += 1

    def grow(self) -> None:
        self.items.append(len(self.items))

    def render(self) -> Element:
        return h.main(
            h.span(self.count, id="count"),
            h.button("+", id="inc", on_click=self.inc),
            h.button("grow", id="grow", on_click=self.grow),
            h.ul(*[h.li(h.button(i, on_click=self.inc), key=i) for i in self.items], id="items"),
        )
