"""`/surrogates`: strings holding lone surrogates (a file or database badly decoded), in the
first render, the title, and after a click in text, an attribute and a field's value."""

from __future__ import annotations

from vango_actors import Element, h
from vango_actors.component import Component
from vango_actors.protocol import Event
from vango_actors.routing import live_page

BAD = "caf\udce9 \ud83d\ude00 \ud800"  # a surrogateescape'd byte, a split pair, a lone half


@live_page(title="Bad \udce9 title")
class Surrogates(Component):
    def mount(self, props: object) -> None:
        self.shown = False
        self.count = 0
        self.typed = ""

    def show(self, event: Event) -> None:
        self.shown = True

    def bump(self, event: Event) -> None:
        self.count += 1

    def type_(self, event: Event) -> None:
        self.typed = str(event.payload.get("value", ""))

    def render(self) -> Element:
        later = BAD if self.shown else "-"
        return h.main(
            h.p(BAD, id="first"),
            h.p(later, id="later", title=later),
            h.input(id="field", value=later, on_input=self.type_),
            h.button("show", id="show", on_click=self.show),
            h.button("bump", id="bump", on_click=self.bump),
            h.p(str(self.count), id="count"),
            h.p(" ".join(f"{ord(c):x}" for c in self.typed), id="typed"),
        )
