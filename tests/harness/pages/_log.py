"""The base of the parity pages: a handler that logs each event and the log it renders."""

from __future__ import annotations

import json
from typing import Any

from vango_actors import Element, Event, h
from vango_actors.component import Component


class Logging(Component):
    def mount(self, props: object) -> None:
        self.log: list[list[Any]] = []

    def note(self, event: Event) -> None:
        self.log = [*self.log, [event.type, event.payload]]

    def shown(self) -> Element:
        return h.pre(json.dumps(self.log), id="log")
