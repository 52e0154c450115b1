"""`/disable`: a ``data-disable-with`` button whose label holds an element (an icon, a count)
that the answer patches, and ``<input type=submit>`` ones (their label is their value)."""

from __future__ import annotations

import trio

from vango_actors import Element, h
from vango_actors.component import Component
from vango_actors.routing import live_page


@live_page(title="Disable with")
class Disable(Component):
    def mount(self, props: object) -> None:
        self.saved = 0
        self.sent = 0

    async def send(self) -> None:
        await trio.sleep(0.2)
        self.sent += 1

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
            h.form(
                h.input(type="submit", value="Send", id="send", data_disable_with="Sending…"),
                h.input(type="submit", id="plain-send", data_disable_with="Sending…"),
                h.span(f"sent {self.sent}", id="sent"),
                on_submit=self.send,
            ),
        )
