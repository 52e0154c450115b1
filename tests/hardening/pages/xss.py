"""`/xss`: user-controlled strings rendered as text, attributes and URLs, first and by patches.

Every payload would set ``window.pwned`` if it ever ran. ``#in`` (input) copies its value into
``#echo-text`` (TEXT op), ``#echo-attr[title]`` and ``#echo-link[href]`` (SET_ATTR ops);
``#add`` appends it as a new list item (INSERT op carrying HTML).
"""

from __future__ import annotations

from vango_actors import Element, h
from vango_actors.component import Component
from vango_actors.protocol import Event
from vango_actors.routing import live_page

PAYLOADS = (
    "<script>window.pwned='script'</script>",
    "<img src=x onerror=\"window.pwned='img'\">",
    "\"><img src=x onerror=window.pwned='breakout'>",
    "' autofocus onfocus='window.pwned=`single`",
    "javascript:window.pwned='js'",
    " JaVaScRiPt:window.pwned='case'",
    "java\tscript:window.pwned='tab'",
    "&#106;avascript:window.pwned='entity'",
    "vbscript:window.pwned='vb'",
    "data:text/html,<script>parent.pwned='data'</script>",
    "</textarea><script>window.pwned='textarea'</script>",
    "<svg onload=window.pwned='svg'>",
    "<!--<script>window.pwned='comment'</script>-->",
)


def item(i: int, value: str) -> Element:
    return h.li(
        h.span(value, class_="text"),
        h.a("link", href=value, title=value, class_="link"),
        h.img(src=value, alt=value),
        h.textarea(value=value),
        key=i,
    )


@live_page(title="XSS")
class Xss(Component):
    def mount(self, props: object) -> None:
        self.value = ""
        self.added: list[str] = []

    def typed(self, event: Event) -> None:
        self.value = str(event.payload.get("value", ""))

    def add(self) -> None:
        self.added.append(self.value)

    def render(self) -> Element:
        items = [*PAYLOADS, *self.added]
        return h.main(
            h.input(id="in", value=self.value, on_input=self.typed),
            h.button("add", id="add", on_click=self.add),
            h.p(self.value, id="echo-text"),
            h.div("attr", id="echo-attr", title=self.value, data_x=self.value),
            h.a("echo link", id="echo-link", href=self.value or "#"),
            h.ul(*[item(i, v) for i, v in enumerate(items)], id="list"),
        )
