"""h.lazy / Lazy: a memoised subtree reused by the diff (same objects, same hids) while its
function and arguments stay equal; every tree walker understands it."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.core.strategies import tree_pairs, trees
from vango_actors.diff import assign_hids, diff
from vango_actors.dom import Document, snapshot
from vango_actors.html import render
from vango_actors.protocol import Op
from vango_actors.vdom import ComponentNode, Element, HidCounter, Lazy, Node, Text, h

# ------------------------------------------------------------------ trees with Lazy nodes
# A tree is frozen into a hashable spec; some elements become ("lazy", spec): a Lazy whose
# function builds the element from the spec. Equal specs render equal subtrees, so a reused
# subtree is always a correct one, and nested lazies come out of a lazy's own render.

Spec = tuple[Any, ...]


def build(spec: Spec) -> Node:
    if spec[0] == "text":
        return Text(spec[1])
    if spec[0] == "lazy":
        return Lazy(build_element, (spec[1],), spec[1][4])
    _, tag, attributes, children, key = spec
    return Element(tag, dict(attributes), tuple(build(child) for child in children), key)


def build_element(spec: Spec) -> Element:
    element = build(spec)
    assert isinstance(element, Element)
    return element


def eager(spec: Spec) -> Node:
    """The same tree with every Lazy rendered in place (what the lazy tree must show)."""
    if spec[0] == "text":
        return Text(spec[1])
    if spec[0] == "lazy":
        return eager(spec[1])
    _, tag, attributes, children, key = spec
    return Element(tag, dict(attributes), tuple(eager(child) for child in children), key)


@st.composite
def lazy_specs(draw: st.DrawFn, node: Node, root: bool = False) -> Spec:
    if isinstance(node, Text):
        return ("text", node.text)
    assert isinstance(node, Element)
    kids = tuple(draw(lazy_specs(child)) for child in node.children)
    spec = ("el", node.tag, tuple(node.attrs.items()), kids, node.key)
    return spec if root or not draw(st.booleans()) else ("lazy", spec)


def expanded(node: Node) -> Node:
    """A mounted tree with its Lazy nodes replaced by their rendered subtrees."""
    if isinstance(node, Lazy):
        assert node.rendered is not None, "a mounted Lazy has its subtree"
        return expanded(node.rendered)
    if isinstance(node, Element):
        return Element(node.tag, node.attrs, tuple(expanded(c) for c in node.children), node.key)
    return node


def hids_of(node: Node) -> list[int]:
    if isinstance(node, Lazy):
        assert node.rendered is not None
        return hids_of(node.rendered)
    if isinstance(node, Element):
        assert node.hid is not None
        return [node.hid, *(hid for child in node.children for hid in hids_of(child))]
    return []


def page(tree: Node) -> Any:
    return snapshot(Document.from_html(render(tree)).root)


@settings(max_examples=100, deadline=None)
@given(st.data(), tree_pairs())
def test_a_lazy_tree_diffs_and_applies_like_the_eager_tree(
    data: st.DataObject, pair: tuple[Element, Element]
) -> None:
    spec_a = data.draw(lazy_specs(pair[0], root=True))
    spec_b = data.draw(lazy_specs(pair[1], root=True))
    ids = HidCounter()
    old = assign_hids(build(spec_a), ids)
    assert expanded(old) == eager(spec_a)
    max_old = ids.last
    ops, new = diff(old, build(spec_b), ids)
    assert expanded(new) == eager(spec_b)  # shows exactly what the eager tree shows
    patched = Document.from_html(render(old))
    patched.apply(ops)
    assert snapshot(patched.root) == page(new)  # every hid included
    hids = hids_of(new)
    assert len(hids) == len(set(hids)) == len(patched.hids()) - 1  # unique; root container
    assert all(hid > max_old for hid in set(hids) - set(hids_of(old)))


@settings(max_examples=50, deadline=None)
@given(st.data(), trees())
def test_an_equal_lazy_tree_gives_no_ops(data: st.DataObject, tree: Element) -> None:
    ids = HidCounter()
    old = assign_hids(build(data.draw(lazy_specs(tree, root=True))), ids)
    ops, _ = diff(old, build(data.draw(lazy_specs(tree, root=True))), ids)
    assert ops == []


# ------------------------------------------------------------------ exact behaviour

calls: Counter[int] = Counter()


def row(row_id: int, label: str) -> Element:
    calls[row_id] += 1
    return h.tr(h.td(label), h.td(h.button("x", on_click=lambda: row_id)), key=row_id)


def table(rows: list[tuple[int, str]]) -> Element:
    return h.table(h.tbody([h.lazy(row, i, label, key=i) for i, label in rows]))


ROWS = [(1, "a"), (2, "b"), (3, "c")]


def test_equal_args_reuse_the_old_subtree_and_changed_args_render_again() -> None:
    calls.clear()
    ids = HidCounter()
    old = assign_hids(table(ROWS), ids)
    assert calls == {1: 1, 2: 1, 3: 1}
    ops, new = diff(old, table([(1, "a"), (2, "B"), (3, "c")]), ids)
    assert ops == [[Op.TEXT, 8, 0, "B"]]
    assert calls == {1: 1, 2: 2, 3: 1}  # only the changed row is rendered
    old_rows, new_rows = old.children[0].children, new.children[0].children  # type: ignore[union-attr]
    assert new_rows[0].rendered is old_rows[0].rendered  # the very same objects, hids kept
    assert new_rows[1].rendered is not old_rows[1].rendered
    assert new_rows[1].rendered.hid == old_rows[1].rendered.hid == 7
    assert ids.last == 14  # nothing new numbered


def test_keyed_lazy_rows_move_insert_and_remove_without_rendering_kept_rows() -> None:
    calls.clear()
    ids = HidCounter()
    old = assign_hids(table(ROWS), ids)
    ops, new = diff(old, table([(3, "c"), (1, "a"), (4, "d")]), ids)
    assert [op[0] for op in ops] == [Op.REMOVE, Op.MOVE, Op.INSERT]
    assert calls == {1: 1, 2: 1, 3: 1, 4: 1}
    assert_same_page(old, ops, new)


def test_a_changed_function_renders_again_with_equal_args() -> None:
    def other(row_id: int, label: str) -> Element:
        return h.tr(h.td(label.upper()), key=row_id)

    ids = HidCounter()
    old = assign_hids(h.div(h.lazy(row, 1, "a")), ids)
    ops, new = diff(old, h.div(h.lazy(other, 1, "a")), ids)
    assert ops == [[Op.TEXT, 3, 0, "A"], [Op.REMOVE, 2, 1]]
    assert_same_page(old, ops, new)


def test_a_bound_method_is_the_same_function_every_render() -> None:
    class View:
        renders = 0

        def item(self, text: str) -> Element:
            self.renders += 1
            return h.li(text)

    view = View()
    ids = HidCounter()
    old = assign_hids(h.ul(h.lazy(view.item, "x")), ids)
    ops, _ = diff(old, h.ul(h.lazy(view.item, "x")), ids)
    assert ops == [] and view.renders == 1


def test_lazy_and_element_at_the_same_place_diff_their_elements() -> None:
    ids = HidCounter()
    old = assign_hids(h.div(h.span("a"), h.lazy(row, 1, "a")), ids)
    ops, new = diff(old, h.div(h.lazy(lambda: h.span("b")), h.tr(h.td("a"), key=1)), ids)
    assert ops[0] == [Op.TEXT, 2, 0, "b"]
    assert_same_page(old, ops, new)


def test_a_lazy_root_and_a_mounted_lazy_reused_elsewhere() -> None:
    ids = HidCounter()
    shared = assign_hids(h.lazy(row, 7, "s"), ids)
    assert isinstance(shared, Lazy) and shared.rendered is not None
    assert render(shared).startswith('<tr data-hid="h1">')
    tree = assign_hids(h.table(h.tbody(shared)), ids)  # mounted already: a numbered copy
    body = tree.children[0]  # type: ignore[union-attr]
    copy = body.children[0]  # type: ignore[union-attr]
    assert copy is not shared and copy.rendered.hid == 7 and shared.rendered.hid == 1
    ops, again = diff(shared, h.lazy(row, 7, "t"), ids)
    assert ops == [[Op.TEXT, 2, 0, "t"]] and isinstance(again, Lazy)


def test_render_of_an_unmounted_lazy_calls_the_function_and_keeps_nothing() -> None:
    node = h.lazy(lambda text: h.b(text), "<x>")
    assert render(h.p(node)) == "<p><b>&lt;x&gt;</b></p>"
    assert node.rendered is None


def test_a_lazy_function_must_return_one_element() -> None:
    def text() -> Element:
        return "x"  # type: ignore[return-value]

    with pytest.raises(
        TypeError,
        match=r"^h\.lazy\(.*text, \.\.\.\): expected the function "
        r"to return one Element, got str$",
    ):
        assign_hids(h.div(h.lazy(text)), HidCounter())
    with pytest.raises(TypeError, match=r"^h\.lazy: expected a function"):
        h.lazy("x")  # type: ignore[arg-type]


def test_a_lazy_subtree_cannot_hold_components() -> None:
    class Child:
        pass

    with pytest.raises(TypeError, match=r"cannot hold components\)$"):
        assign_hids(h.div(h.lazy(lambda: h.p(ComponentNode(Child)))), HidCounter())


def test_lazy_equality_ignores_the_rendered_subtree() -> None:
    a = h.lazy(row, 1, "a", key=1)
    assert a == h.lazy(row, 1, "a", key=1) and a != h.lazy(row, 1, "b", key=1)
    assign_hids(a, HidCounter())
    assert a == h.lazy(row, 1, "a", key=1)


def assert_same_page(old: Node, ops: list[list[Any]], new: Node) -> None:
    patched = Document.from_html(render(old))
    patched.apply(ops)
    assert snapshot(patched.root) == page(new)
