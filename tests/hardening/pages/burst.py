"""`/burst`: ``#go`` makes a background task post 3,000 updates (~4 KB each) as fast as the
session takes them: a live feed in a hurry; ``#inc`` counts clicks into ``#count``."""

from __future__ import annotations

from vango_actors import Element, h
from vango_actors.component import Component
from vango_actors.routing import live_page

POSTS = 3000
BLOCK = 4 * 1024


@live_page(title="Burst")
class Burst(Component):
    def mount(self, props: object) -> None:
        self.n = 0
        self.count = 0

    def go(self) -> None:
        self.spawn(self._flood)

    async def _flood(self) -> None:
        for _ in range(POSTS):
            await self.post(self._bump)

    def _bump(self) -> None:
        self.n += 1

    def inc(self) -> None:
        self.count += 1

    def render(self) -> Element:
        return h.main(
            h.span(self.n, id="n"),
            h.span(self.count, id="count"),
            h.button("go", id="go", on_click=self.go),
            h.button("+", id="inc", on_click=self.inc),
            h.p(str(self.n % 10) * BLOCK, id="fill"),
        )
