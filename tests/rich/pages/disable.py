"""`/disable`: a ``data-disable-with`` button whose label holds an element (an icon, a count)
that the answer patches."""

from __future__ import annotations

import trio

from vango_actors import Element, h
from vango_actors.component import Component
from vango_actors.routing import live_page


@live_page(title="Disable with")
class Disable(Component):
    def mount(self, props: object) -> None:
        self.saved = 0

    async def save(self) -> None:
        await trio.sleep(0.2)
        self.saved += 1

    def render(self) -> Element:
        return h.main(
            h.button(
                h.span(f"saved {self.saved}", id="count"),
                " Save",
                id="save",
                data_disable_with="Saving…",
                on_click=self.save,
            ),
        )
