"""The small live page the live-connection tests drive."""

from __future__ import annotations

from vango_actors import Element, h
from vango_actors.component import Component


class Counter(Component):
    """``#count`` shows the count, ``#inc`` adds one."""

    def mount(self, props: object) -> None:
        self.count = 0

    def inc(self) -> None:
        self.count += 1

    def render(self) -> Element:
        return h.main(h.span(self.count, id="count"), h.button("+", id="inc", on_click=self.inc))
