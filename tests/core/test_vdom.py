"""The `h` builder: children normalisation, attributes, event bindings, components."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vango_actors import vdom
from vango_actors.vdom import Binding, ComponentNode, Element, Raw, Text, children_of, h


def handler() -> None:
    pass


def test_builder_normalises_children() -> None:
    el = h.p("a", "b", None, False, True, "", 3, [h.br(), ["c", "d"]], h.text("e"))
    assert el.children == (Text("ab3"), Element("br"), Text("cde"))


def test_attribute_names_are_pythonic() -> None:
    el = h.label("x", class_="big", for_="email", data_row_id=3, aria_label="L")
    assert dict(el.attrs) == {"class": "big", "for": "email", "data-row-id": "3", "aria-label": "L"}


def test_event_bindings_stay_on_server_and_list_types() -> None:
    el = h.input(on_input=h.debounce(300, handler), on_keydown=h.on_keys(["Enter"], handler))
    assert dict(el.attrs) == {
        "data-on": "input keydown",
        "data-debounce": "300",
        "data-keys": "Enter",
    }
    assert el.events["input"] == Binding(handler, debounce=300)
    assert not any(name.startswith("on") for name in el.attrs)


def test_unknown_event_is_refused() -> None:
    with pytest.raises(ValueError, match=r"^unknown event 'hover' in on_hover=: expected one of"):
        h.div(on_hover=handler)


def test_invalid_tag_is_refused() -> None:
    with pytest.raises(ValueError, match=r"^invalid tag name 'a b'"):
        h("a b")


def test_raw_must_be_the_only_child() -> None:
    assert h.div(h.raw("<b>x</b>")).children == (Raw("<b>x</b>"),)
    with pytest.raises(ValueError, match=r"^<div>: a Raw node must be the only child"):
        h.div("text", h.raw("<b>x</b>"))


def test_component_placeholder_and_key() -> None:
    class Row:
        pass

    node = h(Row, key=7, label="x")
    assert node == ComponentNode(Row, {"label": "x"}, 7)
    assert h.li("x", key="k").key == "k"
    with pytest.raises(TypeError, match="pass component inputs as keyword props"):
        h(Row, "child")


def test_hid_is_not_part_of_equality() -> None:
    assert Element("p", hid=1) == Element("p", hid=2)


def test_bad_child_type_names_it() -> None:
    with pytest.raises(TypeError, match=r"^cannot use object as a child node"):
        h.div(object())


_MIXED = st.lists(
    st.one_of(
        st.sampled_from(["", " ", "a", "bc"]),
        st.integers(-3, 300),
        st.floats(allow_nan=False, allow_infinity=False),
        st.sampled_from(["b", "i"]).map(lambda tag: h(tag, "x")),
    ),
    max_size=6,
)


@given(_MIXED)
def test_mixed_children_fast_path_matches_the_general_one(kids: list[object]) -> None:
    # h.p(a, " ", b) takes a fast path for nodes, strings and numbers; children_of is the
    # general normaliser (flatten, drop empty text, merge adjacent text)
    built = h.p(*kids)
    assert built.children == children_of(*kids)
    assert all(type(c) is not Text or c.text for c in built.children)


def test_short_texts_are_shared_long_ones_are_not() -> None:
    first, second = h.p("shared label"), h.p("shared label")
    assert first.children[0] is second.children[0]  # one immutable node: the diff skips it
    long = "x" * (vdom._SHARED_TEXT_CHARS + 1)
    assert h.p(long).children[0] is not h.p(long).children[0]
    assert h.p(long).children == (Text(long),)


def test_the_shared_text_cache_is_bounded() -> None:
    for n in range(vdom._SHARED_TEXTS * 2 + 3):
        assert vdom.make_text(f"t{n}") == Text(f"t{n}")
    texts = vdom._shared_texts
    assert isinstance(texts, dict) and 0 < len(texts) <= vdom._SHARED_TEXTS


def test_one_plain_handler_and_mixed_bindings_write_the_same_attributes() -> None:
    plain = h.button("+", id="inc", on_click=handler)
    assert dict(plain.attrs) == {"id": "inc", "data-on": "click"}
    mixed = h.input(on_click=handler, on_input=h.debounce(5, handler), on_change=None)
    assert dict(mixed.attrs) == {"data-on": "click input", "data-debounce": "5"}
    assert list(mixed.events) == ["click", "input"]
    options_first = h.input(on_keyup=h.on_keys(["Enter"], handler), title="t")
    assert dict(options_first.attrs) == {"title": "t", "data-on": "keyup", "data-keys": "Enter"}


# ------------------------------------------------------------------------------ render memo


class _Owner:
    def one(self) -> None:
        pass

    def two(self) -> None:
        pass


def _twice(first: object, second: object, make: object) -> tuple[Element, Element]:
    """``make(first)`` then ``make(second)``, each as a render, the second with the first's memo."""
    assert callable(make)
    a, memo = vdom.memoised(lambda: make(first), None)
    b, _ = vdom.memoised(lambda: make(second), memo)
    return a, b


def test_a_leaf_built_with_the_same_arguments_is_the_same_element() -> None:
    owner = _Owner()

    def page(label: str) -> Element:
        return h.div(
            h.button("+", id="inc", disabled=False, tabindex=0, on_click=owner.one),
            h.a(label, href="/", on_click=handler),
            h.hr(),
        )

    a, b = _twice("x", "x", page)
    assert a is not b  # not a leaf: built anew
    assert all(x is y for x, y in zip(a.children, b.children, strict=True))
    a, b = _twice("x", "y", page)
    assert a.children[0] is b.children[0] and a.children[2] is b.children[2]
    assert a.children[1] is not b.children[1] and b.children[1].children == (Text("y"),)


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ({"hidden": 1}, {"hidden": True}),
        ({"hidden": True}, {"hidden": 1}),
        ({"hidden": 0}, {"hidden": False}),
        ({"hidden": False}, {"hidden": 0}),
        ({"hidden": True, "tabindex": 1}, {"tabindex": True, "hidden": 1}),
        ({"hidden": True}, {"hidden": "1"}),
        ({"hidden": 1}, {"hidden": 1.0}),
        ({"hidden": None}, {"hidden": False}),
        ({"title": "a"}, {"title": "b"}),
        ({"title": "a"}, {"id": "a"}),
        ({}, {"title": "a"}),
        ({"on_click": _Owner.one}, {"on_click": _Owner.two}),
    ],
)
def test_arguments_python_calls_equal_but_that_differ_give_another_element(
    first: dict[str, object], second: dict[str, object]
) -> None:
    a, b = _twice(first, second, lambda props: h.i("x", **props))
    assert a is not b
    assert a == h.i("x", **first) and b == h.i("x", **second)


def test_handlers_of_another_instance_give_another_element() -> None:
    one, other = _Owner(), _Owner()
    a, b = _twice(one, other, lambda owner: h.button("+", on_click=owner.one))
    assert a is not b
    assert b.events["click"].handler == other.one


def test_only_exact_arguments_are_memoised() -> None:
    # a float, a list, a Binding, a lambda, an int or element child: built anew every time
    for make in (
        lambda: h.i("x", data_v=0.5),
        lambda: h.i("x", class_=["a"]),
        lambda: h.i("x", on_click=h.debounce(5, handler)),
        lambda: h.i("x", on_click=lambda: None),
        lambda: h.i(3),
        lambda: h.i(h.b("x")),
    ):
        a, b = _twice(make, make, lambda build: build())
        assert a is not b and a == b


def test_a_leaf_shown_or_hidden_shifts_the_places_for_one_render() -> None:
    def page(flag: bool) -> Element:
        return h.div(h.i("flag") if flag else None, h.b("x"), h.u("y"))

    first, memo = vdom.memoised(lambda: page(False), None)
    shifted, memo = vdom.memoised(lambda: page(True), memo)
    again, _ = vdom.memoised(lambda: page(True), memo)
    assert shifted == again == page(True) and first == page(False)
    assert not any(x is y for x, y in zip(first.children, shifted.children[1:], strict=True))
    assert all(x is y for x, y in zip(shifted.children, again.children, strict=True))


def test_every_way_of_building_a_leaf_is_memoised() -> None:
    a, b = _twice(None, None, lambda _: h.div(h("my-tag", "x", id="a"), vdom.element("i", "y")))
    assert all(x is y for x, y in zip(a.children, b.children, strict=True))


def test_outside_a_memoised_render_nothing_is_reused() -> None:
    _, memo = vdom.memoised(lambda: h.i("x"), None)
    assert h.i("x") is not h.i("x")
    with pytest.raises(ZeroDivisionError):
        vdom.memoised(lambda: 1 / 0, memo)
    assert h.i("x") is not h.i("x")  # the failed render left no memo in place
    inner: list[Element] = []

    def outer() -> Element:
        first = h.i("x")
        inner.append(vdom.memoised(lambda: h.i("x"), None)[0])
        return h.b(first, h.u("y"))  # the outer memo again after the nested render

    a, memo = vdom.memoised(outer, None)
    b, _ = vdom.memoised(outer, memo)
    assert all(x is y for x, y in zip(a.children, b.children, strict=True))
    assert inner[0] is not inner[1]  # the nested render had no memo of its own


def test_a_render_memoises_at_most_memo_limit_leaves() -> None:
    def table() -> Element:
        return h.ul([h.li(str(n)) for n in range(vdom.MEMO_LIMIT + 50)])

    a, memo = vdom.memoised(table, None)
    b, _ = vdom.memoised(table, memo)
    assert len(memo) == vdom.MEMO_LIMIT
    same = [x is y for x, y in zip(a.children, b.children, strict=True)]
    assert same == [True] * vdom.MEMO_LIMIT + [False] * 50
    assert a == b
