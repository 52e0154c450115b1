"""`/boxes`: checkboxes, radios, labels, a select and a reset button, bound in every way."""

from __future__ import annotations

from vango_actors import Element, h
from vango_actors.routing import live_page

from ._log import Logging


@live_page(title="Boxes")
class Boxes(Logging):
    def render(self) -> Element:
        n = self.note
        return h.main(
            h.form(
                h.input(type="checkbox", name="plain", id="plain"),
                h.input(type="checkbox", name="both", id="both", on_input=n, on_change=n),
                h.input(type="checkbox", name="clicked", id="clicked", on_click=n),
                h.label(
                    h.span("Wrapped", id="wrap-text"),
                    h.input(type="checkbox", name="wrapped", id="wrapped", on_change=n),
                ),
                h.label("Plain", for_="plain", id="for-plain"),
                h.input(type="radio", name="size", value="s", id="small", checked=True),
                h.input(type="radio", name="size", value="l", id="large", on_change=n),
                h.select(
                    h.option("A", value="a"),
                    h.option("B", value="b"),
                    name="pick",
                    id="pick",
                    on_input=n,
                    on_change=n,
                ),
                h.input(name="text", id="text", value="start"),
                h.input(id="note", on_input=n, on_change=n),  # no name: not submitted
                h.button("Reset", type="reset", id="reset"),
                h.button("Save", name="do", value="save", id="save"),
                id="boxes",
                on_submit=n,
            ),
            self.shown(),
        )
