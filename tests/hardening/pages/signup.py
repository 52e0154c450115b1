"""`/signup`: fields that come and go before other fields (an error message above the field
being typed into, a company field shown for a business account), none of them keyed."""

from __future__ import annotations

from vango_actors import Element, Event, h
from vango_actors.component import Component
from vango_actors.routing import live_page


@live_page(title="Signup")
class Signup(Component):
    def mount(self, props: object) -> None:
        self.kind = "personal"
        self.email = ""
        self.news = False

    def set_kind(self, event: Event) -> None:
        self.kind = str(event.payload.get("value", "personal"))

    def set_email(self, event: Event) -> None:
        self.email = str(event.payload.get("value", ""))

    def set_news(self, event: Event) -> None:
        self.news = event.payload.get("checked") is True

    def render(self) -> Element:
        bad = self.email and "@" not in self.email
        return h.main(
            h.form(
                h.input(
                    type="radio",
                    name="kind",
                    value="personal",
                    id="personal",
                    checked=self.kind == "personal",
                    on_change=self.set_kind,
                ),
                h.input(
                    type="radio",
                    name="kind",
                    value="business",
                    id="business",
                    checked=self.kind == "business",
                    on_change=self.set_kind,
                ),
                self.kind == "business" and h.input(id="company", name="company"),
                bad and h.p("That is not an e-mail address.", id="email-error"),
                h.input(id="email", name="email", on_input=self.set_email),
                h.input(id="phone", name="phone"),
                h.input(type="checkbox", id="news", checked=self.news, on_change=self.set_news),
                id="signup",
            ),
            h.p(self.email, id="server-email"),
            h.p(f"{self.kind} {self.news}", id="server-choices"),
        )
