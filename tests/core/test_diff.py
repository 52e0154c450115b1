"""diff/assign_hids: exact ops for the common cases, and properties checked on the DOM oracle."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.core.strategies import rebuild, tree_pairs, trees
from vango_actors.diff import assign_hids, diff, longest_increasing_subsequence
from vango_actors.dom import Document, snapshot
from vango_actors.html import render
from vango_actors.protocol import Op
from vango_actors.vdom import AttrValue, Element, HidCounter, Node, Slot, Text, h


def mounted(tree: Node, start: int = 0) -> tuple[Any, HidCounter]:
    ids = HidCounter(start)
    return assign_hids(tree, ids), ids


def all_hids(node: Node) -> list[int]:
    if isinstance(node, Element):
        own = [node.hid] if node.hid is not None else []
        return own + [hid for child in node.children for hid in all_hids(child)]
    return []


def applied(old: Node, ops: list[list[Any]]) -> Document:
    document = Document.from_html(render(old))
    document.apply(ops)
    return document


def assert_patches_to(old: Node, ops: list[list[Any]], new_with_hids: Node) -> None:
    expected = Document.from_html(render(new_with_hids))
    assert snapshot(applied(old, ops).root) == snapshot(expected.root)


# ------------------------------------------------------------------------------ hids


def test_assign_hids_numbers_elements_depth_first_in_preorder() -> None:
    tree, ids = mounted(h.div(h.p(h.b("x"), "y"), h.ul(h.li("1"), h.li("2"))))
    assert render(tree) == (
        '<div data-hid="h1"><p data-hid="h2"><b data-hid="h3">x</b>y</p>'
        '<ul data-hid="h4"><li data-hid="h5">1</li><li data-hid="h6">2</li></ul></div>'
    )
    assert ids.last == 6


def test_assign_hids_numbers_in_place_and_copies_an_already_numbered_subtree() -> None:
    fresh = h.div(h.span("a"))
    tree, ids = mounted(fresh)
    assert tree is fresh and all_hids(tree) == [1, 2]
    grown = Element("div", {}, (tree, h.span("b")), hid=None)
    again = assign_hids(grown, ids)
    assert again is grown and all_hids(again) == [3, 4, 5, 6]
    assert all_hids(tree) == [1, 2]  # mounted elsewhere: copied, never renumbered
    assert again.children[0] == tree and again.children[0] is not tree


def test_assign_hids_leaves_slots_alone() -> None:
    child, _ = mounted(h.span("child"), start=50)
    slot = Slot(_Ref(child))
    tree, _ = mounted(h.div(slot))
    assert tree.children[0] is slot
    assert render(tree) == '<div data-hid="h1"><span data-hid="h51">child</span></div>'


class _Ref:
    """A mounted child component as the core sees it: something with a current tree."""

    def __init__(self, tree: Element) -> None:
        self.tree = tree


# ------------------------------------------------------------------------------ exact ops


def test_counter_text_change_is_one_text_op() -> None:
    old, ids = mounted(h.div(h.span("9", id="count"), h.button("+", id="inc")))
    ops, new = diff(old, h.div(h.span("10", id="count"), h.button("+", id="inc")), ids)
    assert ops == [[Op.TEXT, 2, 0, "10"]]
    assert render(new) == (
        '<div data-hid="h1"><span data-hid="h2" id="count">10</span>'
        '<button data-hid="h3" id="inc">+</button></div>'
    )


@pytest.mark.parametrize(
    ("before", "after", "expected"),
    [
        ({"viewbox": "0 0 1 1"}, {"viewbox": "0 0 2 2"}, [[1, 1, "viewBox", "0 0 2 2"]]),
        ({"viewBox": "a"}, {"viewBox": "b"}, [[1, 1, "viewBox", "b"]]),
        ({"strokeWidth": "1"}, {"strokeWidth": "2"}, [[1, 1, "strokewidth", "2"]]),
        ({"viewbox": "a"}, {}, [[2, 1, "viewBox"]]),
        ({"viewbox": "a"}, {"viewBox": "b"}, [[1, 1, "viewBox", "b"]]),  # no REMOVE after
        ({"viewBox": "a"}, {"viewbox": "b"}, [[1, 1, "viewBox", "b"]]),
    ],
)
def test_attribute_ops_name_the_attribute_a_browser_parsed(
    before: dict[str, str], after: dict[str, str], expected: list[list[Any]]
) -> None:
    # The browser's parser lower-cases names and restores SVG's camel case (viewBox);
    # setAttribute on an SVG element keeps the name as sent: "viewbox" would add a second one.
    old, ids = mounted(h.svg(**before))
    ops, new = diff(old, h.svg(**after), ids)
    assert ops == expected
    document = Document.from_html(render(old))
    document.apply(ops)
    assert snapshot(document.root) == snapshot(Document.from_html(render(new)).root)


def test_equal_trees_give_no_ops_and_the_new_tree_carries_the_old_hids() -> None:
    old, ids = mounted(h.div(h.ul([h.li(str(i), key=i) for i in range(3)]), "tail"))
    fresh = h.div(h.ul([h.li(str(i), key=i) for i in range(3)]), "tail")
    ops, new = diff(old, fresh, ids)
    assert ops == []
    assert new is fresh and all_hids(new) == all_hids(old) and ids.last == 5
    assert diff(old, old, ids) == ([], old)


def test_attribute_set_change_and_remove() -> None:
    old, ids = mounted(h.div(class_="a", title="t", hidden=True))
    ops, _ = diff(old, h.div(class_="b", data_x=3, hidden=False), ids)
    assert ops == [
        [Op.SET_ATTR, 1, "class", "b"],
        [Op.SET_ATTR, 1, "data-x", "3"],
        [Op.REMOVE_ATTR, 1, "hidden"],
        [Op.REMOVE_ATTR, 1, "title"],
    ]


# Values Python calls equal that the page shows differently: hidden="0" hides, no hidden
# shows; hidden="1" and a bare hidden and hidden="1.0" are different attribute values.
_EQUAL_IN_PYTHON = [(0, False), (1, True), (1, 1.0), (True, 1.0), (0, 0.0), (False, 0.0)]


@pytest.mark.parametrize(
    ("before", "after"), _EQUAL_IN_PYTHON + [(b, a) for a, b in _EQUAL_IN_PYTHON]
)
@pytest.mark.parametrize("build", ["h", "Element"])
def test_numbers_and_bools_that_python_calls_equal_are_different_attributes(
    before: AttrValue, after: AttrValue, build: str
) -> None:
    def tree(value: AttrValue) -> Element:
        if build == "h":
            return h.div(h.i("x", hidden=value), h.textarea(title=value))
        return Element(
            "div",
            {},
            (Element("i", {"hidden": value}, (Text("x"),)), Element("textarea", {"title": value})),
        )

    old, ids = mounted(tree(before))
    ops, new = diff(old, tree(after), ids)
    assert ops
    assert_patches_to(old, ops, new)


def test_boolean_attribute_set_is_empty_string_on_the_wire() -> None:
    old, ids = mounted(h.button("x"))
    ops, _ = diff(old, h.button("x", disabled=True), ids)
    assert ops == [[Op.SET_ATTR, 1, "disabled", ""]]


def test_dangerous_url_in_set_attr_is_neutralised() -> None:
    old, ids = mounted(h.a("x", href="/a"))
    ops, _ = diff(old, h.a("x", href="JavaScript:alert(1)"), ids)
    assert ops == [[Op.SET_ATTR, 1, "href", "about:invalid#refused"]]


def test_event_attribute_in_new_tree_is_refused() -> None:
    old, ids = mounted(Element("div"))
    with pytest.raises(ValueError, match="refused attribute 'onclick' on <div>"):
        diff(old, Element("div", {"onclick": "x()"}), ids)


def test_form_state_travels_as_set_prop() -> None:
    old, ids = mounted(
        h.form(
            h.input(value="a"),
            h.input(type="checkbox", checked=True),
            h.textarea("old text"),
            h.select(h.option("x", value="x"), h.option("y", value="y", selected=True)),
        )
    )
    new = h.form(
        h.input(value="b"),
        h.input(type="checkbox"),
        h.textarea(value="new text"),
        h.select(h.option("x", value="x", selected=True), h.option("y", value="y")),
    )
    ops, _ = diff(old, new, ids)
    assert ops == [
        [Op.SET_PROP, 2, "value", "b"],
        [Op.SET_PROP, 3, "checked", False],
        [Op.SET_PROP, 4, "value", "new text"],
        [Op.SET_PROP, 6, "selected", True],
        [Op.SET_PROP, 7, "selected", False],
    ]


def test_removed_input_value_sets_the_property_to_empty() -> None:
    old, ids = mounted(h.input(value=5))
    ops, _ = diff(old, h.input(), ids)
    assert ops == [[Op.SET_PROP, 1, "value", ""]]


def test_attribute_backed_input_values_travel_as_attributes() -> None:
    # checkbox/radio/hidden read .value from the attribute (a checkbox without one: "on").
    old, ids = mounted(h.div(h.input(type="checkbox", value="x"), h.input(type="hidden", value=1)))
    new = h.div(h.input(type="checkbox"), h.input(type="hidden", value=2))
    ops, _ = diff(old, new, ids)
    assert ops == [[Op.REMOVE_ATTR, 2, "value"], [Op.SET_ATTR, 3, "value", "2"]]


def test_input_type_change_sends_the_value_attribute_after_the_type() -> None:
    # Leaving value mode, a browser copies the live value into the attribute: always resent.
    old, ids = mounted(h.div(h.input(type="text", value=""), h.input(value="a")))
    new = h.div(h.input(type="checkbox", checked=False), h.input(type="radio", value="a"))
    ops, _ = diff(old, new, ids)
    assert ops == [
        [Op.SET_ATTR, 2, "type", "checkbox"],
        [Op.REMOVE_ATTR, 2, "value"],
        [Op.SET_ATTR, 3, "type", "radio"],
        [Op.SET_ATTR, 3, "value", "a"],
    ]
    assert_patches_to(old, ops, diff(old, new, HidCounter(3))[1])
    back, _ = diff(new, h.div(h.input(type="text"), h.input(value="b")), ids)
    assert back == [  # back to value mode: .value is the attribute again, then the prop
        [Op.SET_ATTR, 2, "type", "text"],
        [Op.REMOVE_ATTR, 3, "type"],
        [Op.SET_PROP, 3, "value", "b"],
    ]


def test_keyed_insert_remove_and_move() -> None:
    old, ids = mounted(h.ul([h.li(k, key=k) for k in "abcd"]))  # li hids: a=2 b=3 c=4 d=5
    ops, new = diff(old, h.ul([h.li(k, key=k) for k in "dbxa"]), ids)
    assert ops == [
        [Op.REMOVE, 1, 2],  # c
        [Op.MOVE, 1, 5, 0],  # d to the front; a, b stay (LIS of [2, 1, 0] ... one kept)
        [Op.MOVE, 1, 3, 1],
        [Op.INSERT, 1, 2, '<li data-hid="h6">x</li>'],
    ]
    assert render(new) == (
        '<ul data-hid="h1"><li data-hid="h5">d</li><li data-hid="h3">b</li>'
        '<li data-hid="h6">x</li><li data-hid="h2">a</li></ul>'
    )
    assert_patches_to(old, ops, new)


def test_keyed_one_move_to_the_end() -> None:
    old, ids = mounted(h.ul([h.li(k, key=k) for k in "abcde"]))
    ops, _ = diff(old, h.ul([h.li(k, key=k) for k in "bcdea"]), ids)
    assert ops == [[Op.MOVE, 1, 2, 4]]


def test_keyed_child_content_changes_follow_the_structure_ops() -> None:
    old, ids = mounted(h.ul([h.li(k, key=k) for k in "ab"]))
    ops, _ = diff(old, h.ul(h.li("B", key="b"), h.li("a", key="a")), ids)
    assert ops == [[Op.MOVE, 1, 3, 0], [Op.TEXT, 3, 0, "B"]]


def test_duplicate_keys_are_matched_by_position_and_noted() -> None:
    old, ids = mounted(h.ul([h.li(t, key=t) for t in ["red", "red", "blue"]]))
    assert ids.duplicate_keys == [("ul", "red")]  # noted at the first render too
    ids.duplicate_keys.clear()
    for after in (["red", "red", "blue", "x"], ["blue", "red", "red"], ["red", "red", "blue"]):
        new = h.ul([h.li(t.upper(), key=t) for t in after])
        ops, new = diff(old, new, ids)
        assert_patches_to(old, ops, new)
        assert ids.duplicate_keys == [("ul", "red")]
        ids.duplicate_keys.clear()
        old = new


def test_unique_keys_after_duplicate_ones_are_matched_by_position() -> None:
    old, ids = mounted(h.ul([h.li(t, key=t) for t in ["a", "a", "b"]]))
    ops, new = diff(old, h.ul([h.li(t, key=t) for t in ["b", "a"]]), ids)
    assert_patches_to(old, ops, new)
    assert ids.duplicate_keys == [("ul", "a")]  # only the first render's


def test_unkeyed_children_append_and_truncate() -> None:
    old, ids = mounted(h.ul(h.li("a"), h.li("b"), h.li("c")))
    ops, new = diff(old, h.ul(h.li("a")), ids)
    assert ops == [[Op.REMOVE, 1, 2], [Op.REMOVE, 1, 1]]
    ops, _ = diff(new, h.ul(h.li("a"), h.li("z")), ids)
    assert ops == [[Op.INSERT, 1, 1, '<li data-hid="h5">z</li>']]


def test_text_to_element_is_remove_plus_insert_and_tag_change_is_replace() -> None:
    old, ids = mounted(h.div("text", h.p("p")))
    ops, _ = diff(old, h.div(h.b("bold"), h.span("p")), ids)
    assert ops == [
        [Op.REMOVE, 1, 0],
        [Op.INSERT, 1, 0, '<b data-hid="h3">bold</b>'],
        [Op.REPLACE, 2, '<span data-hid="h4">p</span>'],
    ]


def test_root_tag_change_replaces_the_root() -> None:
    old, ids = mounted(h.div("a"))
    ops, new = diff(old, h.section("a"), ids)
    assert ops == [[Op.REPLACE, 1, '<section data-hid="h2">a</section>']]
    assert isinstance(new, Element) and new.hid == 2


def test_changed_raw_replaces_its_parent_keeping_the_parent_hid() -> None:
    old, ids = mounted(h.div(h.p(h.raw("<i>x</i>")), h.span("s")))
    ops, _ = diff(old, h.div(h.p(h.raw("<i>y</i>")), h.span("s")), ids)
    assert ops == [[Op.REPLACE, 2, '<p data-hid="h2"><i>y</i></p>']]
    assert diff(old, h.div(h.p(h.raw("<i>x</i>")), h.span("s")), ids)[0] == []


def test_same_slot_instance_is_not_looked_into_and_a_new_one_is_rendered() -> None:
    child, _ = mounted(h.span("child"), start=100)
    ref = _Ref(child)
    old, ids = mounted(h.div(Slot(ref, key="c")))
    ops, new = diff(old, h.div(Slot(ref, key="c")), ids)
    assert ops == []
    assert isinstance(new, Element) and isinstance(new.children[0], Slot)
    other, _ = mounted(h.em("other"), start=200)
    ops, _ = diff(old, h.div(Slot(_Ref(other))), ids)
    # removed by index, not replaced by hid: the old instance may have moved (see below)
    assert ops == [[Op.REMOVE, 1, 0], [Op.INSERT, 1, 0, '<em data-hid="h201">other</em>']]


def test_handlers_of_an_otherwise_equal_subtree_are_the_new_ones() -> None:
    def first() -> None: ...

    def second() -> None: ...

    old, ids = mounted(h.div(h.button("x", on_click=first)))
    ops, new = diff(old, h.div(h.button("x", on_click=second)), ids)
    assert ops == []
    assert isinstance(new, Element)
    button = new.children[0]
    assert isinstance(button, Element) and button.hid == 2
    assert button.events["click"].handler is second


def test_old_tree_without_hids_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="expected an old tree with hids"):
        diff(h.div("a"), h.div("b"), HidCounter())


# ------------------------------------------------------------------------------ LIS


def lis_length_quadratic(values: list[int]) -> int:
    best = [1] * len(values)
    for i in range(len(values)):
        for j in range(i):
            if values[j] < values[i]:
                best[i] = max(best[i], best[j] + 1)
    return max(best, default=0)


@settings(deadline=None)
@given(st.permutations(list(range(12))))
def test_lis_is_increasing_and_longest(values: list[int]) -> None:
    members = longest_increasing_subsequence(values)
    picked = [v for v in values if v in members]
    assert picked == sorted(picked)
    assert len(members) == lis_length_quadratic(values)


# ------------------------------------------------------------------------------ properties


@settings(max_examples=200, deadline=None)
@given(tree_pairs())
def test_applying_the_ops_to_the_old_page_gives_the_new_page(pair: tuple[Element, Element]) -> None:
    a, b = pair
    old, ids = mounted(a)
    max_old = ids.last
    ops, new = diff(old, b, ids)
    assert_patches_to(old, ops, new)
    new_hids = set(all_hids(new)) - set(all_hids(old))
    assert all(hid > max_old for hid in new_hids)
    assert len(all_hids(new)) == len(set(all_hids(new)))


@settings(max_examples=100, deadline=None)
@given(trees())
def test_an_equal_copy_gives_no_ops(tree: Element) -> None:
    old, ids = mounted(tree)
    ops, new = diff(old, rebuild(tree), ids)
    assert ops == []
    assert render(new) == render(old)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 1000), unique=True, max_size=25), st.randoms())
def test_keyed_reorder_uses_exactly_n_minus_lis_moves(keys: list[int], rng: Any) -> None:
    shuffled = list(keys)
    rng.shuffle(shuffled)
    old, ids = mounted(h.ul([h.li(str(k), key=k) for k in keys]))
    ops, new = diff(old, h.ul([h.li(str(k), key=k) for k in shuffled]), ids)
    old_positions = [keys.index(k) for k in shuffled]
    assert [op[0] for op in ops] == [Op.MOVE] * (len(keys) - lis_length_quadratic(old_positions))
    assert_patches_to(old, ops, new)


def test_the_new_tree_is_numbered_in_place_and_the_old_tree_is_left_alone() -> None:
    old, ids = mounted(h.p("a", h.b("b"), "c"))
    before = render(old)
    fresh = h.p("a", h.b("B"), "c", h.i("new"))
    _, new = diff(old, fresh, ids)
    assert new is fresh and all_hids(new) == [1, 2, 3]
    assert render(old) == before


# A module-level constant reused by every render of every session: mounted (numbered in
# place) by the first session that renders it, then never written to again.
SHARED_FOOTER = h.footer(h.a("home", href="/"), h.span("v1"))


def test_a_shared_constant_element_keeps_its_hids_per_session() -> None:
    first, first_ids = mounted(h.div(h.p("one"), SHARED_FOOTER))
    second, second_ids = mounted(h.div(SHARED_FOOTER), start=100)
    assert first.children[1] is SHARED_FOOTER and all_hids(SHARED_FOOTER) == [3, 4, 5]
    assert all_hids(second) == [101, 102, 103, 104]
    # Each session re-renders: the constant is the very old node for session one (kept),
    # a mounted stranger for session two (its copy carries session two's hids: the footer,
    # equal to the last child before, is matched from the end and keeps 102..104).
    ops, first_new = diff(first, h.div(h.p("two"), SHARED_FOOTER), first_ids)
    assert ops == [[Op.TEXT, 2, 0, "two"]] and first_new.children[1] is SHARED_FOOTER
    ops, second_new = diff(second, h.div(h.p("x"), SHARED_FOOTER), second_ids)
    assert ops == [[Op.INSERT, 101, 0, '<p data-hid="h105">x</p>']]
    assert all_hids(second_new) == [101, 105, 102, 103, 104]
    assert all_hids(SHARED_FOOTER) == [3, 4, 5]
    assert render(first_new) == (
        '<div data-hid="h1"><p data-hid="h2">two</p><footer data-hid="h3">'
        '<a data-hid="h4" href="/">home</a><span data-hid="h5">v1</span></footer></div>'
    )


def test_one_element_twice_in_a_tree_gets_two_hids() -> None:
    rule = h.hr()
    tree, ids = mounted(h.div(rule, h.p("x"), rule))
    assert all_hids(tree) == [1, 2, 3, 4]
    assert tree.children[0] is rule and tree.children[2] is not rule
    ops, new = diff(tree, h.div(rule, h.p("y"), rule, rule), ids)
    # the count changed: the last rule is matched from the end, the new one goes before it
    assert ops == [[Op.TEXT, 3, 0, "y"], [Op.INSERT, 1, 2, '<hr data-hid="h5">']]
    assert all_hids(new) == [1, 2, 3, 5, 4] and rule.hid == 2
    assert_patches_to(tree, ops, new)


def test_a_child_coming_or_going_before_unchanged_siblings_does_not_shift_them() -> None:
    # unkeyed children whose count changes: the unchanged end is matched first, so the input
    # after an error message that appears (or a field that goes) keeps its node and hid
    old, ids = mounted(h.form(h.input(id="company"), h.input(id="email"), h.button("Go")))
    bad = h.form(h.p("Bad"), h.input(id="company"), h.input(id="email", class_="x"), h.button("Go"))
    ops, new = diff(old, bad, ids)
    assert ops == [[Op.INSERT, 1, 0, '<p data-hid="h5">Bad</p>'], [Op.SET_ATTR, 3, "class", "x"]]
    assert all_hids(new) == [1, 5, 2, 3, 4]
    assert_patches_to(old, ops, new)
    ops, newer = diff(new, h.form(h.p("Bad"), h.input(id="email"), h.button("Go")), ids)
    assert ops == [[Op.REMOVE, 1, 1], [Op.REMOVE_ATTR, 3, "class"]]
    assert all_hids(newer) == [1, 5, 3, 4]
    assert_patches_to(new, ops, newer)


def test_child_components_swapped_in_an_unkeyed_list_are_not_addressed_by_a_doubled_hid() -> None:
    # A component that moves keeps its hids: replacing the first slot by the second's HTML
    # puts the second's hid on the page twice, so its own old element cannot then be
    # replaced by hid (the browser's map names the copy just inserted). Until 2026-11-26
    # the page ended up showing one component twice and lost the other.
    first, _ = mounted(h.li("first"), start=100)
    second, _ = mounted(h.li("second"), start=200)
    one, two = _Ref(first), _Ref(second)
    old, ids = mounted(h.ul(Slot(one), Slot(two), h.li("end")))
    ops, new = diff(old, h.ul(Slot(two), Slot(one), h.li("end")), ids)
    document = applied(old, ops)
    assert snapshot(document.root) == snapshot(Document.from_html(render(new)).root)
    assert [element.hid for element in document.root.iter()] == [1, 201, 101, 2]


def test_a_template_whose_content_changes_is_replaced_whole() -> None:
    # A browser keeps a template's children in .content, where no index op can reach them.
    old, ids = mounted(h.div(h.template(h.b("x"), "y", id="t")))
    assert (
        render(old)
        == '<div data-hid="h1"><template data-hid="h2" id="t"><b>x</b>y</template></div>'
    )
    ops, new = diff(old, h.div(h.template(h.b("z"), "y", id="t")), ids)
    assert ops == [[7, 2, '<template data-hid="h2" id="t"><b>z</b>y</template>']]
    assert diff(new, h.div(h.template(h.b("z"), "y", id="t")), ids)[0] == []

    class Card:
        pass

    with pytest.raises(TypeError, match="<template> cannot hold component Card"):
        h.template(h(Card))
