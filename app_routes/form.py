"""`/form`: validation while typing (debounced) and a submit handled on the server."""

from __future__ import annotations

import re

from vango_actors import Element, h
from vango_actors.component import Component
from vango_actors.protocol import Event
from vango_actors.routing import live_page

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def email_problem(value: str) -> str:
    """Empty when ``value`` looks like an e-mail address, else what is wrong with it."""
    if not value:
        return "Please enter an e-mail address."
    if not EMAIL.match(value):
        return f"{value!r} is not an e-mail address (expected name@example.org)."
    return ""


@live_page(title="Form")
class SignupForm(Component):
    def mount(self, props: object) -> None:
        self.email = ""
        self.error = ""
        self.result = ""

    def validate(self, event: Event) -> None:
        self.email = str(event.payload.get("value", ""))
        self.error = email_problem(self.email)

    def submit(self, event: Event) -> None:
        form = event.payload.get("form", {})
        self.email = str(form.get("email", self.email))
        self.error = email_problem(self.email)
        self.result = "" if self.error else f"Thanks, {self.email} is signed up."

    def render(self) -> Element:
        return h.main(
            h.h1("Sign up"),
            h.form(
                # No value= binding: the browser owns the text being typed, the server only
                # validates it, so a late patch can never overwrite newer keystrokes.
                h.label(
                    "E-mail ",
                    h.input(
                        id="email",
                        name="email",
                        type="text",
                        autocomplete="off",
                        on_input=h.debounce(150, self.validate),
                    ),
                ),
                h.div(self.error, id="email-error", class_="error"),
                h.button("Sign up", type="submit", id="submit"),
                id="signup",
                on_submit=self.submit,
            ),
            h.p(self.result, id="form-result", class_="ok"),
            h.p(h.a("all demos", href="/")),
        )
