"""`/ticker`: the guide's JS hook example as written: ``window.vangoHooks = {Ticker: ...}``
in a ``data-vango-run`` script, the hook pushing ``ping``, the server answering ``pong``."""

from __future__ import annotations

from vango_actors import Element, h
from vango_actors.component import Component
from vango_actors.protocol import Event
from vango_actors.routing import live_page

JS_SOURCE = """
window.vangoHooks = {Ticker: {
  mounted() {
    window.mountedN = (window.mountedN || 0) + 1;
    const log = document.querySelector('#log');
    this.handleEvent('pong', (p) => { log.textContent = 'pong ' + p.n; });
    this.pushEvent('ping', {at: Date.now()});
  },
  updated() {},
  destroyed() { window.destroyedN = (window.destroyedN || 0) + 1; },
}};
"""


@live_page(title="Ticker")
class Ticker(Component):
    def mount(self, props: object) -> None:
        self.pings = 0

    def on_hook(self, event: Event) -> None:
        self.pings += 1
        self.push_event("pong", {"n": self.pings})

    def render(self) -> Element:
        return h.main(
            h.script(h.raw(JS_SOURCE), data_vango_run=True),
            h.div(
                "pings ",
                h.span(self.pings, id="pings"),
                data_vango_hook="Ticker",
                on_hook=self.on_hook,
                id="ticker",
            ),
            h.p("", id="log"),
            h.a("start", href="/start", data_vango_nav=True, id="to-start"),
        )
