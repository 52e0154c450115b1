"""`/hook_form`: a JS hook on a form whose submit (text input made read-only, a
``data-disable-with`` button relabelled) and client commands change it on the client only."""

from __future__ import annotations

import trio

from vango_actors import Element, h
from vango_actors.commands import JS
from vango_actors.component import Component
from vango_actors.protocol import Event
from vango_actors.routing import live_page

from .hook_probe import PROBE_JS


@live_page(title="Hook form")
class HookForm(Component):
    def mount(self, props: object) -> None:
        self.sent = 0

    async def send(self, event: Event) -> None:
        await trio.sleep(0.1)
        self.sent += 1

    def render(self) -> Element:
        return h.main(
            h.script(h.raw(PROBE_JS), data_vango_run=True),
            h.form(
                h.input(name="q", id="q"),
                h.span(self.sent // 2, id="half"),  # changes on every second submit
                h.button("Send", id="send", data_disable_with="Sending…"),
                h.button(
                    "Toggle", id="toggle", type="button", data_js_click=JS.toggle_class(None, "on")
                ),
                id="form",
                data_vango_hook="A",
                on_submit=self.send,
            ),
            h.p(self.sent, id="sent"),  # (outside the form)
        )
