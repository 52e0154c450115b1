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
    assert dict(el.attrs) == {"class": "big", "for": "email", "data-row-id": 3, "aria-label": "L"}


def test_event_bindings_stay_on_server_and_list_types() -> None:
    el = h.input(on_input=h.debounce(300, handler), on_keydown=h.on_keys(["Enter"], handler))
    assert dict(el.attrs) == {
        "data-on": "input keydown",
        "data-debounce": 300,
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
    code, cells = vdom.make_text.__code__, vdom.make_text.__closure__  # type: ignore[attr-defined]
    texts = dict(zip(code.co_freevars, cells, strict=True))["texts"].cell_contents
    assert isinstance(texts, dict) and 0 < len(texts) <= vdom._SHARED_TEXTS


def test_one_plain_handler_and_mixed_bindings_write_the_same_attributes() -> None:
    plain = h.button("+", id="inc", on_click=handler)
    assert dict(plain.attrs) == {"id": "inc", "data-on": "click"}
    mixed = h.input(on_click=handler, on_input=h.debounce(5, handler), on_change=None)
    assert dict(mixed.attrs) == {"data-on": "click input", "data-debounce": 5}
    assert list(mixed.events) == ["click", "input"]
    options_first = h.input(on_keyup=h.on_keys(["Enter"], handler), title="t")
    assert dict(options_first.attrs) == {"title": "t", "data-on": "keyup", "data-keys": "Enter"}
