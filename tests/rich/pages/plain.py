"""`/plain`: a page without any rich marker whose handler calls ``exec_js``."""

from __future__ import annotations

from vango_actors import Element, h
from vango_actors.commands import JS
from vango_actors.component import Component
from vango_actors.routing import live_page


@live_page(title="Plain")
class Plain(Component):
    def show(self) -> None:
        self.exec_js(JS.show("#panel"))

    def render(self) -> Element:
        return h.main(
            h.button("Show", id="show", on_click=self.show),
            h.div("panel", id="panel", hidden=True),
        )
