"""`/upload`: files over the live socket in chunks, with progress, validation (type, size,
count), cancel; finished files are spooled to disk and consumed on Save."""

from __future__ import annotations

import hashlib
import os
from typing import Any

from vango_actors import Element, h
from vango_actors.component import Component
from vango_actors.routing import live_page

MAX_SIZE = 2 * 1024 * 1024  # the demo's limit (the default is 8 MB)


def _digest(path: str) -> str:
    sha = hashlib.sha256()
    with open(path, "rb") as spool:
        for block in iter(lambda: spool.read(1 << 16), b""):
            sha.update(block)
    return sha.hexdigest()[:16]


@live_page(title="Uploads")
class UploadPage(Component):
    def mount(self, props: object) -> None:
        self.allow_upload(
            "files", accept=(".txt", ".bin", "image/*"), max_entries=3, max_size=MAX_SIZE
        )
        self.saved: list[dict[str, Any]] = []

    def save(self) -> None:
        for entry in self.consume_uploads("files"):
            assert entry.path is not None
            self.saved.append({"name": entry.name, "size": entry.size, "sha": _digest(entry.path)})
            os.unlink(entry.path)  # a real app moves it to its storage

    def _cancel(self, ref: str) -> Any:
        return lambda: self.cancel_upload("files", ref)

    def _entry(self, entry: Any) -> Element:
        state = entry.error or ("done" if entry.done else f"{entry.progress}%")
        # a refused file is cancelled too (removed from the list), as one still sending
        label = "Remove" if entry.error else "Cancel"
        cancel = h.button(label, class_="cancel", on_click=self._cancel(entry.ref))
        return h.li(
            h.span(entry.name, class_="name"),
            " ",
            h.span(state, class_="error" if entry.error else "state"),
            *([] if entry.done else [" ", cancel]),
            data_ref=entry.ref,
        )

    def render(self) -> Element:
        entries = self.uploads("files")
        total = sum(e.size for e in entries if not e.error) or 1
        received = sum(e.received for e in entries if not e.error)
        return h.main(
            h.h1("Uploads"),
            h.p(f"Up to 3 files (.txt, .bin, images), {MAX_SIZE // 1024} KB each."),
            h.form(
                self.upload_input("files", id="upload-input"),
                " ",
                h.button("Save", id="upload-save", type="submit"),
                id="upload-form",
                on_submit=self.save,
            ),
            h.progress(value=received * 100 // total, max=100, id="upload-progress"),
            h.ul(
                *[h.li(e, class_="error") for e in self.upload_errors("files")], id="upload-errors"
            ),
            h.ul(*[self._entry(e) for e in entries], id="uploads"),
            h.h2("Saved"),
            h.ul(
                *[h.li(f"{s['name']} {s['size']} {s['sha']}") for s in self.saved],
                id="upload-saved",
            ),
            h.p(h.a("all demos", href="/")),
        )
