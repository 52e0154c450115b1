"""`/hooks`: JS hooks (mounted / updated / destroyed, pushEvent, push_event), client commands
(no round trip, composable, also run from the server) and loading states."""

from __future__ import annotations

import trio

from vango_actors import Element, h
from vango_actors.commands import JS
from vango_actors.component import Component
from vango_actors.protocol import Event
from vango_actors.routing import live_page

from ._flash import flash_bar, nav_bar

# Page JavaScript: registers the hook. data-vango-run makes it run after a live navigation too.
HOOK_JS = """
vangoHooks = window.vangoHooks || {};
vangoHooks.Ticker = {
  mounted() {
    this.el.dataset.mounted = (+this.el.dataset.mounted || 0) + 1;
    this.el.querySelector('#hook-ping').onclick = () => this.pushEvent('ping', {at: Date.now()});
    const log = document.querySelector('#hook-log');
    this.handleEvent('pong', (p) => { log.textContent = 'pong ' + p.n; });
  },
  updated() { this.el.dataset.updated = (+this.el.dataset.updated || 0) + 1; },
  destroyed() { window.__tickerDestroyed = (window.__tickerDestroyed || 0) + 1; },
};
if (window.vango && window.vango.hook) window.vango.hook('Ticker', vangoHooks.Ticker);
"""


@live_page(title="Hooks and commands")
class Hooks(Component):
    def mount(self, props: object) -> None:
        self.pings = 0
        self.show_ticker = True
        self.saved = 0
        self.submitted = ""

    def on_hook(self, event: Event) -> None:
        if event.payload.get("event") == "ping":
            self.pings += 1
            self.push_event("pong", {"n": self.pings})

    def toggle_ticker(self) -> None:
        self.show_ticker = not self.show_ticker

    def highlight(self) -> None:
        self.exec_js(JS.add_class("#panel", "highlight").show("#panel"))

    async def slow_save(self) -> None:
        await trio.sleep(0.3)
        self.saved += 1

    async def slow_submit(self, event: Event) -> None:
        await trio.sleep(0.3)
        self.submitted = str(event.payload.get("form", {}).get("name", ""))

    def render(self) -> Element:
        ticker = h.div(
            h.button("Ping the server", id="hook-ping", type="button"),
            " pings: ",
            h.span(self.pings, id="pings"),
            id="ticker",
            data_vango_hook="Ticker",
            on_hook=self.on_hook,
        )
        return h.main(
            nav_bar(),
            flash_bar(self),
            h.script(h.raw(HOOK_JS), data_vango_run=True),
            h.h1("Hooks and commands"),
            ticker if self.show_ticker else h.p("(ticker removed)", id="no-ticker"),
            h.p(h.span("", id="hook-log")),
            h.button(
                "Remove / add the hook element", id="toggle-ticker", on_click=self.toggle_ticker
            ),
            h.h2("Client commands"),
            h.button(
                "Toggle panel (no round trip)",
                id="toggle-panel",
                data_js_click=JS.toggle("#panel").toggle_class(None, "pressed"),
            ),
            " ",
            h.button("Highlight from the server", id="exec", on_click=self.highlight),
            h.div("A panel.", id="panel", hidden=True),
            h.h2("Loading states"),
            h.button(
                "Save (slow)", id="slow", data_disable_with="Saving…", on_click=self.slow_save
            ),
            " saved: ",
            h.span(self.saved, id="saved"),
            h.form(
                h.input(name="name", id="slow-name"),
                h.button("Submit (slow)", id="slow-submit", data_disable_with="Sending…"),
                id="slow-form",
                on_submit=self.slow_submit,
            ),
            h.p(self.submitted, id="submitted"),
        )
