"""`/typing`: fields whose typed (pasted) text the browser changes: line breaks, an e-mail
address's spaces, ``maxlength``, a number."""

from __future__ import annotations

from vango_actors import Element, h
from vango_actors.routing import live_page

from ._log import Logging


@live_page(title="Typing")
class Typing(Logging):
    def render(self) -> Element:
        n = self.note
        return h.main(
            h.form(
                h.input(name="line", id="line", on_input=n),
                h.input(type="email", name="email", id="email", on_input=n),
                h.input(name="short", id="short", maxlength=5, on_input=n),
                h.textarea(
                    name="notes", id="notes", maxlength=8
                ),  # (Chromium fills lines one by one)
                h.input(type="number", name="count", id="count", on_input=n),
                h.input(id="keys", maxlength=3, on_keydown=n),  # no name: not submitted
                h.button("Save"),
                id="typing",
                on_submit=n,
            ),
            self.shown(),
        )
