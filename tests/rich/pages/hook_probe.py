"""`/hook_probe`: hooks whose lifecycle the browser tests read from ``window.hookLog``: a hook
name the server changes, hooks on a keyed list it reorders or grows, server patches inside, beside
and on a hook element, ``push_event`` to ``handleEvent``, and a hook in a stream item."""

from __future__ import annotations

from typing import Any

from vango_actors import Element, h
from vango_actors.commands import JS
from vango_actors.component import Component
from vango_actors.protocol import Event
from vango_actors.routing import live_page
from vango_actors.streams import Stream

# Each hook instance logs [callback, hook name, element id, instance number, ...].
PROBE_JS = """
window.hookLog = [];
window.hookSeq = 0;
const probe = (tag) => ({
  mounted() {
    this.n = ++window.hookSeq;
    hookLog.push(['mounted', tag, this.el.id, this.n]);
    this.handleEvent('ping', (p) => hookLog.push(['ping', tag, this.el.id, this.n, p.n]));
    if (this.el.dataset.push) this.pushEvent('seen', {id: this.el.id});
  },
  updated() { hookLog.push(['updated', tag, this.el.id, this.n]); },
  destroyed() { hookLog.push(['destroyed', tag, this.el.id, this.n]); },
});
window.vangoHooks = {A: probe('A'), B: probe('B')};
"""


def _row(item: dict[str, Any]) -> Element:
    return h.li(
        item["text"],
        id=f"item-{item['id']}",
        data_vango_hook="A",
        data_push="1",
    )


@live_page(title="Hook probe")
class HookProbe(Component):
    def mount(self, props: object) -> None:
        self.name = "A"
        self.order = ["1", "2", "3"]
        self.inner = 0
        self.outside = 0
        self.title = 0
        self.pings = 0
        self.seen: list[str] = []
        self.feed: Stream[dict[str, Any]] = Stream(
            self, "feed", _row, on_event=self.on_item, tag="ul"
        )

    def rename(self) -> None:
        self.name = "B" if self.name == "A" else "A"

    def reverse(self) -> None:
        self.order.reverse()

    def bump_inner(self) -> None:
        self.inner += 1

    def bump_outside(self) -> None:
        self.outside += 1

    def bump_title(self) -> None:
        self.title += 1

    def ping(self) -> None:
        self.pings += 1
        self.push_event("ping", {"n": self.pings})

    def grow(self) -> None:
        """A new row, and in the same frame a push_event and a command for it."""
        self.order.append(str(len(self.order) + 1))
        self.push_event("ping", {"n": 0})
        self.exec_js(JS.add_class(f"#row-{self.order[-1]}", "lit"))

    def add_item(self) -> None:
        n = len(self.seen) + 1
        self.feed.append([{"id": n, "text": f"item {n}"}])

    def on_item(self, event: Event) -> None:
        got = event.payload
        self.seen.append(f"{got.get('event')}:{got.get('key')} {got.get('payload')}")

    def render(self) -> Element:
        return h.main(
            h.script(h.raw(PROBE_JS), data_vango_run=True),
            h.div(
                h.span(self.inner, id="inner"),
                id="swap",
                title=f"t{self.title}",
                data_vango_hook=self.name,
            ),
            h.ul(
                *[h.li(k, id=f"row-{k}", key=k, data_vango_hook="A") for k in self.order],
                id="rows",
            ),
            h.p(h.span(self.outside, id="outside")),
            h.p(" ".join(self.seen), id="seen"),
            self.feed.container(id="feed"),
            h.button("rename", id="rename", on_click=self.rename),
            h.button("reverse", id="reverse", on_click=self.reverse),
            h.button("inner", id="bump-inner", on_click=self.bump_inner),
            h.button("outside", id="bump-outside", on_click=self.bump_outside),
            h.button("title", id="bump-title", on_click=self.bump_title),
            h.button("ping", id="ping", on_click=self.ping),
            h.button("add item", id="add-item", on_click=self.add_item),
            h.button("grow", id="grow", on_click=self.grow),
        )
