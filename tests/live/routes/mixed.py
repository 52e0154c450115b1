"""`/mixed`: handlers of every shape, each noting where it ran (which trio task).

``#sync`` is a plain handler, ``#async`` a coroutine (it awaits), ``#toggle`` shows or drops
a child component (mounting and unmounting it), ``#background`` spawns background work and
a timer. ``#log`` lists what ran, in order; ``#where``
names the task each kind last ran in.
"""

from __future__ import annotations

import trio

from vango_actors import Element, h
from vango_actors.component import Component
from vango_actors.routing import live_page


class Child(Component):
    def mount(self, props: object) -> None:
        self.mounted_in = trio.lowlevel.current_task().name

    def render(self) -> Element:
        return h.span("child", id="child")


@live_page(title="Mixed")
class Mixed(Component):
    def mount(self, props: object) -> None:
        self.log: list[str] = []
        self.where: dict[str, str] = {}
        self.show = False

    def _note(self, kind: str) -> None:
        self.log.append(kind)
        self.where[kind] = trio.lowlevel.current_task().name

    def sync(self) -> None:
        self._note("s")

    async def async_(self) -> None:
        await trio.sleep(0)
        self._note("a")

    def toggle(self) -> None:
        self.show = not self.show
        self._note("t")

    def background(self) -> None:
        """Spawns work and a timer: both start from wherever this handler runs."""
        self._note("g")
        self.spawn(self._work, on_done=self._done)
        self.after(0.01, lambda: self._note("later"))

    async def _work(self) -> str:
        await trio.sleep(0)
        return trio.lowlevel.current_task().name

    def _done(self, name: str) -> None:
        self.log.append("done")
        self.where["work"] = name

    def render(self) -> Element:
        return h.main(
            h.p(" ".join(self.log), id="log"),
            h.p(" ".join(f"{k}={v}" for k, v in sorted(self.where.items())), id="where"),
            h.button("sync", id="sync", on_click=self.sync),
            h.button("async", id="async", on_click=self.async_),
            h.button("toggle", id="toggle", on_click=self.toggle),
            h.button("background", id="background", on_click=self.background),
            h(Child) if self.show else None,
        )
