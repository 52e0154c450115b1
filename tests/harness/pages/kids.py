"""`/kids`: keyed child components that bind their own events and move, and a stream whose
items are clicked (a nested element, a link) and inserted, replaced, deleted and reset."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from vango_actors import Element, Event, h
from vango_actors.component import Component
from vango_actors.routing import live_page
from vango_actors.streams import Stream

from ._log import Logging


class Kid(Component):
    def mount(self, props: Mapping[str, Any]) -> None:
        self.name = str(props["name"])
        self.clicks = 0

    def clicked(self) -> None:
        self.clicks += 1

    def render(self) -> Element:
        return h.li(
            h.button(self.name, id=f"kid-{self.name}", on_click=self.clicked),
            h.span(self.clicks, class_="clicks"),
            class_="kid",
        )


def _item(item: dict[str, Any]) -> Element:
    return h.li(
        h.button(h.b(item["text"], id=f"bold-{item['id']}"), data_stream_click="pick"),
        h.a("open", href="/kids?open", id=f"open-{item['id']}", data_stream_click="open"),
        id=f"item-{item['id']}",
    )


@live_page(title="Kids")
class Kids(Logging):
    def mount(self, props: object) -> None:
        super().mount(props)
        self.names = ["a", "b", "c"]
        self.feed: Stream[dict[str, Any]] = Stream(self, "feed", _item, on_event=self.note)
        self.feed.append([{"id": 1, "text": "one"}, {"id": 2, "text": "two"}])

    def reverse(self) -> None:
        self.names = self.names[::-1]

    def change(self) -> None:
        self.feed.insert_at(1, {"id": 3, "text": "three"})
        self.feed.append([{"id": 1, "text": "uno"}])  # shown already: replaced in place
        self.feed.delete(2)

    def reset(self, event: Event) -> None:
        self.feed.reset([{"id": 9, "text": "nine"}])

    def render(self) -> Element:
        return h.main(
            h.ul([h(Kid, name=name, key=name) for name in self.names], id="kids"),
            h.button("Reverse", id="reverse", on_click=self.reverse),
            h.div(self.feed.container(), id="around", on_click=self.note),
            h.button("Change", id="change", on_click=self.change),
            h.button("Reset", id="reset", on_click=self.reset),
            self.shown(),
        )
