"""`/links`: live links (a query, a #fragment, the URL shown, another tab) and handlers that
``push_patch`` to a relative URL; ``handle_params`` logs each query it is given."""

from __future__ import annotations

from collections.abc import Mapping

from vango_actors import Element, h
from vango_actors.routing import live_page

from ._log import Logging


@live_page(title="Links")
class Links(Logging):
    def handle_params(self, params: Mapping[str, str]) -> None:
        self.log = [*self.log, ["params", dict(params)]]

    def patch_relative(self) -> None:
        self.push_patch("?tab=p")

    def render(self) -> Element:
        return h.main(
            h.a("B", href="?tab=b", id="to-b", data_vango_nav=True),
            h.a("Section", href="#section", id="to-section", data_vango_nav=True),
            h.a("Here", href="/links?tab=b", id="to-here", data_vango_nav=True),
            h.a("Away", href="?tab=x", id="to-blank", target="_blank", data_vango_nav=True),
            h.a("Save", href="?tab=d", id="download", download="b.html", data_vango_nav=True),
            h.a("Save too", href="/links?tab=e", id="plain-download", download=True),
            h.button("Patch", id="patch", on_click=self.patch_relative),
            h.h2("Section", id="section"),
            self.shown(),
        )
