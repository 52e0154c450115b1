"""`/long`: a textarea whose every input goes to the server, and a counter."""

from __future__ import annotations

from vango_actors import Element, h
from vango_actors.component import Component
from vango_actors.protocol import Event
from vango_actors.routing import live_page


@live_page(title="Long")
class Long(Component):
    def mount(self, props: object) -> None:
        self.length = 0
        self.count = 0

    def typed(self, event: Event) -> None:
        self.length = len(str(event.payload.get("value", "")))

    def bump(self, event: Event) -> None:
        self.count += 1

    def render(self) -> Element:
        return h.main(
            h.textarea(id="notes", on_input=self.typed),
            h.p(str(self.length), id="length"),
            h.button("bump", id="bump", on_click=self.bump),
            h.p(str(self.count), id="count"),
        )
