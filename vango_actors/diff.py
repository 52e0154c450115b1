"""Old tree, new tree -> patch ops, with hydration ids written into the new tree (sans-IO).

Rules (the op encodings are in ``docs/ARCHITECTURE.md`` and :class:`~.protocol.Op`):

- ops apply in order; every index refers to the state after the previous op;
- an element matches an old one with the same tag and key at the same place (positional
  children) or with the same key (keyed children); a match keeps its hid, new elements get
  fresh hids from the session's :class:`~.vdom.HidCounter`, which only grows; when a
  positional list's count changes, its unchanged end (children equal to the old ones, or
  elements with the same ``id``) is matched from the end first, so a child that comes or
  goes does not shift its later siblings onto other nodes (:func:`_diff_positional`);
- keyed children (every child an Element/Slot with a key): REMOVE old keys first (from the
  end), then MOVE the kept children that are not on a longest increasing subsequence of their
  old positions (n - LIS moves, the minimum), then INSERT new keys in increasing index order;
  the kept children's own ops follow (they address nodes by hid, so order does not matter);
  a list with a key twice is matched by position instead, and the runtime warns (React
  warns too): ``assign_hids`` and the diff note it in ``HidCounter.duplicate_keys``;
- ``value``/``checked``/``selected`` on input, textarea, select and option travel as SET_PROP
  so the live control follows the server; a textarea's text is its ``value``; after a submit
  the runtime also re-sends rendered text values the browser no longer shows
  (:func:`resync_submitted`);
- a changed ``Raw`` child replaces its parent element; a Slot of the same component instance
  is not looked into (components are diff boundaries); another in its place is a REMOVE and
  INSERT by index (a moved component keeps its hids: its old element is not named by hid).

Hids are written IN PLACE into the new tree's elements (the slot of the frozen
:class:`~.vdom.Element`), so the diff allocates nothing for unchanged nodes and the tree it
returns is ``new`` itself, carrying the new handlers. Ownership rule that keeps this safe: an
element whose ``hid`` is None belongs to the render that built it and may be numbered; an
element that already carries a hid is mounted somewhere (the old tree, another session, or
earlier in this same tree) and is never written to: when it is the very old node at that
place (``new is old``) it is kept as is, otherwise it is copied first. :func:`assign_hids`
follows the same rule.

Cost: one walk over both trees, comparing tag, key, the ``attrs`` dicts (``==``) and
children pairwise; an identical node (``is``) is skipped with its subtree.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .html import SVG_ATTR_CASE, attr_value, render
from .protocol import Op
from .vdom import (
    ComponentNode,
    Element,
    HidCounter,
    Lazy,
    Node,
    Raw,
    Slot,
    Text,
    make_element,
    make_lazy,
    render_lazy,
    set_children,
    set_hid,
    set_rendered,
)

PROP_TAGS = frozenset({"input", "textarea", "select", "option"})
PROP_NAMES = frozenset({"value", "checked", "selected"})
#: ``<input>`` types whose ``.value`` mirrors the ``value`` attribute (the "default" and
#: "default/on" value modes; ``file`` cannot be set): their value is diffed as an attribute.
ATTR_VALUE_TYPES = frozenset(
    {"checkbox", "radio", "hidden", "submit", "reset", "button", "image", "file"}
)

_TEXT = int(Op.TEXT)
_SET_ATTR = int(Op.SET_ATTR)
_REMOVE_ATTR = int(Op.REMOVE_ATTR)
_SET_PROP = int(Op.SET_PROP)
_INSERT = int(Op.INSERT)
_REMOVE = int(Op.REMOVE)
_MOVE = int(Op.MOVE)
_REPLACE = int(Op.REPLACE)

Ops = list[list[Any]]


def _unshared(node: Element, ids: HidCounter) -> Element:
    """A copy of ``node`` without a hid, that this walk owns (children are still shared)."""
    ids.copies += 1
    return make_element(node.tag, node.attrs, node.children, node.key, node.events, None)


# ------------------------------------------------------------------------------ hids


def assign_hids(node: Node, ids: HidCounter) -> Node:
    """``node`` with a fresh hid on every Element, numbered in pre-order.

    Numbers in place the elements that have no hid yet; an element that already has one is
    mounted elsewhere, so it is copied (with its numbered descendants) and the copy is
    numbered. Slots are returned untouched: their trees belong to the child component.
    """
    kind = type(node)
    if kind is Element:
        if node.hid is not None:  # type: ignore[union-attr]
            node = _unshared(node, ids)  # type: ignore[arg-type]
        _number(node, ids)  # type: ignore[arg-type]
        return node
    if kind is Text or kind is Raw or kind is Slot:
        return node
    if kind is Lazy:
        return _assign_lazy(node, ids)  # type: ignore[arg-type]
    return _assign_other(node, ids)


def _assign_lazy(node: Lazy, ids: HidCounter) -> Lazy:
    """``node`` with its subtree rendered and numbered (a numbered copy if mounted already)."""
    tree = node.rendered
    if tree is not None:  # mounted elsewhere: a copy, its subtree copied and renumbered
        node = make_lazy(node.fn, node.args, node.key)
    else:
        tree = render_lazy(node)
    set_rendered(node, assign_hids(tree, ids))  # type: ignore[arg-type]
    return node


def _number(node: Element, ids: HidCounter) -> None:
    """Give ``node`` (owned, no hid) and its descendants fresh hids, pre-order."""
    hid = ids.last + 1
    ids.last = hid
    set_hid(node, hid)
    kids = node.children
    if len(kids) > 1 and getattr(kids[0], "key", None) is not None:
        _note_duplicate_keys(node.tag, _keys_of(kids), ids)
    out: list[Node] | None = None
    for index, child in enumerate(kids):
        kind = type(child)
        if kind is Element:
            if child.hid is not None:  # type: ignore[union-attr]
                child = _unshared(child, ids)  # type: ignore[arg-type]
                if out is None:
                    out = list(kids)
                out[index] = child
            _number(child, ids)  # type: ignore[arg-type]
        elif kind is Lazy:
            lazy = _assign_lazy(child, ids)  # type: ignore[arg-type]
            if lazy is not child:
                if out is None:
                    out = list(kids)
                out[index] = lazy
        elif kind is not Text and kind is not Raw and kind is not Slot:
            child = _assign_other(child, ids)
            if out is None:
                out = list(kids)
            out[index] = child
    if out is not None:
        set_children(node, tuple(out))


def _assign_other(node: object, ids: HidCounter) -> Node:
    if isinstance(node, Element):  # a subclass: copied as a plain Element
        copy = _unshared(node, ids)
        _number(copy, ids)
        return copy
    if isinstance(node, (Text, Raw, Slot)):
        return node
    if isinstance(node, Lazy):
        return _assign_lazy(node, ids)
    if isinstance(node, ComponentNode):
        raise TypeError(
            f"unresolved component {node.component.__name__}: the runtime resolves a "
            f"ComponentNode to a Slot before hids are assigned or trees are diffed "
            f"(an h.lazy(...) subtree cannot hold components)"
        )
    raise TypeError(f"expected a vdom node, got {type(node).__name__}: {node!r}")


def hid_of(node: Node) -> int:
    """The hid addressing ``node`` on the page (a Slot or Lazy by its subtree's root)."""
    kind = type(node)
    element = node.tree if kind is Slot else node.rendered if kind is Lazy else node  # type: ignore[union-attr]
    hid = getattr(element, "hid", None)
    if hid is None:
        raise ValueError(
            f"expected an old tree with hids (use assign_hids first), got {element!r:.80}"
        )
    return int(hid)


# ------------------------------------------------------------------------------ diff


def diff(old: Node, new: Node, ids: HidCounter) -> tuple[Ops, Node]:
    """Ops turning the page of ``old`` (with hids) into ``new``, and ``new`` with hids.

    Same-tag, same-key root elements are diffed in place; any other root change is one
    REPLACE of the old root. The returned tree is ``new`` itself (numbered in place) unless
    ``new`` was mounted elsewhere already, then a numbered copy.
    """
    ops: Ops = []
    if old is new:
        return ops, old
    return ops, _diff_node(old, new, ops, ids)


def _diff_node(old: Node, new: Node, ops: Ops, ids: HidCounter) -> Node:
    """Diff two nodes that both render as one element (Element or Slot), by hid."""
    old_kind, new_kind = type(old), type(new)
    if old_kind is Element and new_kind is Element:
        if old.tag == new.tag and old.key == new.key:  # type: ignore[union-attr]
            if new.hid is not None:  # type: ignore[union-attr]
                new = _unshared(new, ids)  # type: ignore[arg-type]
            _diff_element(old, new, ops, ids)  # type: ignore[arg-type]
            return new
    elif old_kind is Slot and new_kind is Slot and old.ref is new.ref:  # type: ignore[union-attr]
        return new
    elif old_kind is Lazy or new_kind is Lazy:
        return _diff_lazy(old, new, ops, ids)
    fresh = assign_hids(new, ids)
    ops.append([_REPLACE, hid_of(old), render(fresh)])
    return fresh


def _diff_lazy(old: Node, new: Node, ops: Ops, ids: HidCounter) -> Node:
    """Either side is a Lazy: reuse the old subtree when fn and args are equal, else diff
    the old subtree (or element) against ``fn(*args)``."""
    if type(old) is Lazy:
        before = old.rendered
        if before is None:
            hid_of(old)  # raises the error saying the old tree lacks hids
        if type(new) is not Lazy:
            return _diff_node(before, new, ops, ids)  # type: ignore[arg-type]
        assert isinstance(new, Lazy)
        if new.rendered is not None:  # mounted elsewhere: work on a copy
            new = make_lazy(new.fn, new.args, new.key)
        if (new.fn is old.fn or new.fn == old.fn) and new.args == old.args:
            set_rendered(new, before)
            return new
        set_rendered(new, _diff_node(before, render_lazy(new), ops, ids))  # type: ignore[arg-type]
        return new
    assert isinstance(new, Lazy)
    if new.rendered is not None:
        new = make_lazy(new.fn, new.args, new.key)
    set_rendered(new, _diff_node(old, render_lazy(new), ops, ids))  # type: ignore[arg-type]
    return new


def _diff_element(old: Element, new: Element, ops: Ops, ids: HidCounter) -> None:
    """Same tag and key: give ``new`` (owned, no hid) old's hid; ops for what changed.

    The hot path, one call per matched element, so the commonest shapes are inline: one
    text child (a cell, a label, a link) and one element child; every other shape goes to
    :func:`_diff_other_children`. ``textarea`` is looked at only when something differs.
    """
    hid = old.hid
    if hid is None:
        hid_of(old)  # raises the error saying the old tree lacks hids
    set_hid(new, hid)
    new_kids = new.children
    old_kids = old.children
    if old_kids is not new_kids:
        if len(new_kids) == 1 and len(old_kids) == 1:
            after = new_kids[0]
            before = old_kids[0]
            kind = type(after)
            if kind is Text and type(before) is Text:
                if before.text != after.text:  # type: ignore[union-attr]
                    if new.tag == "textarea":
                        _diff_textarea_value(hid, old, new, ops)  # type: ignore[arg-type]
                        _diff_textarea_attrs(hid, old, new, ops)  # type: ignore[arg-type]
                        return
                    ops.append([_TEXT, hid, 0, after.text])  # type: ignore[union-attr]
            elif (
                kind is Element
                and type(before) is Element
                and before.tag == after.tag  # type: ignore[union-attr]
                and before.key == after.key  # type: ignore[union-attr]
            ):
                if after is not before:
                    if after.hid is not None:  # type: ignore[union-attr]
                        after = _unshared(after, ids)  # type: ignore[arg-type]
                        set_children(new, (after,))
                    _diff_element(before, after, ops, ids)  # type: ignore[arg-type]
            elif _diff_other_children(hid, old, new, ops, ids):  # type: ignore[arg-type]
                return
        elif len(new_kids) == len(old_kids) and new_kids and new.tag != "textarea":
            first = new_kids[0]  # two or more children: none may be Raw
            kind = type(first)
            if kind is Text or (kind is Element and first.key is None):  # type: ignore[union-attr]
                kids = _diff_pairs(hid, old_kids, new_kids, ops, ids)  # type: ignore[arg-type]
                if kids is not new_kids:
                    set_children(new, kids)
            elif _diff_other_children(hid, old, new, ops, ids):  # type: ignore[arg-type]
                return
        elif _diff_other_children(hid, old, new, ops, ids):  # type: ignore[arg-type]
            return
    old_attrs = old.attrs
    new_attrs = new.attrs
    if old_attrs != new_attrs:
        tag = new.tag
        _diff_attrs(hid, tag, old_attrs, new_attrs, ops)  # type: ignore[arg-type]
        if tag == "textarea":
            _diff_textarea_value(hid, old, new, ops)  # type: ignore[arg-type]


def _diff_textarea_attrs(hid: int, old: Element, new: Element, ops: Ops) -> None:
    if old.attrs != new.attrs:
        _diff_attrs(hid, "textarea", old.attrs, new.attrs, ops)


def _diff_other_children(hid: int, old: Element, new: Element, ops: Ops, ids: HidCounter) -> bool:
    """Children of any other shape. True when done with the element (attributes included)."""
    tag = new.tag
    new_kids = new.children
    old_kids = old.children
    if tag == "textarea":
        _diff_textarea_value(hid, old, new, ops)
        _diff_textarea_attrs(hid, old, new, ops)
        return True
    if _holds_raw(old_kids) or _holds_raw(new_kids):
        if old_kids != new_kids:
            _replace_element(hid, new, ops, ids)
            return True
        return False
    n = len(new_kids)
    first = new_kids[0] if n else None
    kind = type(first)
    if n == len(old_kids) and (kind is Text or (kind is Element and first.key is None)):  # type: ignore[union-attr]
        kids = _diff_pairs(hid, old_kids, new_kids, ops, ids)
    else:
        kids = _diff_children(hid, tag, old_kids, new_kids, ops, ids)
    if kids is not new_kids:
        set_children(new, kids)
    return False


def _diff_pairs(
    hid: int,
    old: tuple[Node, ...],
    new: tuple[Node, ...],
    ops: Ops,
    ids: HidCounter,
    start: int = 0,
) -> tuple[Node, ...]:
    """Children of equal count matched by position (no Raw among them); ``new[0]`` is the
    parent's child ``start`` (the index TEXT and mismatch ops name)."""
    out: list[Node] | None = None
    index = start
    for before, after in zip(old, new):  # noqa: B905 (equal lengths)
        if before is not after:
            kind = type(after)
            if kind is Text and type(before) is Text:
                if before.text != after.text:  # type: ignore[union-attr]
                    ops.append([_TEXT, hid, index, after.text])  # type: ignore[union-attr]
            elif (
                kind is Element
                and type(before) is Element
                and before.tag == after.tag  # type: ignore[union-attr]
                and before.key == after.key  # type: ignore[union-attr]
            ):
                if after.hid is not None:  # type: ignore[union-attr]
                    after = _unshared(after, ids)  # type: ignore[arg-type]
                    if out is None:
                        out = list(new)
                    out[index - start] = after
                _diff_element(before, after, ops, ids)  # type: ignore[arg-type]
            elif kind is Lazy and type(before) is Lazy:
                fresh = _diff_lazy(before, after, ops, ids)
                if fresh is not after:
                    if out is None:
                        out = list(new)
                    out[index - start] = fresh
            else:
                fresh = _diff_mismatch(hid, index, before, after, ops, ids)
                if fresh is not after:
                    if out is None:
                        out = list(new)
                    out[index - start] = fresh
        index += 1
    return new if out is None else tuple(out)


def _holds_raw(kids: tuple[Node, ...]) -> bool:
    return len(kids) == 1 and type(kids[0]) is Raw


def _replace_element(hid: int, new: Element, ops: Ops, ids: HidCounter) -> None:
    """Re-render ``new`` (owned, numbered ``hid``) into the place of element ``hid``."""
    kids = new.children
    out: list[Node] = []
    for child in kids:
        out.append(assign_hids(child, ids))
    set_children(new, tuple(out))
    ops.append([_REPLACE, hid, render(new)])


# ------------------------------------------------------------------------------ attributes


def _diff_attrs(hid: int, tag: str, old: Any, new: Any, ops: Ops) -> None:
    props = tag in PROP_TAGS
    for name, value in new.items():
        before = old.get(name)
        if before is value or (before == value and type(before) is type(value)):
            continue
        if props and name in PROP_NAMES:
            if name != "value" or tag == "select" or tag == "option":
                _set_prop(hid, tag, name, before, value, ops)
            continue  # an input's value waits for its type; a textarea's is its text
        wire = attr_value(tag, name, value)
        if wire is None:
            if attr_value(tag, name, before) is not None:
                ops.append([_REMOVE_ATTR, hid, _WIRE_NAMES.get(name) or _wire_name(name)])
        elif wire != attr_value(tag, name, before):
            ops.append([_SET_ATTR, hid, _WIRE_NAMES.get(name) or _wire_name(name), wire])
    for name, before in old.items():
        if name in new:
            continue
        if props and name in PROP_NAMES:
            if name != "value" or tag == "select" or tag == "option":
                _set_prop(hid, tag, name, before, None, ops)
        elif before is not None and before is not False:
            wire_name = _wire_name(name)
            if all(_wire_name(other) != wire_name for other in new):  # not just re-spelt
                ops.append([_REMOVE_ATTR, hid, wire_name])
    if tag == "input":
        _diff_input_value(hid, old, new, ops)


_WIRE_NAMES: dict[str, str] = {}


def _wire_name(name: str) -> str:
    """The attribute a browser's parser makes of ``name`` (cached): lower case, SVG's
    camel-case names restored (``viewbox`` -> ``viewBox``). SET_ATTR/REMOVE_ATTR send it, so
    ``setAttribute`` on an SVG element (which keeps the case given) names the parsed one."""
    wire = _WIRE_NAMES.get(name)
    if wire is None:
        lowered = name.lower()
        wire = (
            "definitionURL" if lowered == "definitionurl" else SVG_ATTR_CASE.get(lowered, lowered)
        )
        if len(_WIRE_NAMES) < 4096:
            _WIRE_NAMES[name] = wire
    return wire


def input_type(attributes: Any) -> str:
    """The state an ``<input>``'s ``type`` attribute selects (``"text"`` when absent)."""
    kind = attributes.get("type")
    return kind.lower() if type(kind) is str else "text"


def _diff_input_value(hid: int, old: Any, new: Any, ops: Ops) -> None:
    """An input's ``value``: SET_PROP in value mode, the attribute where ``.value`` mirrors it.

    Checkbox, radio, hidden and button-like inputs read ``.value`` from the attribute (a
    checkbox without one reads ``"on"``), so their value is SET_ATTR/REMOVE_ATTR. Runs after
    the ``type`` op: a browser that switches a text input to such a type copies the live value
    into the attribute, so after a type change from value mode the attribute is always sent.
    """
    before, value = old.get("value"), new.get("value")
    if input_type(new) not in ATTR_VALUE_TYPES:
        if before is not value and not (before == value and type(before) is type(value)):
            _set_prop(hid, "input", "value", before, value, ops)
        return
    wire = attr_value("input", "value", value)
    if input_type(old) in ATTR_VALUE_TYPES and wire == attr_value("input", "value", before):
        return
    ops.append([_REMOVE_ATTR, hid, "value"] if wire is None else [_SET_ATTR, hid, "value", wire])


def _set_prop(hid: int, tag: str, name: str, before: Any, value: Any, ops: Ops) -> None:
    if name == "value":
        old_wire: str | bool = attr_value(tag, name, before) or ""
        wire: str | bool = attr_value(tag, name, value) or ""
    else:
        old_wire = before is not None and before is not False
        wire = value is not None and value is not False
        attr_value(tag, name, value)  # validates the value's type
    if wire != old_wire:
        ops.append([_SET_PROP, hid, name, wire])


def textarea_value(element: Element) -> str:
    """The text a ``<textarea>`` shows: its ``value`` attribute, else its text children."""
    value = element.attrs.get("value")
    if value is not None and value is not False:
        return attr_value("textarea", "value", value) or ""
    return "".join(child.text for child in element.children if isinstance(child, Text))


def _diff_textarea_value(hid: int, old: Element, new: Element, ops: Ops) -> None:
    value = textarea_value(new)
    if value != textarea_value(old):
        ops.append([_SET_PROP, hid, "value", value])


def resync_submitted(
    form: Element, submitted: Mapping[str, Any], done: set[int], page: Element | None = None
) -> Ops:
    """SET_PROP ``value`` for the text fields of ``form`` (child components included; with
    ``page``, the fields elsewhere on it naming the form with ``form="id"``, and not those in
    it naming another) that the page renders with a value differing from what the browser
    submitted, unless their hid is in ``done`` (it got one already). The diff compares
    renders, not what the browser holds: a field rendered ``value=""`` before and after a
    submit would keep the submitted text; sent again, it clears, as in LiveView. Fields
    rendered without a value (the browser's own) and lists (multi-selects, checkbox groups)
    are left alone."""
    own = form.attrs.get("id")
    own = str(own) if own not in (None, False) else None
    fields = [n for n in _elements(form) if _named_form(n) in (None, own)]
    if page is not None and own is not None:
        fields += [n for n in _elements(page, skip=form) if _named_form(n) == own]
    ops: Ops = []
    for node in fields:
        rendered = _rendered_text_value(node)
        sent = submitted.get(str(node.attrs.get("name")))
        hid = node.hid
        if rendered is not None and type(sent) is str and sent != rendered and hid is not None:
            if hid not in done:
                ops.append([_SET_PROP, hid, "value", rendered])
    return ops


def _elements(top: object, skip: Element | None = None) -> list[Element]:
    """The elements of a tree (through child components and lazy subtrees), but ``skip``'s."""
    found: list[Element] = []
    stack: list[object] = [top]
    while stack:
        node = stack.pop()
        if type(node) is Slot:
            stack.append(node.ref.tree)
        elif type(node) is Lazy:
            stack.append(node.rendered)
        elif type(node) is Element and node is not skip:
            found.append(node)
            stack.extend(node.children)
    return found


def _named_form(node: Element) -> str | None:
    """The id a field's ``form`` attribute names (its form owner), None without one."""
    named = node.attrs.get("form")
    return None if named in (None, False) else str(named)


def _rendered_text_value(node: Element) -> str | None:
    """The value a text field is rendered with; None when it has none of its own."""
    attrs = node.attrs
    if "name" not in attrs:
        return None
    if node.tag == "input" and input_type(attrs) not in ATTR_VALUE_TYPES:
        value = attrs.get("value")
        if value is None or value is False:
            return None
        return attr_value("input", "value", value) or ""
    if node.tag == "textarea" and ("value" in attrs or node.children):
        return textarea_value(node)
    return None


# ------------------------------------------------------------------------------ children


def _diff_children(
    hid: int,
    tag: str,
    old: tuple[Node, ...],
    new: tuple[Node, ...],
    ops: Ops,
    ids: HidCounter,
) -> tuple[Node, ...]:
    """Ops for a child list; the new list (``new`` itself unless a child had to be copied)."""
    first = old[0] if old else new[0] if new else None
    if type(first) is Text or getattr(first, "key", None) is None:
        return _diff_positional(hid, old, new, ops, ids)
    old_keys = _keys_of(old)
    if old_keys is not None:
        new_keys = _keys_of(new)
        if new_keys is not None:
            if old_keys == new_keys:  # same order: matched pairwise, no structure ops
                _note_duplicate_keys(tag, new_keys, ids)
                return _diff_pairs(hid, old, new, ops, ids)
            new_index = _index_keys(new_keys)
            if new_index is None:
                _note_duplicate_keys(tag, new_keys, ids)
            else:
                old_index = _index_keys(old_keys)
                if old_index is not None:
                    return _diff_keyed(
                        hid, old, new, old_keys, new_keys, old_index, new_index, ops, ids
                    )
    return _diff_positional(hid, old, new, ops, ids)


def _keys_of(children: tuple[Node, ...]) -> list[Any] | None:
    """The keys when every child is a keyed Element, Slot or Lazy, else None."""
    keys = []
    for child in children:
        kind = type(child)
        if kind is not Element and kind is not Lazy and kind is not Slot:
            return None
        key = child.key  # type: ignore[union-attr]
        if key is None:
            return None
        keys.append(key)
    return keys


def _diff_positional(
    hid: int, old: tuple[Node, ...], new: tuple[Node, ...], ops: Ops, ids: HidCounter
) -> tuple[Node, ...]:
    """Children matched by position: pairs first, then INSERT the extra or REMOVE the surplus.

    When the count changed, the unchanged end of the list is matched first (children equal
    to the old ones, or elements with the same ``id``): a child that comes or goes before
    them (a conditional field, an error message) does not shift them onto other nodes, so
    a focused input keeps its node, its text and its caret (morphdom matches ids too)."""
    n_old, n_new = len(old), len(new)
    if n_old == n_new:
        return _diff_pairs(hid, old, new, ops, ids)
    common = min(n_old, n_new)
    same = 0
    while same < common and _same_place(old[n_old - 1 - same], new[n_new - 1 - same]):
        same += 1
    common -= same
    kids = list(_diff_pairs(hid, old[:common], new[:common], ops, ids))
    for index in range(common, n_new - same):
        fresh = assign_hids(_reject_raw(new[index]), ids)
        ops.append([_INSERT, hid, index, render(fresh)])
        kids.append(fresh)
    for index in range(n_old - same - 1, common - 1, -1):
        ops.append([_REMOVE, hid, index])
    if same:
        kids.extend(
            _diff_pairs(hid, old[n_old - same :], new[n_new - same :], ops, ids, n_new - same)
        )
    return new if all(map(_is, kids, new)) else tuple(kids)


def _same_place(old: Node, new: Node) -> bool:
    """Sure to be the same child at the end of a list whose count changed: equal, or
    elements of the same tag, key and ``id``."""
    if old is new:
        return True
    kind = type(new)
    if kind is not type(old) or (kind is not Element and kind is not Text):
        return False
    if kind is Text:
        return old == new
    if old.tag != new.tag or old.key != new.key:  # type: ignore[union-attr]
        return False
    ident = new.attrs.get("id")  # type: ignore[union-attr]
    return (ident is not None and ident == old.attrs.get("id")) or old == new  # type: ignore[union-attr]


def _is(a: object, b: object) -> bool:
    return a is b


def _diff_mismatch(
    hid: int, index: int, before: Node, after: Node, ops: Ops, ids: HidCounter
) -> Node:
    """Children at the same place that do not match: replace an element, else remove + insert.

    A child component's element is removed by index, not replaced by hid: the component
    may have moved to a place diffed earlier in this frame, whose INSERT carried its hids,
    and a hid then names that copy (until 2026-11-26 it was replaced instead)."""
    if _is_element_like(before) and _is_element_like(after) and not _other_component(before, after):
        return _diff_node(before, after, ops, ids)
    _reject_raw(before)
    fresh = assign_hids(_reject_raw(after), ids)
    ops.append([_REMOVE, hid, index])
    ops.append([_INSERT, hid, index, render(fresh)])
    return fresh


def _other_component(before: Node, after: Node) -> bool:
    """``before`` is a child component's slot and ``after`` is not the same instance's."""
    return type(before) is Slot and (type(after) is not Slot or after.ref is not before.ref)


def _is_element_like(node: Node) -> bool:
    kind = type(node)
    return kind is Element or kind is Slot or kind is Lazy


def _reject_raw(node: Node) -> Node:
    if type(node) is Raw:
        raise ValueError("a Raw node must be the only child of its element")
    return node


def _diff_keyed(
    hid: int,
    old: tuple[Node, ...],
    new: tuple[Node, ...],
    old_keys: list[Any],
    new_keys: list[Any],
    old_index: dict[Any, int],
    new_index: dict[Any, int],
    ops: Ops,
    ids: HidCounter,
) -> tuple[Node, ...]:
    """Keys differ (order or membership), each unique: structure ops first, then each kept
    child's ops."""
    _reorder_keyed(hid, old, old_keys, new_keys, old_index, new_index, ops)
    child_ops: Ops = []
    out: list[Node] | None = None
    for index, key in enumerate(new_keys):
        after = new[index]
        position = old_index.get(key)
        if position is None:
            fresh = assign_hids(after, ids)
            ops.append([_INSERT, hid, index, render(fresh)])
        else:
            before = old[position]
            if before is after:
                continue
            fresh = _diff_node(before, after, child_ops, ids)
        if fresh is not after:
            if out is None:
                out = list(new)
            out[index] = fresh
    ops.extend(child_ops)
    return new if out is None else tuple(out)


def _index_keys(keys: list[Any]) -> dict[Any, int] | None:
    """Each key's position; None when a key is there twice (the list is matched by position)."""
    index = {key: position for position, key in enumerate(keys)}
    return index if len(index) == len(keys) else None


def _note_duplicate_keys(tag: str, keys: list[Any] | None, ids: HidCounter) -> None:
    """Note (tag, first repeated key) in ``ids`` when ``keys`` holds a key twice."""
    if keys is None or len(set(keys)) == len(keys):
        return
    seen: set[Any] = set()
    duplicate = next(key for key in keys if key in seen or seen.add(key))  # type: ignore[func-returns-value]
    ids.duplicate_keys.append((tag, duplicate))


def _reorder_keyed(
    hid: int,
    old: tuple[Node, ...],
    old_keys: list[Any],
    new_keys: list[Any],
    old_index: dict[Any, int],
    new_index: dict[Any, int],
    ops: Ops,
) -> None:
    """REMOVE dropped keys (from the end), then MOVE kept children into the new order."""
    for position in range(len(old_keys) - 1, -1, -1):
        if old_keys[position] not in new_index:
            ops.append([_REMOVE, hid, position])
    kept = [key for key in old_keys if key in new_index]
    rank = {key: r for r, key in enumerate(kept)}
    order = [rank[key] for key in new_keys if key in rank]  # kept ranks, in the new order
    if order == list(range(len(order))):
        return
    for r, target in _moves(order):
        ops.append([_MOVE, hid, hid_of(old[old_index[kept[r]]]), target])


def _moves(order: list[int]) -> list[tuple[int, int]]:
    """(rank, index) moves turning ``range(n)`` into ``order``; n - LIS of them, the minimum.

    Walk ``order`` left to right; a child off the LIS is moved to just after the previous
    child in the new order. Its index then is the number of children placed so far plus the
    unplaced off-LIS children still sitting before the last LIS child placed (a Fenwick tree
    counts those), so no list is simulated.
    """
    stable = longest_increasing_subsequence(order)
    unplaced = _Fenwick(len(order))
    for r in order:
        if r not in stable:
            unplaced.add(r, 1)
    moves: list[tuple[int, int]] = []
    last_stable = -1
    for placed, r in enumerate(order):
        if r in stable:
            last_stable = r
            continue
        unplaced.add(r, -1)
        moves.append((r, placed + (unplaced.prefix(last_stable) if last_stable >= 0 else 0)))
    return moves


def longest_increasing_subsequence(values: list[int]) -> set[int]:
    """The values on one longest strictly increasing subsequence (O(n log n))."""
    from bisect import bisect_left

    tails: list[int] = []  # tails[k]: smallest tail value of an increasing run of length k+1
    tail_at: list[int] = []  # position in values of tails[k]
    previous = [-1] * len(values)
    for position, value in enumerate(values):
        k = bisect_left(tails, value)
        if k == len(tails):
            tails.append(value)
            tail_at.append(position)
        else:
            tails[k] = value
            tail_at[k] = position
        previous[position] = tail_at[k - 1] if k else -1
    members: set[int] = set()
    position = tail_at[-1] if tail_at else -1
    while position >= 0:
        members.add(values[position])
        position = previous[position]
    return members


class _Fenwick:
    """Prefix sums over 0..n-1 with point updates, both O(log n)."""

    __slots__ = ("tree",)

    def __init__(self, size: int) -> None:
        self.tree = [0] * (size + 1)

    def add(self, index: int, delta: int) -> None:
        index += 1
        tree = self.tree
        while index < len(tree):
            tree[index] += delta
            index += index & -index

    def prefix(self, index: int) -> int:
        """Sum over 0..index inclusive."""
        index += 1
        total = 0
        tree = self.tree
        while index > 0:
            total += tree[index]
            index -= index & -index
        return total
