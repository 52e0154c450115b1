"""`/stream`: a feed kept by the browser, not the server (append, prepend, insert at, delete,
reset); ``#stream-add-1000`` adds a thousand rows the server does not remember."""

from __future__ import annotations

from typing import Any

from vango_actors import Element, h
from vango_actors.component import Component
from vango_actors.protocol import Event
from vango_actors.routing import live_page
from vango_actors.streams import Stream


def _row(item: dict[str, Any]) -> Element:
    return h.li(
        h.span(item["text"], class_="text"),
        " ",
        h.button("\N{MULTIPLICATION SIGN}", class_="del", data_stream_click="delete"),
        id=f"row-{item['id']}",
    )


@live_page(title="Streams")
class StreamPage(Component):
    def mount(self, props: object) -> None:
        self.next_id = 0
        self.deleted = 0
        self.feed: Stream[dict[str, Any]] = Stream(
            self, "feed", _row, on_event=self.on_row, tag="ul"
        )
        self.feed.append(self._new(3))  # part of the first HTML

    def _new(self, n: int) -> list[dict[str, Any]]:
        items = []
        for _ in range(n):
            self.next_id += 1
            items.append({"id": self.next_id, "text": f"item {self.next_id}"})
        return items

    def add(self) -> None:
        self.feed.append(self._new(1))

    def add_many(self) -> None:
        self.feed.append(self._new(1000))

    def prepend(self) -> None:
        self.feed.prepend(self._new(1))

    def insert(self) -> None:
        self.feed.insert_at(1, self._new(1)[0])

    def reset(self) -> None:
        self.feed.reset(self._new(2))

    def on_row(self, event: Event) -> None:
        if event.payload.get("event") == "delete":
            self.feed.delete(str(event.payload.get("key", "")))
            self.deleted += 1

    def render(self) -> Element:
        return h.main(
            h.h1("Streams"),
            h.p(
                h.button("Append", id="stream-add", on_click=self.add),
                " ",
                h.button("Prepend", id="stream-prepend", on_click=self.prepend),
                " ",
                h.button("Insert at 1", id="stream-insert", on_click=self.insert),
                " ",
                h.button("Append 1000", id="stream-add-1000", on_click=self.add_many),
                " ",
                h.button("Reset", id="stream-reset", on_click=self.reset),
            ),
            h.p(
                "sent: ",
                h.span(self.next_id, id="stream-sent"),
                " deleted: ",
                h.span(self.deleted, id="stream-deleted"),
            ),
            self.feed.container(id="feed"),
            h.p(h.a("all demos", href="/")),
        )
