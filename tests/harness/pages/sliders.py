"""`/sliders`: a range and a colour field without ``value=`` (the browser's defaults) or with
one it corrects, and a number field whose ``value=`` is no number."""

from __future__ import annotations

from vango_actors import Element, h
from vango_actors.routing import live_page

from ._log import Logging


@live_page(title="Sliders")
class Sliders(Logging):
    def render(self) -> Element:
        return h.main(
            h.form(
                h.input(type="range", name="volume"),
                h.input(type="range", name="odd", min=10, max=21),
                h.input(type="range", name="over", value=150),
                h.input(type="color", name="colour"),
                h.input(type="color", name="upper", value="#ABCDEF"),
                h.input(type="number", name="count", value="many"),
                h.button("Save", id="save"),
                on_submit=self.note,
            ),
            self.shown(),
        )
