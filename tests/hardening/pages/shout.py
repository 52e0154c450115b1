"""`/shout`: a field the server upper-cases on every keystroke (``value=`` re-rendered), and
one it echoes as typed."""

from __future__ import annotations

from vango_actors import Element, Event, h
from vango_actors.component import Component
from vango_actors.routing import live_page


@live_page(title="Shout")
class Shout(Component):
    def mount(self, props: object) -> None:
        self.loud = ""
        self.plain = ""

    def set_loud(self, event: Event) -> None:
        self.loud = str(event.payload.get("value", "")).upper()

    def set_plain(self, event: Event) -> None:
        self.plain = str(event.payload.get("value", ""))

    def render(self) -> Element:
        return h.main(
            h.input(id="loud", value=self.loud, on_input=self.set_loud),
            h.input(id="plain", value=self.plain, on_input=self.set_plain),
            h.p(self.loud, id="loud-seen"),
            h.p(self.plain, id="plain-seen"),
        )
