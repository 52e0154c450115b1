"""Old tree, new tree -> patch ops, with hydration ids carried over (sans-IO, pure).

Rules (the op encodings are in ``docs/ARCHITECTURE.md`` and :class:`~.protocol.Op`):

- ops apply in order; every index refers to the state after the previous op;
- an element matches an old one with the same tag and key at the same place (positional
  children) or with the same key (keyed children); a match keeps its hid, new elements get
  fresh hids from the session's :class:`~.vdom.HidCounter`, which only grows;
- keyed children (every child an Element/Slot with a key): REMOVE old keys first (from the
  end), then MOVE the kept children that are not on a longest increasing subsequence of their
  old positions (n - LIS moves, the minimum), then INSERT new keys in increasing index order;
  the kept children's own ops follow (they address nodes by hid, so order does not matter);
- ``value``/``checked``/``selected`` on input, textarea, select and option travel as SET_PROP
  so the live control follows the server; a textarea's text is its ``value``;
- a changed ``Raw`` child replaces its parent element; a Slot of the same component instance
  is not looked into (components are diff boundaries).

Cost: one walk of the new tree, comparing as it goes; an unchanged subtree whose handlers
are equal is returned as the old object (no copy).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .html import attr_value, render
from .protocol import Op
from .vdom import ComponentNode, Element, HidCounter, Node, Raw, Slot, Text

PROP_TAGS = frozenset({"input", "textarea", "select", "option"})
PROP_NAMES = frozenset({"value", "checked", "selected"})

_TEXT = int(Op.TEXT)
_SET_ATTR = int(Op.SET_ATTR)
_REMOVE_ATTR = int(Op.REMOVE_ATTR)
_SET_PROP = int(Op.SET_PROP)
_INSERT = int(Op.INSERT)
_REMOVE = int(Op.REMOVE)
_MOVE = int(Op.MOVE)
_REPLACE = int(Op.REPLACE)

Ops = list[list[Any]]

_ELEMENT_FIELDS = ("tag", "attrs", "children", "key", "events", "hid")


def _make_element_factory() -> Callable[[str, Any, Any, Any, Any, int], Element]:
    """A constructor for Element about 4x faster than the attrs __init__ (hot path).

    Sets the slots directly; falls back to the attrs __init__ if Element's fields change.
    """
    import attrs

    if tuple(f.name for f in attrs.fields(Element)) != _ELEMENT_FIELDS:
        return Element
    set_tag, set_attrs, set_children, set_key, set_events, set_hid = (
        Element.__dict__[name].__set__ for name in _ELEMENT_FIELDS
    )
    new = object.__new__

    def make(tag: str, attributes: Any, children: Any, key: Any, events: Any, hid: int) -> Element:
        element = new(Element)
        set_tag(element, tag)
        set_attrs(element, attributes)
        set_children(element, children)
        set_key(element, key)
        set_events(element, events)
        set_hid(element, hid)
        return element

    return make


_element = _make_element_factory()


# ------------------------------------------------------------------------------ hids


def assign_hids(node: Node, ids: HidCounter) -> Node:
    """A copy of ``node`` where every Element has a hid (kept if it had one), pre-order.

    Slots are returned untouched: their trees belong to the child component.
    """
    kind = type(node)
    if kind is Element:
        return _assign_element(node, ids)  # type: ignore[arg-type]
    if kind is Text or kind is Raw or kind is Slot:
        return node
    return _assign_other(node, ids)


def _assign_element(node: Element, ids: HidCounter) -> Element:
    hid = node.hid
    if hid is None:
        hid = ids.next()
    children = node.children
    kids = tuple([assign_hids(child, ids) for child in children])
    if hid == node.hid and all(map(_is, kids, children)):
        return node
    return _element(node.tag, node.attrs, kids, node.key, node.events, hid)


def _is(a: object, b: object) -> bool:
    return a is b


def _assign_other(node: object, ids: HidCounter) -> Node:
    if isinstance(node, Element):  # a subclass: copied as a plain Element
        return _assign_element(node, ids)
    if isinstance(node, (Text, Raw, Slot)):
        return node
    if isinstance(node, ComponentNode):
        raise TypeError(
            f"unresolved component {node.component.__name__}: the runtime resolves a "
            f"ComponentNode to a Slot before hids are assigned or trees are diffed"
        )
    raise TypeError(f"expected a vdom node, got {type(node).__name__}: {node!r}")


def hid_of(node: Node) -> int:
    """The hid addressing ``node`` on the page (a Slot is addressed by its tree's root)."""
    element = node.tree if type(node) is Slot else node
    hid = getattr(element, "hid", None)
    if hid is None:
        raise ValueError(
            f"expected an old tree with hids (use assign_hids first), got {element!r:.80}"
        )
    return int(hid)


# ------------------------------------------------------------------------------ diff


def diff(old: Node, new: Node, ids: HidCounter) -> tuple[Ops, Node]:
    """Ops turning the page of ``old`` (with hids) into ``new`` (without), and ``new`` with hids.

    Same-tag, same-key root elements are diffed in place; any other root change is one
    REPLACE of the old root.
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
            return _diff_element(old, new, ops, ids)  # type: ignore[arg-type]
    elif old_kind is Slot and new_kind is Slot and old.ref is new.ref:  # type: ignore[union-attr]
        return new
    fresh = assign_hids(new, ids)
    ops.append([_REPLACE, hid_of(old), render(fresh)])
    return fresh


def _diff_element(old: Element, new: Element, ops: Ops, ids: HidCounter) -> Element:
    """Same tag and key: diff attributes and children in place, keeping ``old.hid``."""
    hid = old.hid
    if hid is None:
        hid_of(old)  # raises the error saying the old tree lacks hids
    assert hid is not None
    tag = old.tag
    old_kids, new_kids = old.children, new.children
    if old_kids is new_kids and tag != "textarea":
        kids = old_kids
    elif len(old_kids) == 1 and len(new_kids) == 1 and tag != "textarea":
        # Fast path for the most common shape (a cell, a label, a link): one child.
        before, after = old_kids[0], new_kids[0]
        kind = type(after)
        if kind is Text and type(before) is Text:
            if before.text == after.text:  # type: ignore[union-attr]
                kids = old_kids
            else:
                ops.append([_TEXT, hid, 0, after.text])  # type: ignore[union-attr]
                kids = new_kids
        elif (
            kind is Element
            and type(before) is Element
            and before.tag == after.tag  # type: ignore[union-attr]
            and before.key == after.key  # type: ignore[union-attr]
        ):
            child = _diff_element(before, after, ops, ids)  # type: ignore[arg-type]
            kids = old_kids if child is before else (child,)
        else:
            return _diff_element_slow(hid, old, new, ops, ids)
    elif tag == "textarea" or _holds_raw(old_kids) or _holds_raw(new_kids):
        return _diff_element_slow(hid, old, new, ops, ids)
    else:
        kids = _diff_children(hid, tag, old_kids, new_kids, ops, ids)
    old_attrs, new_attrs = old.attrs, new.attrs
    if old_attrs is not new_attrs and old_attrs != new_attrs:
        _diff_attrs(hid, tag, old_attrs, new_attrs, ops)
    elif kids is old_kids and old.events == new.events:
        return old
    return _element(tag, new_attrs, kids, new.key, new.events, hid)


def _diff_element_slow(hid: int, old: Element, new: Element, ops: Ops, ids: HidCounter) -> Element:
    tag = old.tag
    old_kids, new_kids = old.children, new.children
    if _holds_raw(old_kids) or _holds_raw(new_kids):
        if old_kids != new_kids:
            return _replace_element(hid, new, ops, ids)
        kids = old_kids
    elif tag == "textarea":
        _diff_textarea_value(hid, old, new, ops)
        kids = old_kids if old_kids == new_kids else new_kids
    else:
        kids = _diff_children(hid, tag, old_kids, new_kids, ops, ids)
    return _finish_element(hid, old, new, kids, ops)


def _finish_element(
    hid: int, old: Element, new: Element, kids: tuple[Node, ...], ops: Ops
) -> Element:
    """Diff attributes; return ``old`` itself when nothing at all changed."""
    old_attrs, new_attrs = old.attrs, new.attrs
    same_attrs = old_attrs is new_attrs or old_attrs == new_attrs
    if not same_attrs:
        _diff_attrs(hid, old.tag, old_attrs, new_attrs, ops)
    if kids is old.children and same_attrs and old.events == new.events:
        return old
    return _element(old.tag, new_attrs, kids, new.key, new.events, hid)


def _holds_raw(kids: tuple[Node, ...]) -> bool:
    return len(kids) == 1 and type(kids[0]) is Raw


def _replace_element(hid: int, new: Element, ops: Ops, ids: HidCounter) -> Element:
    """Re-render ``new`` into the place of element ``hid``, keeping that hid."""
    kept = Element(new.tag, new.attrs, new.children, new.key, new.events, hid)
    fresh = _assign_element(kept, ids)
    ops.append([_REPLACE, hid, render(fresh)])
    return fresh


# ------------------------------------------------------------------------------ attributes


def _diff_attrs(hid: int, tag: str, old: Any, new: Any, ops: Ops) -> None:
    props = tag in PROP_TAGS
    for name, value in new.items():
        before = old.get(name)
        if before is value or (before == value and type(before) is type(value)):
            continue
        if props and name in PROP_NAMES:
            if tag != "textarea" or name != "value":
                _set_prop(hid, tag, name, before, value, ops)
            continue
        wire = attr_value(tag, name, value)
        if wire is None:
            if attr_value(tag, name, before) is not None:
                ops.append([_REMOVE_ATTR, hid, name])
        elif wire != attr_value(tag, name, before):
            ops.append([_SET_ATTR, hid, name, wire])
    for name, before in old.items():
        if name in new:
            continue
        if props and name in PROP_NAMES:
            if tag != "textarea" or name != "value":
                _set_prop(hid, tag, name, before, None, ops)
        elif before is not None and before is not False:
            ops.append([_REMOVE_ATTR, hid, name])


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


# ------------------------------------------------------------------------------ children


def _diff_children(
    hid: int,
    tag: str,
    old: tuple[Node, ...],
    new: tuple[Node, ...],
    ops: Ops,
    ids: HidCounter,
) -> tuple[Node, ...]:
    if old is new:
        return old
    first = old[0] if old else new[0] if new else None
    if type(first) is Text or getattr(first, "key", None) is None:
        return _diff_positional(hid, old, new, ops, ids)
    old_keys = _keys_of(old)
    if old_keys is not None:
        new_keys = _keys_of(new)
        if new_keys is not None:
            return _diff_keyed(hid, tag, old, new, old_keys, new_keys, ops, ids)
    return _diff_positional(hid, old, new, ops, ids)


def _keys_of(children: tuple[Node, ...]) -> list[Any] | None:
    """The keys when every child is a keyed Element or Slot, else None."""
    keys = []
    for child in children:
        kind = type(child)
        if kind is not Element and kind is not Slot:
            return None
        key = child.key  # type: ignore[union-attr]
        if key is None:
            return None
        keys.append(key)
    return keys


def _diff_positional(
    hid: int, old: tuple[Node, ...], new: tuple[Node, ...], ops: Ops, ids: HidCounter
) -> tuple[Node, ...]:
    out: list[Node] = []
    same = len(old) == len(new)
    for index, (before, after) in enumerate(zip(old, new, strict=False)):
        if before is not after:
            kind = type(after)
            if (
                kind is Element
                and type(before) is Element
                and before.tag == after.tag  # type: ignore[union-attr]
                and before.key == after.key  # type: ignore[union-attr]
            ):
                after = _diff_element(before, after, ops, ids)  # type: ignore[arg-type]
                same = same and after is before
            elif kind is Text and type(before) is Text:
                if before.text == after.text:  # type: ignore[union-attr]
                    after = before
                else:
                    ops.append([_TEXT, hid, index, after.text])  # type: ignore[union-attr]
                    same = False
            else:
                after = _diff_mismatch(hid, index, before, after, ops, ids)
                same = False
        out.append(after)
    for index in range(len(old), len(new)):
        fresh = assign_hids(_reject_raw(new[index]), ids)
        ops.append([_INSERT, hid, index, render(fresh)])
        out.append(fresh)
    for index in range(len(old) - 1, len(new) - 1, -1):
        ops.append([_REMOVE, hid, index])
    return old if same else tuple(out)


def _diff_mismatch(
    hid: int, index: int, before: Node, after: Node, ops: Ops, ids: HidCounter
) -> Node:
    """Children at the same place that do not match: replace an element, else remove + insert."""
    if _is_element_like(before) and _is_element_like(after):
        return _diff_node(before, after, ops, ids)
    _reject_raw(before)
    fresh = assign_hids(_reject_raw(after), ids)
    ops.append([_REMOVE, hid, index])
    ops.append([_INSERT, hid, index, render(fresh)])
    return fresh


def _is_element_like(node: Node) -> bool:
    kind = type(node)
    return kind is Element or kind is Slot


def _reject_raw(node: Node) -> Node:
    if type(node) is Raw:
        raise ValueError("a Raw node must be the only child of its element")
    return node


def _diff_keyed(
    hid: int,
    tag: str,
    old: tuple[Node, ...],
    new: tuple[Node, ...],
    old_keys: list[Any],
    new_keys: list[Any],
    ops: Ops,
    ids: HidCounter,
) -> tuple[Node, ...]:
    old_index = _index_keys(tag, old_keys)
    new_index = _index_keys(tag, new_keys)
    if old_keys != new_keys:
        _reorder_keyed(hid, old, old_keys, new_keys, old_index, new_index, ops)
    child_ops: Ops = []
    out: list[Node] = []
    same = len(old) == len(new)
    for index, (key, after) in enumerate(zip(new_keys, new, strict=True)):
        position = old_index.get(key)
        if position is None:
            fresh = assign_hids(after, ids)
            ops.append([_INSERT, hid, index, render(fresh)])
            out.append(fresh)
            same = False
            continue
        before = old[position]
        if before is after:
            after_with_hids = after
        elif type(before) is Element and type(after) is Element and before.tag == after.tag:
            after_with_hids = _diff_element(before, after, child_ops, ids)
        else:
            after_with_hids = _diff_node(before, after, child_ops, ids)
        if after_with_hids is not before or position != index:
            same = False
        out.append(after_with_hids)
    ops.extend(child_ops)
    return old if same else tuple(out)


def _index_keys(tag: str, keys: list[Any]) -> dict[Any, int]:
    index = {key: position for position, key in enumerate(keys)}
    if len(index) != len(keys):
        seen: set[Any] = set()
        duplicate = next(key for key in keys if key in seen or seen.add(key))  # type: ignore[func-returns-value]
        raise ValueError(f"duplicate key {duplicate!r} among the children of <{tag}>")
    return index


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
