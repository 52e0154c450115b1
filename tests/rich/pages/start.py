"""`/start`: a page with live links (so it loads vango.rich.js) and no hooks of its own."""

from __future__ import annotations

from vango_actors import Element, h
from vango_actors.component import Component
from vango_actors.routing import live_page


@live_page(title="Start")
class Start(Component):
    def render(self) -> Element:
        return h.main(
            h.h1("Start", id="start"),
            h.a("ticker", href="/ticker", data_vango_nav=True, id="to-ticker"),
        )
