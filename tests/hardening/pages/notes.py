"""`/notes`: fields the page renders with a value (``value=""``), which a submit clears: the
server sends its rendered values again after a submit (diff.resync_submitted)."""

from __future__ import annotations

from vango_actors import Element, Event, h
from vango_actors.component import Component
from vango_actors.routing import live_page


@live_page(title="Notes")
class Notes(Component):
    def mount(self, props: object) -> None:
        self.notes: list[str] = []

    def add(self, event: Event) -> None:
        form = event.payload["form"]
        self.notes.append(f"{form['title']}: {form['body']}")

    def render(self) -> Element:
        return h.main(
            h.form(
                h.input(name="title", id="title", value=""),
                h.textarea(name="body", id="body", value=""),
                h.input(name="free", id="free"),  # no value of the page's: the browser's
                h.button("Add", id="add"),
                id="f",
                on_submit=self.add,
            ),
            h.ul([h.li(n, key=i) for i, n in enumerate(self.notes)], id="notes"),
        )
