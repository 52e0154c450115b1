"""Components the runtime tests drive."""

from __future__ import annotations

from collections import Counter as Tally
from collections.abc import Mapping
from typing import Any, ClassVar

import trio

from vango_actors import Component, Element, h
from vango_actors.protocol import Event

renders: Tally[str] = Tally()  # render calls by label; tests reset it


class Counter(Component):
    def mount(self, props: Mapping[str, Any]) -> None:
        self.count = props.get("start", 0)

    def inc(self) -> None:
        self.count += 1

    def dec(self, event: Event) -> None:
        self.count -= 1

    def render(self) -> Element:
        renders["Counter"] += 1
        return h.div(
            h.span(self.count, id="count"),
            h.button("+", id="inc", on_click=self.inc),
            h.button("-", id="dec", on_click=self.dec),
        )


class SlowLog(Component):
    """Each click appends its label after a virtual-time delay (given in the payload)."""

    def mount(self, props: Mapping[str, Any]) -> None:
        self.log: list[str] = []

    async def add(self, event: Event) -> None:
        await trio.sleep(event.payload.get("delay", 0))
        self.log.append(event.payload["label"])
        self.log = self.log  # public assignment marks dirty

    def render(self) -> Element:
        return h.ul([h.li(x) for x in self.log], id="log", on_click=self.add)


class Row(Component):
    """A row with its own state (selected) and a label from its props."""

    def mount(self, props: Mapping[str, Any]) -> None:
        self.selected = False

    def toggle(self) -> None:
        self.selected = not self.selected

    def render(self) -> Element:
        renders[f"Row{self.props['id']}"] += 1
        return h.li(
            self.props["label"],
            id=f"row{self.props['id']}",
            class_="selected" if self.selected else None,
            on_click=self.toggle,
        )


class Table(Component):
    def mount(self, props: Mapping[str, Any]) -> None:
        self.rows = [{"id": i, "label": f"row {i}"} for i in range(props.get("n", 100))]

    def reverse(self) -> None:
        self.rows = self.rows[::-1]

    def relabel(self) -> None:
        self.rows = [dict(r, label=r["label"].upper()) if r["id"] == 0 else r for r in self.rows]

    def drop_first(self) -> None:
        self.rows = self.rows[1:]

    def render(self) -> Element:
        renders["Table"] += 1
        return h.div(
            h.button("reverse", id="reverse", on_click=self.reverse),
            h.button("relabel", id="relabel", on_click=self.relabel),
            h.button("drop", id="drop", on_click=self.drop_first),
            h.ul([h(Row, key=r["id"], id=r["id"], label=r["label"]) for r in self.rows], id="rows"),
        )


class Bomb(Component):
    mounts: ClassVar[int] = 0

    def mount(self, props: Mapping[str, Any]) -> None:
        type(self).mounts += 1
        self.armed = True

    def boom(self) -> None:
        raise ValueError("boom")

    def render(self) -> Element:
        return h.div(h.button("boom", id="boom", on_click=self.boom), id="bomb")


class Panel(Component):
    """A crashing child next to a counting sibling."""

    def mount(self, props: Mapping[str, Any]) -> None:
        self.title = "panel"

    def render(self) -> Element:
        return h.section(h(Bomb), h(Counter), id="panel")


class Clock(Component):
    """Ticks every second while mounted; ``ticks`` records the virtual times."""

    ticks: ClassVar[list[float]] = []

    def mount(self, props: Mapping[str, Any]) -> None:
        self.n = 0
        self.every(props.get("interval", 1.0), self.tick)

    def tick(self) -> None:
        Clock.ticks.append(trio.current_time())
        self.n += 1

    def fail(self) -> None:
        raise RuntimeError("clock failed")

    def render(self) -> Element:
        return h.div(h.span(self.n, id="clock"), h.button("x", id="fail", on_click=self.fail))


class ClockHolder(Component):
    """Shows a Clock until the button hides it."""

    def mount(self, props: Mapping[str, Any]) -> None:
        self.show = True

    def hide(self) -> None:
        self.show = False

    def render(self) -> Element:
        return h.div(
            h.button("hide", id="hide", on_click=self.hide), h(Clock) if self.show else None
        )
