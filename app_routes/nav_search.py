"""`/nav_search`: typing never fights the server. The input's value is bound (`value=`) and
the handler is slow (50 ms); the client drops value echoes older than the last keystroke.
The query also goes into the URL (`push_patch`, replace), so a reload keeps it."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlencode

import trio

from vango_actors import Element, h
from vango_actors.component import Component
from vango_actors.protocol import Event
from vango_actors.routing import live_page

from ._flash import nav_bar

WORDS = ["actor", "trio", "nursery", "socket", "patch", "diff", "render", "session", "vango"]


@live_page(title="Search")
class Search(Component):
    delay = 0.05  # seconds the server takes per keystroke

    def mount(self, props: object) -> None:
        self.query = ""

    def handle_params(self, params: Mapping[str, str]) -> None:
        self.query = params.get("q", "")

    async def typed(self, event: Event) -> None:
        await trio.sleep(self.delay)
        self.query = str(event.payload.get("value", ""))
        self.push_patch("/nav_search?" + urlencode({"q": self.query}), replace=True)

    def render(self) -> Element:
        hits = [w for w in WORDS if self.query and self.query.lower() in w]
        return h.main(
            nav_bar(),
            h.h1("Search"),
            h.input(
                id="search",
                type="text",
                autocomplete="off",
                value=self.query,
                on_input=self.typed,
            ),
            h.p("Server has: ", h.span(self.query, id="server-query")),
            h.ul([h.li(w, key=w) for w in hits], id="hits"),
        )
