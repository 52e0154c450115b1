"""A tiny DOM and the reference patch applier: the oracle the diff and the harness test against.

:func:`parse` turns HTML into :class:`DomElement`/:class:`DomText` nodes (stdlib
``html.parser``: void elements, entities decoded, ``<script>``/``<style>`` kept verbatim).
A :class:`Document` indexes its elements by hid and :func:`apply` runs patch ops on it exactly
as ``docs/ARCHITECTURE.md`` specifies; any op that cannot apply raises :class:`PatchError`.

Form controls keep *live* state apart from their markup, like a browser: SET_PROP writes
``props`` (``value``/``checked``/``selected``), not attributes. :meth:`DomElement.prop` reads
the live value, :func:`snapshot` compares what a user would see, and :meth:`DomElement.to_html`
serialises the live state (props written back as attributes / textarea text).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from html.parser import HTMLParser
from typing import Any, TypeAlias

from attrs import define, field, frozen

from .diff import ATTR_VALUE_TYPES, input_type
from .errors import VangoError
from .html import (
    NEWLINE_DROPPING_TAGS,
    SVG_ATTR_CASE,
    SVG_TAG_CASE,
    VOID_ELEMENTS,
    escape_attr,
    escape_text,
)
from .vdom import FOREIGN_BREAKOUT

PROP_TAGS = frozenset({"input", "textarea", "select", "option"})
PROP_NAMES = ("value", "checked", "selected")
VALID_NUMBER = re.compile(r"-?(\d+(\.\d+)?|\.\d+)([eE][-+]?\d+)?")  # HTML's valid float
_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")
_RAW_TEXT = frozenset({"script", "style"})
# HTML elements whose text keeps a NUL as U+FFFD (RCDATA, RAWTEXT, script data); elsewhere in
# HTML content the tree builder drops it, in SVG/MathML content it is U+FFFD.
_NUL_KEEPING = frozenset(
    "script style textarea title xmp iframe noembed noframes noscript plaintext".split()
)
_HID_RE = re.compile(r"^h(0|[1-9][0-9]*)$")
#: Namespaces as a browser's parser assigns them (``DomElement.namespace``).
HTML, SVG, MATHML = "html", "svg", "math"
# Foreign elements whose children are HTML (the spec's HTML and MathML text integration points).
_SVG_HTML_POINTS = frozenset({"foreignObject", "desc", "title"})
_MATH_TEXT_POINTS = frozenset({"mi", "mo", "mn", "ms", "mtext"})


class PatchError(VangoError):
    """A patch op could not be applied: malformed op, unknown hid, index out of range."""


@define(eq=False)
class DomText:
    """A text node (entities already decoded)."""

    text: str
    parent: DomElement | None = field(default=None, repr=False)


@define(eq=False)
class DomElement:
    """An element: markup ``attrs`` (bare attributes hold ``""``) and live ``props``."""

    tag: str
    attrs: dict[str, str] = field(factory=dict)
    children: list[DomNode] = field(factory=list, repr=False)
    props: dict[str, str | bool] = field(factory=dict)
    parent: DomElement | None = field(default=None, repr=False)
    namespace: str = HTML  # HTML, SVG or MATHML: as the browser's parser placed it

    @property
    def hid(self) -> int | None:
        """The hydration id from ``data-hid="h<n>"``, or None."""
        match = _HID_RE.match(self.attrs.get("data-hid", ""))
        return int(match.group(1)) if match else None

    @property
    def text_content(self) -> str:
        return text_content(self)

    def prop(self, name: str) -> str | bool:
        """Live ``value`` (str) / ``checked`` / ``selected`` (bool), as a browser reports it."""
        if name in self.props:
            live = self.props[name]
            if self.tag == "input" and isinstance(live, str):
                return _one_line(input_type(self.attrs), live)
            return live
        if name == "value":
            if self.tag == "textarea":
                return text_content(self)
            if self.tag == "input" and input_type(self.attrs) in ("checkbox", "radio"):
                return self.attrs.get("value", "on")  # the "default/on" value mode
            return _sanitized(self.attrs) if self.tag == "input" else self.attrs.get("value", "")
        if name in ("checked", "selected"):
            return name in self.attrs
        raise ValueError(f"unknown property {name!r}: expected one of {PROP_NAMES}")

    def iter(self) -> Iterator[DomElement]:
        """Descendant elements in document order (not ``self``)."""
        for child in self.children:
            if isinstance(child, DomElement):
                yield child
                yield from child.iter()

    def select(self, selector: str) -> list[DomElement]:
        """Descendants matching a small CSS subset: ``tag #id .class [attr] [attr=v]`` and
        the descendant combinator (space), e.g. ``"#todo-list li.done input[type=checkbox]"``.
        """
        compounds = _parse_selector(selector)
        return [el for el in self.iter() if _matches(el, compounds)]

    def to_html(self) -> str:
        """This element's HTML with its live state (props written back into the markup)."""
        out: list[str] = []
        _serialise(self, out)
        return "".join(out)

    def inner_html(self) -> str:
        out: list[str] = []
        for child in self.children:
            _serialise(child, out)
        return "".join(out)


DomNode: TypeAlias = DomElement | DomText


def text_content(node: DomNode) -> str:
    """The concatenated text of ``node`` and its descendants."""
    if isinstance(node, DomText):
        return node.text
    return "".join(text_content(child) for child in node.children)


# ------------------------------------------------------------------------------ parsing


class _TreeBuilder(HTMLParser):
    """html.parser's tokens built into a tree as a browser would: SVG and MathML elements
    get their namespace and SVG's camel-case names back (``viewBox``, ``clipPath``)."""

    def __init__(self, context: DomElement | None) -> None:
        super().__init__(convert_charrefs=True)
        self.root = DomElement("#fragment")
        if context is not None:  # parse as the children of ``context`` (an INSERT's parent)
            self.root = DomElement(context.tag, dict(context.attrs), namespace=context.namespace)
        self.stack = [self.root]
        # The element whose start tag was the last token: a browser drops one newline that
        # follows <pre>, <textarea> or <listing>.
        self.just_opened: DomElement | None = None

    def _namespace(self, tag: str) -> str:
        """The new element's namespace; pops foreign elements an HTML tag breaks out of."""
        while True:
            parent = self.stack[-1]
            if not _foreign_children(parent, tag):
                return SVG if tag == "svg" else MATHML if tag == "math" else HTML
            if tag not in FOREIGN_BREAKOUT or len(self.stack) == 1:
                return parent.namespace
            self.stack.pop()

    def handle_starttag(self, tag: str, attributes: list[tuple[str, str | None]]) -> None:
        self._open(tag, attributes)

    def _open(self, tag: str, attributes: list[tuple[str, str | None]]) -> DomElement:
        namespace = self._namespace(tag)
        names: dict[str, str] = {}
        if namespace == SVG:
            tag = SVG_TAG_CASE.get(tag, tag)
            names = SVG_ATTR_CASE
        elif namespace == MATHML:
            names = {"definitionurl": "definitionURL"}
        element = DomElement(
            tag,
            {names.get(name, name): _no_nul(value or "") for name, value in attributes},
            namespace=namespace,
        )
        _adopt(self.stack[-1], element)
        self.just_opened = element if tag in NEWLINE_DROPPING_TAGS else None
        if tag not in VOID_ELEMENTS or namespace != HTML:
            self.stack.append(element)
        return element

    def handle_startendtag(self, tag: str, attributes: list[tuple[str, str | None]]) -> None:
        element = self._open(tag, attributes)
        if element.namespace != HTML:  # "/>" closes foreign elements only
            self.stack.pop()

    def handle_comment(self, data: str) -> None:
        self.just_opened = None

    def handle_endtag(self, tag: str) -> None:
        self.just_opened = None
        for depth in range(len(self.stack) - 1, 0, -1):
            if self.stack[depth].tag.lower() == tag:
                del self.stack[depth:]
                return  # an end tag with no open element is ignored, as browsers do

    def handle_data(self, data: str) -> None:
        parent = self.stack[-1]
        if "\0" in data:  # a NUL the markup carries (a &#0; is already U+FFFD)
            kept = (
                parent.tag in _NUL_KEEPING
                if parent.namespace == HTML
                else _foreign_children(parent, "#text")
            )
            data = data.replace("\0", "\ufffd" if kept else "")
            if not data:
                return
        if self.just_opened is not None:
            if self.just_opened is parent and data.startswith("\n"):
                data = data[1:]
            self.just_opened = None
            if not data:
                return
        if parent.children and isinstance(parent.children[-1], DomText):
            parent.children[-1].text += data
        else:
            _adopt(parent, DomText(data))


def _foreign_children(parent: DomElement, tag: str) -> bool:
    """True when a ``tag`` start tag inside ``parent`` is parsed as SVG/MathML content."""
    if parent.namespace == SVG:
        return parent.tag not in _SVG_HTML_POINTS
    if parent.namespace != MATHML:
        return False
    if parent.tag in _MATH_TEXT_POINTS:
        return tag in ("mglyph", "malignmark")
    if parent.tag == "annotation-xml":
        encoding = parent.attrs.get("encoding", "").lower()
        return tag != "svg" and encoding not in ("text/html", "application/xhtml+xml")
    return True


def _no_nul(text: str) -> str:
    return text.replace("\0", "\ufffd") if "\0" in text else text


def as_parsed(markup_text: str) -> str:
    """Text or an attribute value as a browser holds it after reading it from markup: the
    HTML spec's input stream preprocessing (``\\r\\n`` and ``\\r`` become ``\\n``) and a
    NUL as U+FFFD (as in an attribute value or ``<title>``)."""
    return _no_nul(_newlines(markup_text))


def _newlines(html: str) -> str:
    return html.replace("\r\n", "\n").replace("\r", "\n") if "\r" in html else html


def _adopt(parent: DomElement, node: DomNode) -> None:
    node.parent = parent
    parent.children.append(node)


def parse(html: str, context: DomElement | None = None) -> list[DomNode]:
    """Parse an HTML fragment into top-level nodes (parent None); ``context``: the element
    they will be children of (inside ``<svg>`` they are SVG elements, as in a browser)."""
    builder = _TreeBuilder(context)
    builder.feed(_newlines(html))  # the spec's input stream preprocessing; &#13; stays "\r"
    builder.close()
    nodes = builder.root.children
    for node in nodes:
        node.parent = None
    return nodes


# ------------------------------------------------------------------------------ document


class Document:
    """A page root addressed by hid; the root container is itself an element with a hid."""

    def __init__(self, root: DomElement) -> None:
        self.root = root
        self.url: str | None = None
        self.history: list[str] = []
        self.title: str | None = None
        self.focused: int | None = None
        self.redirect: str | None = None  # REDIRECT: the page would load this URL
        self.token: str | None = None  # TOKEN: the session's latest token
        self.calls: list[tuple[str, dict[str, Any]]] = []  # CALL ops (client extension)
        self._by_hid: dict[int, DomElement] = {}
        self._moved: list[DomElement] | None = None  # while a frame applies: see _index
        self._index(root)

    @classmethod
    def from_html(cls, html: str, root_hid: int = 0) -> Document:
        """A document whose root container (``data-hid="h<root_hid>"``) holds ``html``."""
        root = DomElement("div", {"data-hid": f"h{root_hid}", "data-vango-root": ""})
        for node in parse(html):
            _adopt(root, node)
        return cls(root)

    def __contains__(self, hid: int) -> bool:
        return hid in self._by_hid

    def by_hid(self, hid: int) -> DomElement:
        try:
            return self._by_hid[hid]
        except KeyError:
            raise PatchError(f"no element with hid {hid} on the page") from None

    def hids(self) -> set[int]:
        return set(self._by_hid)

    def select(self, selector: str) -> list[DomElement]:
        return self.root.select(selector)

    def to_html(self) -> str:
        """The root container's contents, with live state."""
        return self.root.inner_html()

    def apply(self, ops: Sequence[Sequence[Any]]) -> None:
        apply(self, ops)

    def _index(self, node: DomNode) -> None:
        if isinstance(node, DomText):
            return
        hid = node.hid
        if hid is not None:
            before = self._by_hid.get(hid, node)
            if before is not node:
                # Within a frame an INSERT may carry hids still on the page: a keyed child
                # moved to an earlier parent, whose REMOVE from its old place comes later.
                # The inserted node takes the hid (as in the browser); the frame must
                # remove the old one (checked by apply()).
                if self._moved is None:
                    raise PatchError(f"hid {hid} is already on the page")
                self._moved.append(before)
            self._by_hid[hid] = node
        for child in node.children:
            self._index(child)

    def _unindex(self, node: DomNode) -> None:
        if isinstance(node, DomText):
            return
        hid = node.hid
        if hid is not None and self._by_hid.get(hid) is node:
            del self._by_hid[hid]
        for child in node.children:
            self._unindex(child)

    def _insert(self, parent: DomElement, index: int, nodes: list[DomNode]) -> None:
        for offset, node in enumerate(nodes):
            node.parent = parent
            parent.children.insert(index + offset, node)
        for node in nodes:
            self._index(node)

    def _detach(self, node: DomNode) -> int:
        parent = node.parent
        assert parent is not None
        index = next(i for i, child in enumerate(parent.children) if child is node)
        del parent.children[index]
        node.parent = None
        return index


# ------------------------------------------------------------------------------ ops


def apply(document: Document, ops: Sequence[Sequence[Any]]) -> None:
    """Apply ``ops`` in order; raise :class:`PatchError` naming the first op that cannot apply.

    Ops before the failing one stay applied (as in a browser). ``CALL "stream"`` ops are
    applied after the others, as ``vango.rich.js`` does (their container may be new).
    """
    calls = len(document.calls)
    document._moved = []
    try:
        for number, op in enumerate(ops):
            try:
                _apply_one(document, op)
            except PatchError as error:
                raise PatchError(f"op #{number} {_short(op)}: {error}") from None
        for old in document._moved:
            if _attached(old, document.root):
                raise PatchError(f"hid {old.hid} is on the page twice after the frame")
    finally:
        document._moved = None
    for name, args in document.calls[calls:]:
        if name == "stream":
            _apply_stream(document, args)


def _attached(node: DomNode, root: DomElement) -> bool:
    while node.parent is not None:
        node = node.parent
    return node is root


def _short(op: object) -> str:
    text = repr(op)
    return text if len(text) <= 120 else text[:117] + "..."


def _apply_one(document: Document, op: Sequence[Any]) -> None:
    if not isinstance(op, (list, tuple)) or not op or type(op[0]) is not int:
        raise PatchError("expected a list [opcode, ...] with an int opcode")
    handler = _HANDLERS.get(op[0])
    if handler is None:
        raise PatchError(f"unknown opcode {op[0]}: expected 0..{len(_HANDLERS) - 1}")
    arity, function, types = handler
    if len(op) != arity:
        raise PatchError(f"expected {arity} items, got {len(op)}")
    for position, (value, expected) in enumerate(zip(op[1:], types, strict=True), start=1):
        if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
            raise PatchError(
                f"item {position}: expected {_type_names(expected)}, got {type(value).__name__}"
            )
    function(document, *op[1:])


def _type_names(expected: type | tuple[type, ...]) -> str:
    if isinstance(expected, tuple):
        return " or ".join(t.__name__ for t in expected)
    return expected.__name__


def _child_at(parent: DomElement, index: int, *, end_ok: bool = False) -> None:
    limit = len(parent.children) + (1 if end_ok else 0)
    if not 0 <= index < limit:
        raise PatchError(
            f"index {index} out of range for hid {parent.hid} with {len(parent.children)} children"
        )


def _op_text(document: Document, parent_hid: int, index: int, text: str) -> None:
    parent = document.by_hid(parent_hid)
    _child_at(parent, index)
    child = parent.children[index]
    if not isinstance(child, DomText):
        raise PatchError(f"child {index} of hid {parent_hid} is <{child.tag}>, not a text node")
    child.text = text


def _op_set_attr(document: Document, hid: int, name: str, value: str) -> None:
    if name.lower() == "data-hid":
        raise PatchError("data-hid cannot be changed by SET_ATTR")
    element = document.by_hid(hid)
    before = input_type(element.attrs) if element.tag == "input" else None
    element.attrs[_attr_name(element, name)] = value
    if before is not None:
        _type_changed(element, before)


def _op_remove_attr(document: Document, hid: int, name: str) -> None:
    element = document.by_hid(hid)
    before = input_type(element.attrs) if element.tag == "input" else None
    element.attrs.pop(_attr_name(element, name), None)
    if before is not None:
        _type_changed(element, before)


def _attr_name(element: DomElement, name: str) -> str:
    """The attribute ``setAttribute(name)`` writes: an HTML element's name in lower case, an
    SVG or MathML element's as given."""
    return name.lower() if element.namespace == HTML else name


def _type_changed(element: DomElement, before: str) -> None:
    """An input's value across a ``type`` change, as the HTML spec's value modes say.

    Value mode to an attribute-backed mode: a non-empty live value is written into the
    ``value`` attribute; back to value mode: the live value is the attribute again.
    """
    after = input_type(element.attrs)
    was_live, is_live = before not in ATTR_VALUE_TYPES, after not in ATTR_VALUE_TYPES
    if was_live and not is_live:
        live = element.props.pop("value", None)
        if live:
            element.attrs["value"] = str(live)
    elif is_live and not was_live:
        element.props.pop("value", None)


def _op_set_prop(document: Document, hid: int, name: str, value: str | bool) -> None:
    element = document.by_hid(hid)
    if element.tag not in PROP_TAGS:
        raise PatchError(f"SET_PROP on <{element.tag}>: expected one of {sorted(PROP_TAGS)}")
    expected = str if name == "value" else bool if name in PROP_NAMES else None
    if expected is None:
        raise PatchError(f"unknown property {name!r}: expected one of {PROP_NAMES}")
    if type(value) is not expected:
        raise PatchError(f"property {name!r} takes {expected.__name__}, got {type(value).__name__}")
    if name == "value" and element.tag == "input" and input_type(element.attrs) in ATTR_VALUE_TYPES:
        element.attrs["value"] = str(value)  # in these modes .value writes the attribute
        return
    element.props[name] = value


def _op_insert(document: Document, parent_hid: int, index: int, html: str) -> None:
    parent = document.by_hid(parent_hid)
    _child_at(parent, index, end_ok=True)
    document._insert(parent, index, parse(html, parent))


def _op_remove(document: Document, parent_hid: int, index: int) -> None:
    parent = document.by_hid(parent_hid)
    _child_at(parent, index)
    child = parent.children[index]
    document._detach(child)
    document._unindex(child)


def _op_move(document: Document, parent_hid: int, child_hid: int, index: int) -> None:
    parent = document.by_hid(parent_hid)
    child = document.by_hid(child_hid)
    if child.parent is not parent:
        raise PatchError(f"hid {child_hid} is not a child of hid {parent_hid}")
    document._detach(child)
    if not 0 <= index <= len(parent.children):
        document._insert(parent, len(parent.children), [child])  # undo, then report
        raise PatchError(
            f"index {index} out of range for hid {parent_hid} with {len(parent.children) - 1}"
            f" other children"
        )
    child.parent = parent
    parent.children.insert(index, child)


def _op_replace(document: Document, hid: int, html: str) -> None:
    element = document.by_hid(hid)
    nodes = parse(html, element.parent or element)
    if element is document.root:  # the root container: replace its contents (full resync)
        for child in list(element.children):
            document._detach(child)
            document._unindex(child)
        document._insert(element, 0, nodes)
        return
    parent = element.parent
    assert parent is not None
    index = document._detach(element)
    document._unindex(element)
    document._insert(parent, index, nodes)


def _op_push_url(document: Document, url: str, replace: bool) -> None:
    if not replace and document.url is not None:
        document.history.append(document.url)
    document.url = url


def _op_title(document: Document, title: str) -> None:
    document.title = title


def _op_focus(document: Document, hid: int) -> None:
    document.by_hid(hid)
    document.focused = hid


def _op_redirect(document: Document, url: str) -> None:
    document.redirect = url


def _op_token(document: Document, token: str) -> None:
    document.token = token


def _op_call(document: Document, name: str, args: dict[str, Any]) -> None:
    document.calls.append((name, args))


def _apply_stream(document: Document, args: dict[str, Any]) -> None:
    """A stream op as ``vango.rich.js`` applies it: insert (a shown key is replaced in
    place), delete by key, reset; a missing container is ignored (the client warns)."""
    name = args.get("name")
    found = document.select(f'[data-vango-stream="{name}"]') if isinstance(name, str) else []
    if not found:
        return
    box = found[0]
    do = args.get("do")
    if do == "reset":
        for child in list(box.children):
            document._detach(child)
            document._unindex(child)
    elif do == "delete":
        _stream_remove(document, box, str(args.get("key")))
    elif do == "insert":
        _stream_insert(document, box, args.get("at", -1), args.get("html", []))


def _stream_item(box: DomElement, key: str) -> DomElement | None:
    for child in box.children:
        if isinstance(child, DomElement) and child.attrs.get("data-stream-key") == key:
            return child
    return None


def _position(box: DomElement, node: DomNode) -> int:
    return next(i for i, child in enumerate(box.children) if child is node)


def _stream_remove(document: Document, box: DomElement, key: str) -> None:
    item = _stream_item(box, key)
    if item is not None:
        document._detach(item)
        document._unindex(item)


def _stream_insert(document: Document, box: DomElement, at: Any, sources: Any) -> None:
    elements = [c for c in box.children if isinstance(c, DomElement)]
    before = elements[at] if isinstance(at, int) and 0 <= at < len(elements) else None
    for source in sources if isinstance(sources, list) else []:
        node = next((n for n in parse(str(source), box) if isinstance(n, DomElement)), None)
        if node is None:
            continue
        old = _stream_item(box, node.attrs.get("data-stream-key", ""))
        if old is not None:
            if old is before:
                index = _position(box, old)
                following = [c for c in box.children[index + 1 :] if isinstance(c, DomElement)]
                before = following[0] if following else None
            index = document._detach(old)
            document._unindex(old)
            document._insert(box, index, [node])
            continue
        index = len(box.children) if before is None else _position(box, before)
        document._insert(box, index, [node])


_HANDLERS: dict[int, tuple[int, Any, tuple[type | tuple[type, ...], ...]]] = {
    0: (4, _op_text, (int, int, str)),
    1: (4, _op_set_attr, (int, str, str)),
    2: (3, _op_remove_attr, (int, str)),
    3: (4, _op_set_prop, (int, str, (str, bool))),
    4: (4, _op_insert, (int, int, str)),
    5: (3, _op_remove, (int, int)),
    6: (4, _op_move, (int, int, int)),
    7: (3, _op_replace, (int, str)),
    8: (3, _op_push_url, (str, bool)),
    9: (2, _op_title, (str,)),
    10: (2, _op_focus, (int,)),
    11: (2, _op_redirect, (str,)),
    12: (2, _op_token, (str,)),
    13: (3, _op_call, (str, dict)),
}


# ------------------------------------------------------------------------------ views


def snapshot(node: DomNode) -> tuple[Any, ...]:
    """A comparable value for what a user sees: tag, attributes, live control state, children.

    Markup ``value``/``checked``/``selected`` of form controls are replaced by their live
    values; a textarea's children are represented by its live value.
    """
    if isinstance(node, DomText):
        return ("#text", node.text)
    attributes = dict(node.attrs)
    live: tuple[Any, ...] = ()
    children: tuple[Any, ...]
    if node.tag in PROP_TAGS:
        for name in PROP_NAMES:
            attributes.pop(name, None)
        live = tuple(node.prop(name) for name in PROP_NAMES)
    if node.tag == "textarea":
        children = ()
    else:
        children = tuple(snapshot(child) for child in node.children)
    return (node.tag, tuple(sorted(attributes.items())), live, children)


def _serialise(node: DomNode, out: list[str]) -> None:
    if isinstance(node, DomText):
        raw = node.parent is not None and node.parent.tag in _RAW_TEXT
        out.append(node.text if raw else escape_text(node.text))
        return
    attributes = dict(node.attrs)
    for name, value in node.props.items():
        if name == "value" and node.tag != "textarea":
            attributes["value"] = str(value)
        elif name in ("checked", "selected"):
            if value:
                attributes[name] = ""
            else:
                attributes.pop(name, None)
    out.append(f"<{node.tag}")
    for name, text in attributes.items():
        out.append(f' {name}="{escape_attr(text)}"' if text else f" {name}")
    out.append(">")
    if node.tag in VOID_ELEMENTS and node.namespace == HTML:
        return
    if node.tag == "textarea" and "value" in node.props:
        value = str(node.props["value"])
        out.append(("\n" if value.startswith("\n") else "") + escape_text(value))
    else:
        first = node.children[0] if node.children else None
        if node.tag in NEWLINE_DROPPING_TAGS and isinstance(first, DomText):
            out.append("\n" if first.text.startswith("\n") else "")
        for child in node.children:
            _serialise(child, out)
    out.append(f"</{node.tag}>")


# ------------------------------------------------------------------------------ selectors

_COMPOUND_RE = re.compile(r"^(\*|[a-zA-Z][a-zA-Z0-9-]*)?((?:#[\w-]+|\.[\w-]+|\[[^\]]*\])*)$")
_PART_RE = re.compile(
    r"#(?P<id>[\w-]+)|\.(?P<cls>[\w-]+)"
    r"|\[\s*(?P<attr>[^\s=\]]+)\s*(?:=\s*(?:\"(?P<dq>[^\"]*)\"|'(?P<sq>[^']*)'|(?P<bare>[^\]\s]*)))?\s*\]"
)


@frozen
class _Compound:
    tag: str | None
    ids: tuple[str, ...]
    classes: tuple[str, ...]
    attributes: tuple[tuple[str, str | None], ...]  # (name, value or None: presence)

    def matches(self, element: DomElement) -> bool:
        if self.tag is not None and element.tag != self.tag:
            return False
        found = element.attrs
        if any(found.get("id") != wanted for wanted in self.ids):
            return False
        if self.classes and not set(self.classes) <= set(found.get("class", "").split()):
            return False
        for name, value in self.attributes:
            if name not in found or (value is not None and found[name] != value):
                return False
        return True


_selector_cache: dict[str, tuple[_Compound, ...]] = {}


def _parse_selector(selector: str) -> tuple[_Compound, ...]:
    cached = _selector_cache.get(selector)
    if cached is None:
        cached = tuple(_parse_compound(selector, part) for part in selector.split())
        if not cached:
            raise ValueError("empty selector: expected e.g. 'li.done' or '#count'")
        _selector_cache[selector] = cached
    return cached


def _parse_compound(selector: str, text: str) -> _Compound:
    match = _COMPOUND_RE.match(text)
    parts = list(_PART_RE.finditer(match.group(2))) if match else []
    if match is None or sum(len(p.group(0)) for p in parts) != len(match.group(2)):
        raise ValueError(
            f"unsupported selector {selector!r} at {text!r}: supported are tag, #id, .class, "
            f"[attr], [attr=value] and the descendant combinator (space)"
        )
    tag = match.group(1)
    ids = tuple(p.group("id") for p in parts if p.group("id"))
    classes = tuple(p.group("cls") for p in parts if p.group("cls"))
    attributes = tuple(
        (p.group("attr").lower(), _first_not_none(p.group("dq"), p.group("sq"), p.group("bare")))
        for p in parts
        if p.group("attr")
    )
    return _Compound(None if tag in (None, "*") else tag.lower(), ids, classes, attributes)


def _first_not_none(*values: str | None) -> str | None:
    return next((value for value in values if value is not None), None)


def _matches(element: DomElement, compounds: tuple[_Compound, ...]) -> bool:
    if not compounds[-1].matches(element):
        return False
    ancestor = element.parent
    for compound in reversed(compounds[:-1]):  # nearest matching ancestor, greedily
        while ancestor is not None and not compound.matches(ancestor):
            ancestor = ancestor.parent
        if ancestor is None:
            return False
        ancestor = ancestor.parent
    return True


def _sanitized(attrs: Any) -> str:
    """An input's value from its ``value`` attribute, as a browser holds it (HTML's value
    sanitization): a number field's is "" unless a number, a colour's is ``#rrggbb`` in lower
    case (black by default), a range's is a number in its range (the middle by default)."""
    kind = input_type(attrs)
    raw = _one_line(kind, str(attrs.get("value", "")))
    if kind == "number":
        return raw if VALID_NUMBER.fullmatch(raw) else ""
    if kind == "color":
        return raw.lower() if _COLOUR.fullmatch(raw) else "#000000"
    if kind != "range":
        return raw
    low = _number(attrs.get("min"), 0.0)
    high = max(low, _number(attrs.get("max"), 100.0))
    if VALID_NUMBER.fullmatch(raw):
        value = float(raw)
        return raw if low <= value <= high else _js_number(min(max(value, low), high))
    middle = low + (high - low) / 2
    step = _number(attrs.get("step"), 1.0)
    if step > 0:  # the middle rounded to a step from min, half up
        middle = min(low + ((middle - low) / step + 0.5) // 1 * step, high)
    return _js_number(middle)


_ONE_LINE = frozenset({"text", "search", "tel", "password", "url", "email"})


def _one_line(kind: str, value: str) -> str:
    """A text field's value as a browser holds it: no line breaks (an url or email field
    also trims white space); ``value = "a\\nb"`` reads back ``"ab"``."""
    if kind not in _ONE_LINE or not ("\n" in value or "\r" in value or kind in ("url", "email")):
        return value
    value = value.replace("\r", "").replace("\n", "")
    return value.strip(" \t\n\f\r") if kind in ("url", "email") else value


def _number(text: Any, default: float) -> float:
    return float(text) if isinstance(text, str) and VALID_NUMBER.fullmatch(text) else default


def _js_number(value: float) -> str:
    """A number as JavaScript writes it: no ``.0`` on a whole number."""
    return str(int(value)) if value.is_integer() else repr(value)
