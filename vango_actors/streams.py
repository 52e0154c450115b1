"""Streams: keyed collections whose items go to the client and are not kept on the server.

A :class:`Stream` renders an (empty) container element; ``append`` / ``prepend`` /
``insert_at`` / ``delete`` / ``reset`` render the items to HTML at once and send them as
``CALL "stream"`` ops (applied by ``vango.rich.js`` after the rest of the frame), so the
server holds no item, no vdom node and no hid for them: a 10,000-row feed costs the server
nothing per row (``python -m bench streams``).

Items added before the page's first render (in ``mount``) are part of the first HTML: the
stream keeps that one HTML string (not the items) until ``reset``. Items carry no hids: an
element inside an item with ``data-stream-click="name"`` sends EVENT ``stream``
``{"event": name, "key": key}`` on the container, and a JS hook's ``this.pushEvent(name,
payload)`` sends ``{"event": name, "key": key, "payload": payload}`` there: bind them with
``Stream(on_event=...)``.

A resync (REPLACE of the whole page, after a lost replay buffer) shows the container with the
items of the first render only, as a LiveView stream after a remount: pages that need the
full list back re-send it (``reset(items)``) from their own store.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Generic, TypeVar

import attrs

from . import html as _html
from .component import Component
from .vdom import Element, Handler, h

T = TypeVar("T")

#: The op name the rich client applies: ``[13, "stream", {name, do, ...}]``.
CALL_NAME = "stream"


class Stream(Generic[T]):
    """A keyed stream of ``T`` shown in a container rendered by :meth:`container`."""

    def __init__(
        self,
        owner: Component,
        name: str,
        render_item: Callable[[T], Element],
        *,
        key: Callable[[T], str | int] = lambda item: item["id"],  # type: ignore[index]
        on_event: Handler | None = None,
        tag: str = "div",
    ) -> None:
        if not name or '"' in name or "\\" in name:
            raise ValueError(f"stream name: expected a non-empty name without quotes, got {name!r}")
        self.owner = owner
        self.name = name
        self.render_item = render_item
        self.key = key
        self.on_event = on_event
        self.tag = tag
        # (key, HTML) of the items added before the first render
        self._initial: list[tuple[str, str]] = []
        self._initial_html = ""
        self._rendered = False
        self.sent = 0  # items sent to the client so far (a counter, not the items)
        # the last container: given back as is while nothing it shows changed, so the diff
        # skips it (``old is new``) and a render after an append costs no walk
        self._container: tuple[dict[str, Any], str, Element] | None = None

    # ------------------------------------------------------------------ rendering

    def container(self, **attrs: Any) -> Element:
        """The container element (put it in ``render``); its children are the client's."""
        if not self._rendered:
            self._rendered = True
            self._initial_html = "".join(html for _, html in self._initial)
            self._initial = []
        if self.on_event is not None:
            attrs["on_stream"] = self.on_event
        last = self._container
        if last is not None and last[1] is self._initial_html and last[0] == attrs:
            return last[2]
        kids = [h.raw(self._initial_html)] if self._initial_html else []
        element: Element = getattr(h, self.tag)(*kids, data_vango_stream=self.name, **attrs)
        self._container = (attrs, self._initial_html, element)
        return element

    def item_html(self, item: T) -> str:
        """One item's HTML: the rendered element with ``data-stream-key`` added (a subclass
        may override it, e.g. to share rows between sessions)."""
        element = self.render_item(item)
        key = str(self.key(item))
        keyed = attrs.evolve(element, attrs={**element.attrs, "data-stream-key": key})
        return _html.render(keyed)

    # ------------------------------------------------------------------ operations

    def append(self, items: Iterable[T]) -> None:
        """Add ``items`` at the end (an item whose key is shown already is replaced in place)."""
        self._insert(-1, items)

    def prepend(self, items: Iterable[T]) -> None:
        """Add ``items`` at the start, in the order given."""
        self._insert(0, items)

    def insert_at(self, index: int, item: T) -> None:
        """Insert ``item`` before the item at ``index`` (-1: at the end)."""
        self._insert(index, [item])

    def delete(self, key: str | int) -> None:
        """Remove the item whose key is ``key`` (nothing if the client does not show it)."""
        self._call({"do": "delete", "key": str(key)})

    def reset(self, items: Iterable[T] = ()) -> None:
        """Empty the stream, then show ``items``."""
        self._initial_html = ""
        self._initial = []
        host = self.owner._vango_host
        if host is not None:
            host.mark_dirty()
        self._call({"do": "reset"})
        self.append(items)

    def _insert(self, at: int, items: Iterable[T]) -> None:
        items = list(items)
        if not items:
            return
        self.sent += len(items)
        if not self._rendered:
            self._insert_initial(at, [(str(self.key(i)), self.item_html(i)) for i in items])
            return
        self._call({"do": "insert", "at": at, "html": [self.item_html(i) for i in items]})

    def _insert_initial(self, at: int, rendered: list[tuple[str, str]]) -> None:
        """An insert before the first render, as the client applies one: an item whose key
        is there already replaces it in place (the page never shows a key twice)."""
        shown = self._initial
        place = len(shown) if at < 0 else min(at, len(shown))
        for key, html in rendered:
            old = next((i for i, (k, _) in enumerate(shown) if k == key), None)
            if old is None:
                shown.insert(place, (key, html))
                place += 1
            else:
                shown[old] = (key, html)
                if old == place:
                    place += 1

    def _call(self, args: dict[str, Any]) -> None:
        if not self._rendered:
            if args["do"] == "reset":
                self._initial = []
            elif args["do"] == "delete":
                self._initial = [(k, s) for k, s in self._initial if k != args["key"]]
            return
        args["name"] = self.name
        self.owner._runtime().page_op([13, CALL_NAME, args])
