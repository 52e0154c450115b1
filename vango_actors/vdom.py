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
from types import FunctionType, MappingProxyType, MethodType
from typing import Any, Protocol, TypeAlias, TypeVar, Union

import attrs
from attrs import field

AttrValue: TypeAlias = str | int | float | bool | None
Handler: TypeAlias = Callable[..., Any]

#: Attribute that lists the event types an element is bound to, e.g. ``data-on="click input"``.
EVENTS_ATTR = "data-on"

_EVENT_TYPES = frozenset(
    {
        "click",
        "dblclick",
        "input",
        "change",
        "submit",
        "keydown",
        "keyup",
        "focus",
        "blur",
        "hook",
        "stream",
        "upload",
    }
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


def _numbers_as_text(attributes: Mapping[str, AttrValue]) -> Mapping[str, AttrValue]:
    """``attributes`` with every int or float value as the text it renders as.

    Python calls ``0 == False`` and ``1 == True == 1.0`` equal; the page does not (``hidden="0"``
    hides, no ``hidden`` shows). With numbers as text, equal attribute maps render equally, so
    the diff can compare them with ``==``.
    """
    for value in attributes.values():
        kind = type(value)
        if kind is int or kind is float:
            return {name: _as_text(value) for name, value in attributes.items()}
    return attributes


def _as_text(value: AttrValue) -> AttrValue:
    kind = type(value)
    return str(value) if kind is int or kind is float else value


@attrs.frozen(slots=True, hash=False)
class Element:
    """An element. ``attrs`` holds what is rendered (numbers as their text); ``events``
    stays on the server.

    ``hid`` is the hydration id assigned when the tree is mounted; it is not part of equality.
    """

    tag: str
    attrs: Mapping[str, AttrValue] = field(factory=dict, converter=_numbers_as_text)
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


@attrs.frozen(slots=True, hash=False)
class Lazy:
    """A memoised subtree: ``fn(*args)``, called only when ``fn`` or ``args`` changed.

    Built with ``h.lazy(fn, *args, key=...)``. When the old tree holds a Lazy with an equal
    ``fn`` and equal ``args`` (``==``) at the same place, the diff reuses its rendered
    subtree as is (same objects, same hids): ``fn`` is not called and nothing is walked.
    Otherwise ``fn(*args)`` is called and diffed against the old subtree. ``fn`` must return
    one Element and depend on its ``args`` only (handlers inside keep the first render's
    closures while the args stay equal); it cannot hold child components.

    ``rendered`` is filled in by :func:`vango_actors.diff.diff` / ``assign_hids`` (not part of
    equality); a Lazy whose ``rendered`` is None belongs to the render that built it.
    """

    fn: Callable[..., Element]
    args: tuple[Any, ...] = ()
    key: str | int | None = None
    rendered: Element | None = field(default=None, eq=False)


def render_lazy(node: Lazy) -> Element:
    """Call ``node.fn(*node.args)``; the one Element it must return."""
    tree = node.fn(*node.args)
    if not isinstance(tree, Element):
        name = getattr(node.fn, "__qualname__", repr(node.fn))
        raise TypeError(
            f"h.lazy({name}, ...): expected the function to return one Element, "
            f"got {type(tree).__name__}"
        )
    return tree


Node: TypeAlias = Union[Element, Text, Raw, ComponentNode, Slot, Lazy]  # noqa: UP007 (forward refs)
Child: TypeAlias = Union[Node, str, int, float, bool, Iterable["Child"], None]  # noqa: UP007


class HidCounter:
    """Hands out hydration ids, never twice, for one session (1, 2, 3, ...). ``copies``
    counts the elements the diff copied because they were numbered already (mounted
    elsewhere): while it stays, the elements of a new tree are the ones numbered.
    ``duplicate_keys`` collects (parent tag, key) for each keyed child list met with a key
    twice (matched by position instead); the runtime logs and clears them."""

    __slots__ = ("copies", "duplicate_keys", "last")

    def __init__(self, last: int = 0) -> None:
        self.last = last
        self.copies = 0
        self.duplicate_keys: list[tuple[str, Any]] = []

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


# ------------------------------------------------------------------ fast constructors
# The attrs __init__ of a frozen slots class sets each field through object.__setattr__;
# the builder and the diff create thousands of nodes per render, so they set the slots
# directly (about 3x faster). Both fall back to the attrs __init__ if the fields change.

_ELEMENT_FIELDS = ("tag", "attrs", "children", "key", "events", "hid")
_new = object.__new__
#: An empty, read-only ``events`` shared by every element that binds nothing.
NO_EVENTS: Mapping[str, Binding] = MappingProxyType({})


def _slot_setters(cls: type, names: tuple[str, ...]) -> tuple[Callable[[Any, Any], None], ...]:
    if tuple(f.name for f in attrs.fields(cls)) != names:
        return ()
    return tuple(cls.__dict__[name].__set__ for name in names)


#: Texts up to this many characters are shared (``make_text``), at most ``_SHARED_TEXTS``.
_SHARED_TEXT_CHARS = 64
_SHARED_TEXTS = 1024
#: The shared Text nodes by text, process-wide (``make_text``; it starts over when full).
_shared_texts: dict[str, Text] = {}


def _make_text_factory() -> Callable[[str], Text]:
    setters = _slot_setters(Text, ("text",))
    if not setters:
        return Text
    (set_text,) = setters

    texts = _shared_texts  # (a closure cell: read faster than the global)

    def make_text(text: str) -> Text:
        # Text is immutable and has no hid, so equal short texts share one node across
        # renders (and sessions): no allocation, and the diff skips an unchanged one by
        # identity. Bounded: the cache starts over when full.
        if len(text) <= _SHARED_TEXT_CHARS:
            node = texts.get(text)
            if node is None:
                node = _new(Text)
                set_text(node, text)
                if len(texts) >= _SHARED_TEXTS:
                    texts.clear()
                texts[text] = node
            return node
        node = _new(Text)
        set_text(node, text)
        return node

    return make_text


def _make_element_factory() -> Callable[[str, Any, Any, Any, Any, Any], Element]:
    setters = _slot_setters(Element, _ELEMENT_FIELDS)
    if not setters:
        return Element
    set_tag, set_attrs, set_children, set_key, set_events, set_hid = setters

    def make_element(
        tag: str, attributes: Any, children: Any, key: Any, events: Any, hid: Any
    ) -> Element:
        node = _new(Element)
        set_tag(node, tag)
        set_attrs(node, attributes)
        set_children(node, children)
        set_key(node, key)
        set_events(node, events)
        set_hid(node, hid)
        return node

    return make_element


#: ``make_text(text)``: a Text without the attrs __init__ (hot path).
make_text = _make_text_factory()
#: ``make_element(tag, attrs, children, key, events, hid)``: all six fields, positional.
make_element = _make_element_factory()
#: ``set_hid(element, hid)``: writes the one field the diff fills in after construction.
set_hid: Callable[[Element, int | None], None] = Element.__dict__["hid"].__set__
#: ``set_children(element, children)``: used by the diff on elements it owns.
set_children: Callable[[Element, tuple[Node, ...]], None] = Element.__dict__["children"].__set__
#: ``set_rendered(lazy, element)``: the diff fills in a Lazy it owns.
set_rendered: Callable[[Lazy, Element | None], None] = Lazy.__dict__["rendered"].__set__


def _make_lazy_factory() -> Callable[[Any, tuple[Any, ...], Any], Lazy]:
    setters = _slot_setters(Lazy, ("fn", "args", "key", "rendered"))
    if not setters:
        return Lazy
    set_fn, set_args, set_key, set_none = setters

    def make_lazy(fn: Any, args: tuple[Any, ...], key: Any) -> Lazy:
        node = _new(Lazy)
        set_fn(node, fn)
        set_args(node, args)
        set_key(node, key)
        set_none(node, None)
        return node

    return make_lazy


#: ``make_lazy(fn, args, key)``: a Lazy without the attrs __init__ (one per list row).
make_lazy = _make_lazy_factory()


def lazy(fn: Callable[..., Element], *args: Any, key: str | int | None = None) -> Lazy:
    """``fn(*args)`` as a memoised subtree: re-rendered only when ``fn`` or ``args`` change.

    Give rows of a keyed list the row's ``key=`` (the Lazy is the list's child). The args
    are compared with ``==``: pass small immutable values (a tuple, a frozen attrs record).
    """
    if not callable(fn):
        raise TypeError(f"h.lazy: expected a function returning an Element, got {fn!r}")
    return make_lazy(fn, args, key)


def _flatten(children: Iterable[Child], out: list[Node]) -> None:
    for child in children:
        if child is None or child is False or child is True:
            continue
        if isinstance(child, str):
            if child:
                if out and type(out[-1]) is Text:
                    out[-1] = make_text(out[-1].text + child)
                else:
                    out.append(make_text(child))
        elif isinstance(child, (Element, Raw, ComponentNode, Slot, Lazy)):
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


def _normalise(tag: str, children: tuple[Child, ...]) -> tuple[Node, ...]:
    """``children_of`` with fast paths for the common shapes (one string, only elements)."""
    if len(children) == 1:
        child = children[0]
        kind = type(child)
        if kind is str:
            return (make_text(child),) if child else ()  # type: ignore[arg-type]
        if kind is Element:
            return children  # type: ignore[return-value]
        if kind is int:
            return (make_text(str(child)),)
    else:
        for child in children:
            if type(child) is not Element and type(child) is not Lazy:
                break
        else:
            return children  # type: ignore[return-value]
        mixed = _elements_and_text(children)
        if mixed is not None:
            return mixed
    out: list[Node] = []
    _flatten(children, out)
    for child in out:
        if type(child) is Raw and len(out) != 1:
            raise ValueError(f"<{tag}>: a Raw node must be the only child of its element")
    return tuple(out)


def _elements_and_text(children: tuple[Child, ...]) -> tuple[Node, ...] | None:
    """The children when they are only nodes, strings and numbers (``h.p(a, " ", b)``),
    adjacent text merged and empty strings dropped, as ``_flatten`` does; None for any other
    child (None, a list, a Text, a Raw...): the general path then starts over."""
    out: list[Node] = []
    for child in children:
        kind = type(child)
        if kind is Element or kind is ComponentNode or kind is Lazy or kind is Slot:
            out.append(child)  # type: ignore[arg-type]
            continue
        if kind is str:
            if not child:
                continue
            text: str = child  # type: ignore[assignment]
        elif kind is int or kind is float:
            text = str(child)
        else:
            return None
        if out and type(out[-1]) is Text:
            out[-1] = make_text(out[-1].text + text)
        else:
            out.append(make_text(text))
    return tuple(out)


_TAG_RE = re.compile(r"[a-zA-Z][a-zA-Z0-9-]*")
_CACHE_LIMIT = 4096
_valid_tags: set[str] = set()
#: Python keyword name -> attribute name (``class_`` -> ``class``); bounded.
_attr_names: dict[str, str] = {}


def _check_tag(tag: str) -> None:
    if not isinstance(tag, str) or not _TAG_RE.fullmatch(tag):
        raise ValueError(f"invalid tag name {tag!r}: expected letters, digits and '-'")
    if len(_valid_tags) < _CACHE_LIMIT:
        _valid_tags.add(tag)


def element(tag: str, *children: Child, **props: Any) -> Element:
    """Build an element. ``on_<event>=handler`` binds events; ``key=`` sets the diff key.

    Attribute names: a trailing ``_`` is dropped and ``_`` becomes ``-`` (``class_``,
    ``data_id``). ``True`` renders a boolean attribute, ``False``/``None`` omits it.
    """
    return _element(tag, children, props)


def _element(tag: str, children: tuple[Child, ...], props: dict[str, Any]) -> Element:
    if tag not in _valid_tags:
        _check_tag(tag)
    if _memo_new is not None and _is_leaf(children):
        return _memoised(tag, children, props)  # type: ignore[arg-type]
    return _build(tag, children, props)


def _is_leaf(children: tuple[Child, ...]) -> bool:
    """The children are all strings (what the render memo keeps)."""
    for child in children:
        if type(child) is not str:
            return False
    return True


def _with_props(tag: str, kids: tuple[Node, ...], props: dict[str, Any]) -> Element:
    """An element of a valid ``tag`` with normalised ``kids`` and keyword ``props``."""
    key = None
    attributes: dict[str, AttrValue] = {}
    events: dict[str, Binding] | None = None
    plain = ""  # the one event bound to a plain handler (no client options), else ""
    for name, value in props.items():
        attr = _attr_names.get(name)
        if attr is not None:
            kind = type(value)
            attributes[attr] = str(value) if kind is int or kind is float else value  # _as_text
            continue
        event = _EVENT_PROPS.get(name)
        if event is not None:
            if value is not None:
                if events is None:
                    events = {}
                    if not isinstance(value, Binding):
                        plain = event
                events[event] = value if isinstance(value, Binding) else make_binding(value)
        elif name == "key":
            key = value
        elif name.startswith("on_"):
            raise ValueError(
                f"unknown event {name[3:]!r} in {name}=: expected one of {sorted(_EVENT_TYPES)}"
            )
        else:
            attr = _attr_name(name)
            if len(_attr_names) < _CACHE_LIMIT:
                _attr_names[name] = attr
            attributes[attr] = _as_text(value)
    if events is None:
        return make_element(tag, attributes, kids, key, NO_EVENTS, None)
    if plain and len(events) == 1:  # the usual on_click=self.method: no options to write
        attributes[EVENTS_ATTR] = plain
    else:
        _event_attrs(events, attributes)
    return make_element(tag, attributes, kids, key, events, None)


#: ``on_click`` -> ``click``, for every event type.
_EVENT_PROPS = {f"on_{event}": event for event in _EVENT_TYPES}


def _make_binding_factory() -> Callable[[Handler], Binding]:
    setters = _slot_setters(Binding, ("handler", "debounce", "throttle", "keys"))
    if not setters:
        return Binding
    set_handler, set_debounce, set_throttle, set_keys = setters

    def make_binding(handler: Handler) -> Binding:
        binding = _new(Binding)
        set_handler(binding, handler)
        set_debounce(binding, None)
        set_throttle(binding, None)
        set_keys(binding, None)
        return binding

    return make_binding


#: ``make_binding(handler)``: a plain Binding (no client options) without the attrs __init__.
make_binding = _make_binding_factory()


def _event_attrs(events: dict[str, Binding], attributes: dict[str, AttrValue]) -> None:
    if len(events) == 1:
        for event, binding in events.items():
            attributes[EVENTS_ATTR] = event
            if binding.debounce is None and binding.throttle is None and binding.keys is None:
                return
    else:
        attributes[EVENTS_ATTR] = " ".join(events)
    for binding in events.values():
        if binding.debounce is not None:
            attributes["data-debounce"] = _as_text(binding.debounce)
        if binding.throttle is not None:
            attributes["data-throttle"] = _as_text(binding.throttle)
        if binding.keys is not None:
            attributes["data-keys"] = " ".join(binding.keys)


# ------------------------------------------------------------------ the render memo

#: A leaf call of a render: its tag, children and props, whether a prop is a bool, and the
#: element it built (a plain tuple: one is made per leaf and render).
_Call: TypeAlias = tuple[str, tuple[str, ...], dict[str, Any], bool, Element]
#: A component's memo: its last render's leaf calls (``h.<tag>(...)`` with text children
#: only), in call order (``memoised``).
Memo: TypeAlias = list[_Call]
_T = TypeVar("_T")
#: The memo of the render in progress (``memoised``): the last render's, and this one's.
_memo_old: Memo = []
_memo_new: Memo | None = None
#: Leaves memoised per render at most (~300 B each): a page of thousands of rows keeps its
#: memory; its first leaves are memoised, the rest build as before (rows: ``h.lazy``).
MEMO_LIMIT = 256


def memoised(render: Callable[[], _T], memo: Memo | None) -> tuple[_T, Memo]:
    """``render()`` with its leaf elements memoised: an ``h.<tag>(...)`` call whose children
    are all strings, made with the same arguments as the leaf call at the same place (in
    call order) of the render of ``memo``, returns the element that call built, so the diff
    skips it by identity (an unchanged button, label or link costs neither a build nor a
    diff). Returns the render's result and its memo (pass it to the next render of the same
    component). A leaf shown or hidden shifts the places of the leaves after it: they are
    built anew in that render, and match again in the next.

    Exact: a call is memoised only when its props are strings, ints, None, bools, and bound
    methods or functions as handlers; any other value (a float, a list, a dict, a Binding)
    builds as usual. ``h("tag", ...)`` and :func:`element` are memoised alike. A handler
    made anew at each render (a lambda) only misses. At most ``MEMO_LIMIT`` leaves per
    render are memoised.
    """
    global _memo_old, _memo_new
    outer = _memo_old, _memo_new
    _memo_old, _memo_new = ([] if memo is None else memo), []
    try:
        return render(), _memo_new
    finally:
        _memo_old, _memo_new = outer


def _memoised(tag: str, children: tuple[str, ...], props: dict[str, Any]) -> Element:
    """``h.<tag>(*children, **props)`` of a leaf during a memoised render: the element of the
    last render's leaf call at the same place in call order, if its arguments were these."""
    new: Memo = _memo_new  # type: ignore[assignment]  # (a list while memoising)
    place = len(new)
    if place >= MEMO_LIMIT:
        return _build(tag, children, props)
    bools = False
    for value in props.values():
        kind = type(value)
        if kind is str or kind is int or kind is MethodType or value is None:
            continue
        if kind is bool:
            bools = True  # True == 1: then the values' types must match too
        elif kind is not FunctionType:
            return _build(tag, children, props)
    old = _memo_old
    if place < len(old):
        call = old[place]  # (tag, children, props, bools, element)
        if (
            call[0] == tag
            and call[1] == children
            and call[2] == props
            and (
                not (bools or call[3])
                or all(type(value) is type(props[name]) for name, value in call[2].items())
            )
        ):
            new.append(call)
            return call[4]
    element = _build(tag, children, props)
    new.append((tag, children, props, bools, element))
    return element


def _build(tag: str, children: tuple[Child, ...], props: dict[str, Any]) -> Element:
    """An element of a valid ``tag``, as ``h.<tag>(*children, **props)`` builds it."""
    kids = _normalise(tag, children) if children else ()
    if tag in _CHECKED_TAGS and kids:
        if tag == "template":
            kids = (_template_content(kids),)
        else:
            check_foreign(tag, kids)
    if props:
        if tag == "select" and "value" in props:
            props = dict(props)
            value = props.pop("value")
            return with_chosen(_build(tag, kids, props), value)
        return _with_props(tag, kids, props)
    return make_element(tag, {}, kids, None, NO_EVENTS, None)


def _template_content(kids: tuple[Node, ...]) -> Raw:
    """A ``<template>``'s children as one Raw block: a browser keeps them in ``.content``, out
    of reach of ops that address children by index, so any change re-renders the template
    (the diff REPLACEs an element holding a Raw). Components have no place in inert content."""
    from .html import render  # (html imports vdom)

    for kid in kids:
        if isinstance(kid, ComponentNode):
            raise TypeError(
                f"<template> cannot hold component {kid.component.__name__}: its content is "
                f"inert in the browser; render the component outside the template"
            )
    return Raw("".join(render(kid) for kid in kids))


_CHECKED_TAGS = frozenset({"template", "svg", "math"})
#: HTML start tags that close open SVG/MathML elements in a browser's parser (the HTML spec's
#: foreign-content breakout; ``font`` too when it has ``color``, ``face`` or ``size``).
FOREIGN_BREAKOUT = frozenset(
    "b big blockquote body br center code dd div dl dt em embed h1 h2 h3 h4 h5 h6 head hr i "
    "img li listing menu meta nobr ol p pre ruby s small span strong strike sub sup table tt "
    "u ul var".split()
)
# Foreign elements whose children are parsed as HTML (the spec's integration points; SVG's
# <desc> and <title> are ones too, but the client parses an INSERT into them as SVG).
_HTML_POINTS = frozenset({"foreignObject", "foreignobject"})
_MATH_POINTS = frozenset({"mi", "mo", "mn", "ms", "mtext"})


def check_foreign(root: str, kids: tuple[Node, ...]) -> None:
    """Raise ``ValueError`` for an HTML element that a browser's parser would move out of
    ``<svg>``/``<math>`` (``h.svg(h.div())``): the page would no longer have the children the
    server's patches address by index. Inside ``<foreignObject>`` (MathML: ``<mi>``...,
    ``<annotation-xml encoding="text/html">``) HTML is allowed; SVG ``<desc>``/``<title>``
    take text only."""
    for node in kids:
        kid = node.tree if type(node) is Slot else node.rendered if type(node) is Lazy else node
        if not isinstance(kid, Element):
            continue
        tag = kid.tag
        if tag in FOREIGN_BREAKOUT or (
            tag == "font" and any(a in kid.attrs for a in ("color", "face", "size"))
        ):
            raise ValueError(
                f"<{tag}> inside <{root}>: a browser's parser moves it out of the {root} (an "
                f"HTML element there ends the {root}), so later patches would miss it; put "
                f"HTML in <{'foreignObject' if root == 'svg' else 'mtext'}> or use {root} elements"
            )
        if tag == "svg" or tag == "math" or not _foreign_kids(kid):
            continue  # checked when built, or HTML content
        check_foreign(root, kid.children)


def _foreign_kids(element: Element) -> bool:
    """True when ``element``'s children are parsed as SVG/MathML, not HTML."""
    tag = element.tag
    if tag in _HTML_POINTS or tag in _MATH_POINTS:
        return False
    if tag == "annotation-xml":
        encoding = str(element.attrs.get("encoding", "")).lower()
        return encoding not in ("text/html", "application/xhtml+xml")
    return True


def with_chosen(select: Element, value: object) -> Element:
    """``select`` with the options that ``value`` names marked ``selected`` and the others
    not: ``<select value=...>`` as a browser reads it (a select has no ``value`` attribute).
    An option's value is its ``value=``, else its text; a list chooses several options and
    needs ``multiple=True``; ``None`` leaves the options as they are."""
    if value is None or value is False:
        return select
    if isinstance(value, (list, tuple, set, frozenset)):
        if not select.attrs.get("multiple"):
            raise TypeError("<select value=[...]>: several values need multiple=True")
        chosen = frozenset(_option_value(item) for item in value)
    else:
        chosen = frozenset((_option_value(value),))
    kids = _mark_chosen(select.children, chosen)
    return make_element("select", select.attrs, kids, select.key, select.events, select.hid)


def _option_value(value: object) -> str:
    if type(value) is str:
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    raise TypeError(f"<select value=...>: expected str, int or float, got {type(value).__name__}")


def _mark_chosen(children: tuple[Node, ...], chosen: frozenset[str]) -> tuple[Node, ...]:
    out: list[Node] = []
    for child in children:
        if type(child) is Element and child.tag == "optgroup":
            kids = _mark_chosen(child.children, chosen)
            if kids != child.children:
                child = attrs.evolve(child, children=kids)
        elif type(child) is Element and child.tag == "option":
            own = child.attrs.get("value")
            value = own if type(own) is str else "" if own is True else _label(child)
            want = value in chosen
            if want != bool(child.attrs.get("selected")):
                marked = {k: v for k, v in child.attrs.items() if k != "selected"}
                if want:
                    marked["selected"] = True
                child = attrs.evolve(child, attrs=marked)
        out.append(child)
    return tuple(out)


def _label(option: Element) -> str:
    """An option's value when it has no ``value=`` (see :func:`option_label`)."""
    return option_label(_text_of(option))


def option_label(text: str) -> str:
    """An ``<option>``'s text as its value, as a browser reads it: stripped of HTML
    whitespace, runs of it collapsed to one space."""
    return " ".join(_HTML_SPACE.split(text.strip("\t\n\f\r ")))


_HTML_SPACE = re.compile(r"[\t\n\f\r ]+")


def _text_of(node: Element) -> str:
    """The text content of ``node`` (an option's label: its value when it has none)."""
    parts: list[str] = []
    for child in node.children:
        if type(child) is Text:
            parts.append(child.text)
        elif type(child) is Element:
            parts.append(_text_of(child))
    return "".join(parts)


class _Builder:
    """``h.div(...)``, ``h("my-tag", ...)`` and ``h(ChildComponent, key=..., **props)``."""

    def __call__(self, tag: str | type, *children: Child, **props: Any) -> Element | ComponentNode:
        if isinstance(tag, type):
            if children:
                raise TypeError(f"{tag.__name__}: pass component inputs as keyword props")
            key = props.pop("key", None)
            return ComponentNode(tag, props, key)
        return element(tag, *children, **props)

    def __getattr__(self, name: str) -> Callable[..., Element]:
        if name.startswith("_"):
            raise AttributeError(name)
        tag = name.rstrip("_")
        if _TAG_RE.fullmatch(tag) is None:

            def build(*children: Child, **props: Any) -> Element:
                return _element(tag, children, props)  # raises the invalid tag's error

        elif tag in _CHECKED_TAGS or tag == "select":  # ``value=``; content (``_build``)

            def build(*children: Child, **props: Any) -> Element:
                return _element(tag, children, props)

        else:  # the hot path of every render: ``_element`` without the tag check

            def build(*children: Child, **props: Any) -> Element:
                if _memo_new is not None:
                    for child in children:  # (``_is_leaf`` inline)
                        if type(child) is not str:
                            break
                    else:
                        return _memoised(tag, children, props)  # type: ignore[arg-type]
                kids = _normalise(tag, children) if children else ()  # (``_build`` inline)
                if props:
                    return _with_props(tag, kids, props)
                return make_element(tag, {}, kids, None, NO_EVENTS, None)

        build.__name__ = tag
        self.__dict__[name] = build  # built once per tag: later lookups skip __getattr__
        return build

    @staticmethod
    def raw(html: str) -> Raw:
        """Mark ``html`` as trusted markup to be rendered verbatim."""
        return Raw(html)

    @staticmethod
    def text(value: object) -> Text:
        return Text(str(value))

    fragment = staticmethod(children_of)
    lazy = staticmethod(lazy)
    debounce = staticmethod(debounce)
    throttle = staticmethod(throttle)
    on_keys = staticmethod(on_keys)


h = _Builder()
