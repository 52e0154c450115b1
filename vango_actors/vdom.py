"""Virtual DOM values: elements, text, raw HTML, component placeholders and the `h` builder.

Pure values, no I/O. Event handlers are kept on the server: an element's ``events`` maps an
event type to its :class:`Binding`; the client only ever sees the list of bound event types
(the ``data-on`` attribute the builder derives), never code.

Hydration ids (``hid``) are filled in by :func:`vango_actors.diff.assign_hids` and
:func:`vango_actors.diff.diff`; user code builds trees without them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol, TypeAlias, Union

import attrs
from attrs import field

AttrValue: TypeAlias = str | int | float | bool | None
Handler: TypeAlias = Callable[..., Any]

#: Attribute that lists the event types an element is bound to, e.g. ``data-on="click input"``.
EVENTS_ATTR = "data-on"

_EVENT_TYPES = frozenset(
    {"click", "dblclick", "input", "change", "submit", "keydown", "keyup", "focus", "blur"}
)


@attrs.frozen(slots=True)
class Binding:
    """A server-side event handler plus the client options that shape when it fires."""

    handler: Handler
    debounce: int | None = None  # ms; the client waits for a pause before sending
    throttle: int | None = None  # ms; at most one event per interval
    keys: tuple[str, ...] | None = None  # keydown/keyup: only these keys are sent


@attrs.frozen(slots=True)
class Text:
    """A text node; rendered escaped."""

    text: str


@attrs.frozen(slots=True)
class Raw:
    """Trusted HTML, rendered verbatim. The only way raw markup reaches the page.

    A Raw node must be the only child of its element (the client cannot index past it).
    """

    html: str


@attrs.frozen(slots=True, hash=False)
class Element:
    """An element. ``attrs`` holds what is rendered; ``events`` stays on the server.

    ``hid`` is the hydration id assigned when the tree is mounted; it is not part of equality.
    """

    tag: str
    attrs: Mapping[str, AttrValue] = field(factory=dict)
    children: tuple[Node, ...] = ()
    key: str | int | None = None
    events: Mapping[str, Binding] = field(factory=dict, eq=False)
    hid: int | None = field(default=None, eq=False)


class SlotRef(Protocol):
    """What a mounted child component exposes to the core: its current rendered tree."""

    @property
    def tree(self) -> Element: ...


@attrs.frozen(slots=True, hash=False)
class ComponentNode:
    """A child component placeholder in a render: class, props and optional key.

    The runtime resolves it to a :class:`Slot` holding the live instance.
    """

    component: type
    props: Mapping[str, Any] = attrs.field(factory=dict)
    key: str | int | None = None


@attrs.frozen(slots=True, hash=False, eq=False)
class Slot:
    """A mounted child component inside a parent's rendered tree.

    The diff treats two slots of the same instance as equal without looking inside: the
    child renders and diffs itself. That makes components diff boundaries.
    """

    ref: SlotRef
    key: str | int | None = None

    @property
    def tree(self) -> Element:
        return self.ref.tree


Node: TypeAlias = Union[Element, Text, Raw, ComponentNode, Slot]  # noqa: UP007 (forward refs)
Child: TypeAlias = Union[Node, str, int, float, bool, Iterable["Child"], None]  # noqa: UP007


class HidCounter:
    """Hands out hydration ids, never twice, for one session (1, 2, 3, ...)."""

    __slots__ = ("last",)

    def __init__(self, last: int = 0) -> None:
        self.last = last

    def next(self) -> int:
        self.last += 1
        return self.last


def debounce(ms: int, handler: Handler) -> Binding:
    """Bind ``handler`` so the client sends the event only after ``ms`` of quiet."""
    return Binding(handler, debounce=ms)


def throttle(ms: int, handler: Handler) -> Binding:
    """Bind ``handler`` so the client sends at most one event per ``ms``."""
    return Binding(handler, throttle=ms)


def on_keys(keys: Iterable[str], handler: Handler) -> Binding:
    """Bind a keydown/keyup ``handler`` that fires only for the named keys (``"Enter"``...)."""
    return Binding(handler, keys=tuple(keys))


def _attr_name(name: str) -> str:
    # class_ -> class, for_ -> for, data_foo -> data-foo, aria_label -> aria-label
    return name.rstrip("_").replace("_", "-")


def _flatten(children: Iterable[Child], out: list[Node]) -> None:
    for child in children:
        if child is None or child is False or child is True:
            continue
        if isinstance(child, str):
            if child:
                if out and type(out[-1]) is Text:
                    out[-1] = Text(out[-1].text + child)
                else:
                    out.append(Text(child))
        elif isinstance(child, (Element, Raw, ComponentNode, Slot)):
            out.append(child)
        elif isinstance(child, Text):
            _flatten((child.text,), out)
        elif isinstance(child, (int, float)):
            _flatten((str(child),), out)
        elif isinstance(child, Iterable):
            _flatten(child, out)
        else:
            raise TypeError(f"cannot use {type(child).__name__} as a child node: {child!r}")


def children_of(*children: Child) -> tuple[Node, ...]:
    """Normalise children: flatten lists, drop None/bool/empty text, merge adjacent text."""
    out: list[Node] = []
    _flatten(children, out)
    return tuple(out)


_TAG_RE = re.compile(r"^[a-zA-Z][a-zA-Z0-9-]*$")


def element(tag: str, *children: Child, **props: Any) -> Element:
    """Build an element. ``on_<event>=handler`` binds events; ``key=`` sets the diff key.

    Attribute names: a trailing ``_`` is dropped and ``_`` becomes ``-`` (``class_``,
    ``data_id``). ``True`` renders a boolean attribute, ``False``/``None`` omits it.
    """
    if not _TAG_RE.match(tag):
        raise ValueError(f"invalid tag name {tag!r}: expected letters, digits and '-'")
    key = props.pop("key", None)
    attributes: dict[str, AttrValue] = {}
    events: dict[str, Binding] = {}
    for name, value in props.items():
        if name.startswith("on_"):
            event = name[3:]
            if event not in _EVENT_TYPES:
                raise ValueError(
                    f"unknown event {event!r} in {name}=: expected one of {sorted(_EVENT_TYPES)}"
                )
            if value is None:
                continue
            events[event] = value if isinstance(value, Binding) else Binding(value)
        else:
            attributes[_attr_name(name)] = value
    if events:
        attributes[EVENTS_ATTR] = " ".join(events)
        for binding in events.values():
            if binding.debounce is not None:
                attributes["data-debounce"] = binding.debounce
            if binding.throttle is not None:
                attributes["data-throttle"] = binding.throttle
            if binding.keys is not None:
                attributes["data-keys"] = " ".join(binding.keys)
    kids = children_of(*children)
    if any(type(c) is Raw for c in kids) and len(kids) != 1:
        raise ValueError(f"<{tag}>: a Raw node must be the only child of its element")
    return Element(tag, attributes, kids, key, events)


class _Builder:
    """``h.div(...)``, ``h("my-tag", ...)`` and ``h(ChildComponent, key=..., **props)``."""

    def __call__(self, tag: str | type, *children: Child, **props: Any) -> Element | ComponentNode:
        if isinstance(tag, type):
            if children:
                raise TypeError(f"{tag.__name__}: pass component inputs as keyword props")
            key = props.pop("key", None)
            return ComponentNode(tag, props, key)
        return element(tag, *children, **props)

    def __getattr__(self, tag: str) -> Callable[..., Element]:
        if tag.startswith("_"):
            raise AttributeError(tag)
        tag = tag.rstrip("_")

        def build(*children: Child, **props: Any) -> Element:
            return element(tag, *children, **props)

        build.__name__ = tag
        return build

    @staticmethod
    def raw(html: str) -> Raw:
        """Mark ``html`` as trusted markup to be rendered verbatim."""
        return Raw(html)

    @staticmethod
    def text(value: object) -> Text:
        return Text(str(value))

    fragment = staticmethod(children_of)
    debounce = staticmethod(debounce)
    throttle = staticmethod(throttle)
    on_keys = staticmethod(on_keys)


h = _Builder()
