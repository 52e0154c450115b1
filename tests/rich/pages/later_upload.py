"""`/later_upload`: the upload input is shown only after a click ("Add photos"), so the first
render has none (allow_upload in mount is what says the page uploads)."""

from __future__ import annotations

from vango_actors import Element, h
from vango_actors.component import Component
from vango_actors.routing import live_page


@live_page(title="Later upload")
class LaterUpload(Component):
    def mount(self, props: object) -> None:
        self.allow_upload("photos", accept=(".txt",), max_entries=2)
        self.picking = False

    def pick(self) -> None:
        self.picking = True

    def render(self) -> Element:
        entries = self.uploads("photos")
        return h.main(
            self.upload_input("photos", id="photos")
            if self.picking
            else h.button("Add photos", id="pick", on_click=self.pick),
            h.ul(*[h.li(f"{e.name} {e.error or e.progress}") for e in entries], id="entries"),
        )
