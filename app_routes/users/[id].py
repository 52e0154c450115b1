"""`/users/<id>`: a typed path parameter rendered into the page."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from vango_actors import Element, h
from vango_actors.component import Component
from vango_actors.routing import live_page

params = {"id": int}


@live_page(title="User {id}")
class UserPage(Component):
    def mount(self, props: Mapping[str, Any]) -> None:
        self.user_id = int(props["id"])
        self.greeted = False

    def greet(self) -> None:
        self.greeted = True

    def render(self) -> Element:
        return h.main(
            h.h1("User ", h.span(self.user_id, id="user-id")),
            h.button("Say hello", id="greet", on_click=self.greet),
            h.p(f"Hello, user {self.user_id}!" if self.greeted else "", id="greeting"),
            h.p(h.a("all demos", href="/")),
        )
