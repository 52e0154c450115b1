"""`/crashy`: user code that raises Exceptions and BaseExceptions from every place it runs.

``#bomb-<where>`` buttons make the ``Bomb`` child raise in a handler, in render, in a timer,
in background work, in mount (a child that fails its first mount) and in unmount; ``#kind``
selects what is raised (``error`` ValueError, ``exit`` SystemExit, ``genexit``
GeneratorExit, ``base`` a custom BaseException, ``group`` a BaseExceptionGroup). The page's own
``#alive`` / ``#clicks`` counter must keep its value through all of it.
"""

from __future__ import annotations

from typing import ClassVar

from vango_actors import Element, h
from vango_actors.component import Component
from vango_actors.protocol import Event
from vango_actors.routing import live_page
from vango_actors.supervisor import RestartPolicy

KINDS = ("error", "exit", "genexit", "base", "group")
WHERES = ("handler", "render", "timer", "background", "mount", "unmount")


class Custom(BaseException):
    """A BaseException subclass from user code: not cancellation, must be contained."""


def make(kind: str) -> BaseException:
    if kind == "exit":
        return SystemExit(3)
    if kind == "genexit":
        return GeneratorExit("user raised GeneratorExit")
    if kind == "base":
        return Custom("user raised a BaseException")
    if kind == "group":
        return BaseExceptionGroup("group", [SystemExit(4), ValueError("in a group")])
    return ValueError("user raised ValueError")


def generation(component: Component) -> int:
    host = component._vango_host
    return 0 if host is None else host.generation


class MountsBadly(Component):
    """Raises in its first mount (the restart then succeeds)."""

    def mount(self, props: object) -> None:
        if generation(self) == 0:
            raise make(str(self.props["kind"]))

    def render(self) -> Element:
        return h.span("mounted", id="mounted")


class UnmountsBadly(Component):
    def unmount(self) -> None:
        raise make(str(self.props["kind"]))

    def render(self) -> Element:
        return h.span("will raise in unmount", id="unmounter")


class Bomb(Component):
    restart_policy: ClassVar[RestartPolicy | None] = RestartPolicy(max_restarts=1000, within=1.0)

    def mount(self, props: object) -> None:
        self.kind = "error"
        self.explode_in_render = False
        self.child: str | None = None

    def choose(self, event: Event) -> None:
        self.kind = str(event.payload.get("value", "error"))

    def raise_now(self) -> None:
        raise make(self.kind)

    def fire(self, event: Event) -> None:
        where = str(event.payload.get("value", ""))
        if where == "handler":
            raise make(self.kind)
        if where == "render":
            self.explode_in_render = True
        elif where == "timer":
            self.after(0.001, self.raise_now)
        elif where == "background":
            self.spawn(self._background)
        elif where in ("mount", "unmount"):
            self.child = where

    async def _background(self) -> None:
        raise make(self.kind)

    def drop_child(self) -> None:
        self.child = None

    def render(self) -> Element:
        if self.explode_in_render:
            raise make(self.kind)
        child = None
        if self.child == "mount":
            child = h(MountsBadly, kind=self.kind)
        elif self.child == "unmount":
            child = h(UnmountsBadly, kind=self.kind)
        return h.section(
            h.input(id="kind", value=self.kind, on_change=self.choose),
            h.input(id="where", on_change=self.fire),
            h.button("drop child", id="drop", on_click=self.drop_child),
            h.span(generation(self), id="restarts"),
            child,
        )


@live_page(title="Crashy")
class Crashy(Component):
    def mount(self, props: object) -> None:
        self.clicks = 0

    def click(self) -> None:
        self.clicks += 1

    def render(self) -> Element:
        return h.main(
            h(Bomb, key="bomb"),
            h.button("alive", id="alive", on_click=self.click),
            h.span(self.clicks, id="clicks"),
        )
