"""`/controls`: text and an attribute holding ``\\r\\n``, ``\\r`` and NUL, in the first render
and after a click (patched by SET_TEXT / SET_ATTR)."""

from __future__ import annotations

from vango_actors import Element, h
from vango_actors.component import Component
from vango_actors.protocol import Event
from vango_actors.routing import live_page

CONTROLS = "a\r\nb\rc\0d"


@live_page(title="Controls")
class Controls(Component):
    def mount(self, props: object) -> None:
        self.shown = False

    def show(self, event: Event) -> None:
        self.shown = True

    def render(self) -> Element:
        later = CONTROLS if self.shown else "-"
        return h.main(
            h.p(CONTROLS, id="first", title=CONTROLS),
            h.p(later, id="later", title=later),
            h.button("show", id="show", on_click=self.show),
        )
