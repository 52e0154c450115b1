"""`/clock`: the server pushes the time every second, with no client event."""

from __future__ import annotations

import time

from vango_actors import Element, h
from vango_actors.component import Component
from vango_actors.routing import live_page


def now() -> str:
    return time.strftime("%H:%M:%S")


@live_page(title="Clock")
class Clock(Component):
    def mount(self, props: object) -> None:
        self.time = now()
        self.ticks = 0
        self.every(1.0, self.tick)

    def tick(self) -> None:
        self.time = now()
        self.ticks += 1

    def render(self) -> Element:
        return h.main(
            h.h1("Clock"),
            h.p("Server time: ", h.strong(self.time, id="clock")),
            h.p("Ticks since this page opened: ", h.span(self.ticks, id="ticks")),
            h.p(h.a("all demos", href="/")),
        )
