"""Hypothesis strategies for vdom trees and pairs of related trees (reusable by other tests).

``trees()`` draws an Element tree: keyed and unkeyed child lists, text with markup
characters, attributes (including form-control state), void elements, textareas.
``tree_pairs()`` draws ``(a, b)`` where ``b`` is ``a`` mutated: texts and attributes changed,
keyed children inserted / deleted / shuffled, unkeyed children inserted / deleted / replaced,
tags changed. Trees carry no hids; they are normalised like ``h`` builds them.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from vango_actors.vdom import AttrValue, Element, Node, Text, children_of

CONTAINER_TAGS = ("div", "span", "p", "ul", "li", "b", "section", "pre")
TEXT_ALPHABET = st.characters(
    codec="utf-8", exclude_categories=("Cs", "Cc"), include_characters="<>&\"' \t\n"
)
texts = st.text(TEXT_ALPHABET, min_size=1, max_size=8)
attr_texts = st.text(TEXT_ALPHABET, max_size=8)
ATTR_NAMES = ("class", "id", "title", "data-x", "aria-label")
# Equal in Python, not on the page: 1 == True == 1.0 renders "1", "" and "1.0"; 0 == False.
HIDDEN_VALUES: list[AttrValue] = [True, False, None, 1, 0, 1.0, "1", ""]
keys = st.one_of(st.integers(0, 40), st.sampled_from(["a", "b", "c", "d", "e", "f", "g"]))


@st.composite
def attributes(draw: st.DrawFn) -> dict[str, AttrValue]:
    names = draw(st.lists(st.sampled_from(ATTR_NAMES), unique=True, max_size=3))
    found: dict[str, AttrValue] = {name: draw(attr_texts) for name in names}
    if draw(st.booleans()):
        found["hidden"] = draw(st.sampled_from(HIDDEN_VALUES))
    if draw(st.integers(0, 4)) == 0:
        found["href"] = draw(st.sampled_from(["/a", "https://x.test/?q=1&r=2", "javascript:x()"]))
    return found


@st.composite
def form_controls(draw: st.DrawFn) -> Element:
    kind = draw(st.sampled_from(["text", "checkbox", "textarea", "select"]))
    if kind == "text":
        found: dict[str, AttrValue] = {"type": "text"}
        if draw(st.booleans()):
            found["value"] = draw(attr_texts)
        return Element("input", found)
    if kind == "checkbox":
        found = {"type": draw(st.sampled_from(["checkbox", "radio"]))}
        found["checked"] = draw(st.booleans())
        if draw(st.booleans()):
            found["value"] = draw(attr_texts)
        return Element("input", found)
    if kind == "textarea":
        if draw(st.booleans()):
            return Element("textarea", {"value": draw(attr_texts)})
        return Element("textarea", {}, children_of(draw(st.text(TEXT_ALPHABET, max_size=8))))
    options = [
        Element("option", {"value": str(i), "selected": draw(st.booleans())}, (Text(f"o{i}"),))
        for i in range(draw(st.integers(0, 3)))
    ]
    return Element("select", {"name": "s"}, tuple(options))


def _leaf(draw: st.DrawFn) -> Node:
    choice = draw(st.integers(0, 5))
    if choice == 0:
        return Element("br")
    if choice == 1:
        return draw(form_controls())
    return Text(draw(texts))


@st.composite
def elements(draw: st.DrawFn, depth: int = 3, key: Any = None) -> Element:
    """An element with a container tag and ``depth`` levels of children at most."""
    tag = draw(st.sampled_from(CONTAINER_TAGS))
    return Element(tag, draw(attributes()), draw(child_lists(depth - 1)), key)


@st.composite
def child_lists(draw: st.DrawFn, depth: int) -> tuple[Node, ...]:
    if depth <= 0:
        return children_of([_leaf(draw) for _ in range(draw(st.integers(0, 2)))])
    if draw(st.booleans()):  # keyed
        chosen = draw(st.lists(keys, unique=True, max_size=6))
        return tuple(draw(elements(depth, key)) for key in chosen)
    kids: list[Node] = []
    used: set[Any] = set()
    for _ in range(draw(st.integers(0, 5))):
        if draw(st.booleans()):
            key = draw(st.one_of(st.none(), keys.filter(lambda k: k not in used)))
            used.add(key)
            kids.append(draw(elements(depth, key)))
        else:
            kids.append(_leaf(draw))
    return children_of(kids)


def trees(depth: int = 3) -> st.SearchStrategy[Element]:
    """Root trees: a ``div`` (so roots match and the diff works in place)."""
    return st.builds(
        lambda kids, found: Element("div", found, kids),
        child_lists(depth),
        attributes(),
    )


# ------------------------------------------------------------------------------ mutations


def _mutate_attrs(draw: st.DrawFn, found: Any) -> dict[str, AttrValue]:
    if draw(st.integers(0, 2)) != 0:
        return dict(found)
    changed = dict(found)
    for name in draw(st.lists(st.sampled_from([*ATTR_NAMES, "hidden", "href"]), max_size=2)):
        action = draw(st.integers(0, 2))
        if action == 0:
            changed.pop(name, None)
        elif name == "hidden":
            changed[name] = draw(st.sampled_from([*HIDDEN_VALUES, "until-found"]))
        else:
            changed[name] = draw(attr_texts)
    return changed


def _mutate_control(draw: st.DrawFn, control: Element) -> Node:
    if draw(st.integers(0, 2)) == 0:
        return draw(form_controls())
    found = dict(control.attrs)
    if control.tag == "input" and found.get("type") in ("checkbox", "radio"):
        found["checked"] = draw(st.sampled_from([True, False, None]))
        if draw(st.booleans()):
            found["value"] = draw(st.one_of(st.none(), attr_texts))
    elif control.tag == "input":
        found["value"] = draw(st.one_of(st.none(), attr_texts))
    elif control.tag == "textarea":
        return Element("textarea", {"value": draw(attr_texts)})
    elif control.tag == "select":
        options = tuple(
            Element(o.tag, {**o.attrs, "selected": draw(st.booleans())}, o.children)
            for o in control.children
            if isinstance(o, Element)
        )
        return Element("select", found, options)
    return Element(control.tag, found, control.children, control.key)


def mutate(draw: st.DrawFn, node: Node, depth: int) -> Node:
    """A changed copy of ``node`` (sometimes an equal one)."""
    if isinstance(node, Text):
        return Text(draw(texts)) if draw(st.integers(0, 2)) == 0 else Text(node.text)
    assert isinstance(node, Element)
    if node.tag in ("input", "textarea", "select", "br"):
        return _mutate_control(draw, node) if node.tag != "br" else Element("br")
    if draw(st.integers(0, 9)) == 0:  # tag change: the element is replaced
        tag = draw(st.sampled_from(CONTAINER_TAGS))
    else:
        tag = node.tag
    kids = _mutate_children(draw, node.children, depth)
    return Element(tag, _mutate_attrs(draw, node.attrs), kids, node.key)


def _is_keyed(children: tuple[Node, ...]) -> bool:
    return bool(children) and all(isinstance(c, Element) and c.key is not None for c in children)


def _mutate_children(draw: st.DrawFn, children: tuple[Node, ...], depth: int) -> tuple[Node, ...]:
    if _is_keyed(children):
        kept = [c for c in children if draw(st.integers(0, 3)) != 0]
        kept = draw(st.permutations(kept)) if draw(st.booleans()) else kept
        out: list[Node] = [mutate(draw, c, depth - 1) for c in kept]
        used = {c.key for c in children if isinstance(c, Element)}
        for key in draw(st.lists(keys.filter(lambda k: k not in used), unique=True, max_size=3)):
            out.insert(draw(st.integers(0, len(out))), draw(elements(max(depth - 1, 0), key)))
        return tuple(out)
    out = []
    for child in children:
        action = draw(st.integers(0, 5))
        if action == 0:
            continue  # deleted
        if action == 1:
            out.append(draw(elements(max(depth - 1, 0))) if draw(st.booleans()) else _leaf(draw))
        else:
            out.append(mutate(draw, child, depth - 1))
    for _ in range(draw(st.integers(0, 2))):
        out.insert(draw(st.integers(0, len(out))), _leaf(draw))
    return children_of(out)


@st.composite
def tree_pairs(draw: st.DrawFn, depth: int = 3) -> tuple[Element, Element]:
    """``(a, b)``: a random tree and a mutation of it (or, rarely, an unrelated tree)."""
    a = draw(trees(depth))
    if draw(st.integers(0, 9)) == 0:
        return a, draw(trees(depth))
    b = mutate(draw, a, depth)
    assert isinstance(b, Element)
    return a, b


def rebuild(node: Node) -> Node:
    """An equal tree made of new objects, without hids."""
    if isinstance(node, Element):
        return Element(
            node.tag, dict(node.attrs), tuple(rebuild(c) for c in node.children), node.key
        )
    if isinstance(node, Text):
        return Text(node.text)
    return node
