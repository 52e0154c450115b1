"""`/bad_selector`: client commands whose chain holds a selector the browser cannot parse
(``#1x``), on a ``data-js-click`` and from the server's ``exec_js``."""

from __future__ import annotations

from vango_actors import Element, h
from vango_actors.commands import JS
from vango_actors.component import Component
from vango_actors.routing import live_page

# built as the client reads them (JS(...) itself takes the commands as given)
_CHAIN = (("show", "#1x"), ("show", "#panel"), ("add_class", "#panel", "lit"))


@live_page(title="Bad selector")
class BadSelector(Component):
    def mount(self, props: object) -> None:
        self.clicks = 0

    def exec_chain(self) -> None:
        self.clicks += 1
        self.exec_js(JS(_CHAIN))

    def render(self) -> Element:
        return h.main(
            h.button("client", id="client", data_js_click=JS(_CHAIN)),
            h.button("server", id="server", on_click=self.exec_chain),
            h.span(self.clicks, id="clicks"),
            h.div("A panel.", id="panel", hidden=True),
        )
