"""`/crash`: a handler raises, the supervisor restarts that component, the page stays live."""

from __future__ import annotations

from typing import ClassVar

from vango_actors import Element, h
from vango_actors.component import Component
from vango_actors.routing import live_page
from vango_actors.supervisor import RestartPolicy


class Boom(RuntimeError):
    """The deliberate crash of the demo."""


def restart_count(component: Component) -> int:
    """How often the supervisor restarted this component's position (0 before any crash)."""
    host = component._vango_host
    return 0 if host is None else host.generation


class Bomb(Component):
    """Crashes on demand; shows how often it has been restarted."""

    # Only a click crashes it, so it cannot loop: the page must stay live however often #boom
    # is clicked. Clicks are rate limited (VANGO_EVENT_RATE, 100/s with a burst of 200), so no
    # user spends this budget; the default (3 in 5 s) would end the session and reload the page.
    restart_policy: ClassVar[RestartPolicy | None] = RestartPolicy(max_restarts=1000, within=1.0)

    def mount(self, props: object) -> None:
        self.restarts = restart_count(self)

    def explode(self) -> None:
        raise Boom("the #boom button was pressed")

    def render(self) -> Element:
        return h.section(
            h.button("Crash this component", id="boom", on_click=self.explode),
            h.p("Restarts so far: ", h.span(self.restarts, id="restarts")),
        )


@live_page(title="Crash")
class CrashPage(Component):
    def mount(self, props: object) -> None:
        self.clicks = 0

    def click(self) -> None:
        self.clicks += 1

    def render(self) -> Element:
        return h.main(
            h.h1("Crash and restart"),
            h.p(
                "The button below raises in its handler. Its component is restarted with a "
                "fresh state; the counter next to it belongs to the page and keeps its value."
            ),
            h(Bomb, key="bomb"),
            h.p(
                h.button("Still alive? +1", id="alive", on_click=self.click),
                " ",
                h.span(self.clicks, id="clicks"),
            ),
            h.p(h.a("all demos", href="/")),
        )
