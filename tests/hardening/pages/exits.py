"""`/exits`: a root component whose mount calls ``sys.exit``: a 500 page, the process lives."""

from __future__ import annotations

from vango_actors import Element, h
from vango_actors.component import Component
from vango_actors.routing import live_page


@live_page(title="Exits in mount")
class ExitsInMount(Component):
    def mount(self, props: object) -> None:
        raise SystemExit(5)

    def render(self) -> Element:
        return h.p("never")
