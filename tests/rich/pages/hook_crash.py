"""`/hook_crash`: a JS hook on an element of a child component that crashes and is restarted
by its supervisor (the page's ``hook_probe`` script logs the hook's lifecycle)."""

from __future__ import annotations

from typing import ClassVar

from vango_actors import Element, h
from vango_actors.component import Component
from vango_actors.routing import live_page
from vango_actors.supervisor import RestartPolicy

from .hook_probe import PROBE_JS


class _Fragile(Component):
    restart_policy: ClassVar[RestartPolicy | None] = RestartPolicy(max_restarts=10, within=10.0)

    def mount(self, props: object) -> None:
        self.clicks = 0

    def click(self) -> None:
        self.clicks += 1

    def explode(self) -> None:
        raise RuntimeError("the #boom button was pressed")

    def render(self) -> Element:
        return h.section(
            h.div(h.span(self.clicks, id="clicks"), id="fragile", data_vango_hook="A"),
            h.button("+1", id="click", on_click=self.click),
            h.button("crash", id="boom", on_click=self.explode),
        )


@live_page(title="Hook crash")
class HookCrash(Component):
    def ping(self) -> None:
        self.push_event("ping", {"n": 1})

    def render(self) -> Element:
        return h.main(
            h.script(h.raw(PROBE_JS), data_vango_run=True),
            h(_Fragile, key="fragile"),
            h.button("ping", id="ping", on_click=self.ping),
        )
