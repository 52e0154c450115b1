"""The reference DOM: parsing, every op, exact PatchError messages, selectors, live state."""

from __future__ import annotations

from typing import Any

import pytest

from vango_actors.dom import Document, DomElement, DomText, PatchError, parse, snapshot
from vango_actors.errors import VangoError

PAGE = (
    '<div data-hid="h1" id="app"><span data-hid="h2" id="count">9</span>'
    '<ul data-hid="h3"><li data-hid="h4" class="item done">a</li>'
    '<li data-hid="h5" class="item">b &amp; c</li></ul>'
    '<input data-hid="h6" type="text" value="x"></div>'
)


def page() -> Document:
    return Document.from_html(PAGE)


def test_parse_drops_one_newline_after_pre_textarea_and_listing_like_a_browser() -> None:
    pre, area, div = parse("<pre>\n\nx</pre><textarea>\ny</textarea><div>\nz</div>")
    assert isinstance(pre, DomElement) and pre.text_content == "\nx"
    assert isinstance(area, DomElement) and area.prop("value") == "y"
    assert isinstance(div, DomElement) and div.text_content == "\nz"
    [pre] = parse("<pre><!-- c -->\nx</pre>")
    assert isinstance(pre, DomElement) and pre.text_content == "\nx"
    assert pre.to_html() == "<pre>\n\nx</pre>"


def test_parse_reads_line_breaks_and_nul_as_chromium_does() -> None:
    # Expected values are what Chromium's parser gives for the same markup: the input stream
    # turns \r\n and \r into \n (a &#13; stays \r); a NUL is dropped from HTML text and is
    # U+FFFD in attribute values, RCDATA/RAWTEXT (textarea, title, style) and SVG text.
    div, area, style, svg, table = parse(
        '<div title="x\0y\r\nz\rw&#13;q">a\0b\r\nc\rd&#13;e&#0;f</div>'
        "<textarea>a\0b\r\nc</textarea>"
        "<style>a\0b</style><svg><text>a\0b</text><desc>a\0b</desc></svg>"
        "<table><tr><td>a\0b</td></tr></table>"
    )
    assert isinstance(div, DomElement) and div.text_content == "ab\nc\nd\re\ufffdf"
    assert div.attrs["title"] == "x\ufffdy\nz\nw\rq"
    assert isinstance(area, DomElement) and area.prop("value") == "a\ufffdb\nc"
    assert isinstance(style, DomElement) and style.text_content == "a\ufffdb"
    assert isinstance(svg, DomElement) and [c.text_content for c in svg.children] == [
        "a\ufffdb",
        "ab",
    ]
    assert isinstance(table, DomElement) and table.text_content == "ab"
    document = Document.from_html('<p data-hid="h1">x</p>')
    document.apply([[4, 1, 1, "<b>y\0\r\nz</b>"], [7, 1, '<p data-hid="h1">w\r</p>']])
    assert document.to_html() == '<p data-hid="h1">w\n</p>'
    assert document.by_hid(1).parent is document.root


def test_checkbox_value_mirrors_its_attribute_across_type_changes() -> None:
    document = Document.from_html('<input data-hid="h1" type="text" value="a">')
    box = document.by_hid(1)
    document.apply([[3, 1, "value", "typed"], [1, 1, "type", "checkbox"]])
    assert box.attrs["value"] == "typed" and box.prop("value") == "typed"
    document.apply([[2, 1, "value"]])
    assert box.prop("value") == "on"
    document.apply([[3, 1, "value", "v"]])  # .value writes the attribute in this mode
    assert box.attrs["value"] == "v"
    document.apply([[2, 1, "type"]])  # back to text: the live value is the attribute again
    assert box.prop("value") == "v" and "value" not in box.props


def test_parse_builds_elements_text_and_void_elements() -> None:
    [div] = parse('<div a="1" b><br><p>x &lt; y</p>tail</div>')
    assert isinstance(div, DomElement)
    assert div.attrs == {"a": "1", "b": ""}
    br, p, tail = div.children
    assert isinstance(br, DomElement) and br.tag == "br" and br.children == []
    assert isinstance(p, DomElement) and p.text_content == "x < y"
    assert isinstance(tail, DomText) and tail.text == "tail" and tail.parent is div


def test_parse_keeps_script_text_verbatim() -> None:
    [script] = parse("<script>if (a < b && c) {}</script>")
    assert isinstance(script, DomElement)
    assert script.text_content == "if (a < b && c) {}"
    assert script.to_html() == "<script>if (a < b && c) {}</script>"


def test_parse_gives_svg_and_mathml_their_namespace_and_case_like_a_browser() -> None:
    [div] = parse(
        '<div><svg viewbox="0 0 1 1"><clippath id="c"><rect/></clippath>'
        "<foreignobject><p>x</p></foreignobject><g><div>out</div></g></svg>"
        '<math definitionurl="u"><mi><b>x</b></mi><mo>+</mo></math></div>'
    )
    assert isinstance(div, DomElement)
    svg, out, math = div.children
    assert isinstance(svg, DomElement) and isinstance(out, DomElement)
    assert isinstance(math, DomElement)
    assert (svg.namespace, svg.attrs) == ("svg", {"viewBox": "0 0 1 1"})
    clip, foreign, g = svg.children
    assert isinstance(clip, DomElement) and isinstance(foreign, DomElement)
    assert (clip.tag, clip.namespace, clip.attrs) == ("clipPath", "svg", {"id": "c"})
    assert [(c.tag, c.namespace) for c in clip.iter()] == [("rect", "svg")]  # "/>" closed it
    assert [(c.tag, c.namespace) for c in foreign.iter()] == [("p", "html")]
    assert g.children == [] and (out.tag, out.namespace) == ("div", "html")  # broke out
    assert (math.namespace, math.attrs) == ("math", {"definitionURL": "u"})
    assert [(c.tag, c.namespace) for c in math.iter()] == [
        ("mi", "math"),
        ("b", "html"),
        ("mo", "math"),
    ]


def test_ops_inside_svg_keep_names_in_the_case_a_browser_does() -> None:
    doc = Document.from_html('<svg data-hid="h1" viewBox="0 0 1 1"><g data-hid="h2"></g></svg>')
    doc.apply([[4, 2, 0, '<lineargradient data-hid="h3" gradientunits="a"></lineargradient>']])
    gradient = doc.by_hid(3)
    assert (gradient.tag, gradient.namespace, gradient.attrs) == (
        "linearGradient",
        "svg",
        {"data-hid": "h3", "gradientUnits": "a"},
    )
    # setAttribute keeps an SVG element's name as given, lower-cases an HTML element's.
    doc.apply([[1, 1, "viewBox", "0 0 2 2"], [1, 1, "viewbox", "x"], [1, 0, "dataFoo", "1"]])
    assert doc.by_hid(1).attrs == {"data-hid": "h1", "viewBox": "0 0 2 2", "viewbox": "x"}
    assert doc.root.attrs["datafoo"] == "1"
    doc.apply([[2, 1, "viewBox"], [7, 2, '<foreignobject data-hid="h4"><p>x</p></foreignobject>']])
    assert doc.by_hid(1).attrs == {"data-hid": "h1", "viewbox": "x"}
    assert doc.by_hid(4).tag == "foreignObject" and doc.to_html().count("<p>x</p>") == 1


def test_document_indexes_elements_by_hid() -> None:
    document = page()
    assert document.by_hid(2).text_content == "9"
    assert document.hids() == {0, 1, 2, 3, 4, 5, 6}
    with pytest.raises(PatchError) as error:
        document.by_hid(99)
    assert str(error.value) == "no element with hid 99 on the page"
    assert isinstance(error.value, VangoError)


def test_text_op() -> None:
    document = page()
    document.apply([[0, 2, 0, "10"]])
    assert document.by_hid(2).to_html() == '<span data-hid="h2" id="count">10</span>'


def test_attribute_ops() -> None:
    document = page()
    document.apply([[1, 4, "class", "item"], [1, 4, "title", 'a"b'], [2, 2, "id"]])
    assert document.by_hid(4).to_html() == '<li data-hid="h4" class="item" title="a&quot;b">a</li>'
    assert document.by_hid(2).attrs == {"data-hid": "h2"}


def test_set_prop_changes_live_state_not_markup() -> None:
    document = Document.from_html(
        '<input data-hid="h1" value="a"><input data-hid="h2" type="checkbox" checked>'
        '<textarea data-hid="h3">old</textarea>'
    )
    document.apply([[3, 1, "value", "b"], [3, 2, "checked", False], [3, 3, "value", "new"]])
    first, second, area = (document.by_hid(hid) for hid in (1, 2, 3))
    assert (first.attrs["value"], first.prop("value")) == ("a", "b")
    assert (second.prop("checked"), "checked" in second.attrs) == (False, True)
    assert area.prop("value") == "new"
    assert document.to_html() == (
        '<input data-hid="h1" value="b"><input data-hid="h2" type="checkbox">'
        '<textarea data-hid="h3">new</textarea>'
    )


def test_insert_remove_and_move() -> None:
    document = page()
    document.apply(
        [
            [4, 3, 2, '<li data-hid="h7">new</li>'],
            [6, 3, 7, 0],
            [5, 3, 1],
        ]
    )
    assert [li.text_content for li in document.select("ul li")] == ["new", "b & c"]
    assert 4 not in document
    assert document.by_hid(7).parent is document.by_hid(3)


def test_an_insert_may_carry_hids_that_a_later_op_of_the_frame_removes() -> None:
    # a keyed child moved to an earlier parent: INSERT with its hids, then REMOVE the old
    # place; the inserted nodes are the ones those hids address, as in the browser
    document = page()
    document.apply([[4, 3, 0, '<li data-hid="h4">moved</li>'], [1, 4, "class", "x"], [5, 3, 1]])
    assert [li.text_content for li in document.select("ul li")] == ["moved", "b & c"]
    assert document.by_hid(4).attrs["class"] == "x"
    with pytest.raises(PatchError, match="hid 4 is already on the page"):
        Document.from_html('<p data-hid="h4"></p><p data-hid="h4"></p>')


def test_insert_text_node() -> None:
    document = page()
    document.apply([[4, 2, 1, " items &amp; more"]])
    assert document.by_hid(2).text_content == "9 items & more"


def test_replace_element_and_reindex_its_subtree() -> None:
    document = page()
    document.apply([[7, 3, '<ol data-hid="h8"><li data-hid="h9">z</li></ol>']])
    assert {3, 4, 5} & document.hids() == set()
    assert document.by_hid(9).text_content == "z"
    assert document.by_hid(8).parent is document.by_hid(1)


def test_replace_hid_zero_replaces_the_root_container_contents() -> None:
    document = page()
    document.apply([[7, 0, '<main data-hid="h20">fresh</main>']])
    assert document.to_html() == '<main data-hid="h20">fresh</main>'
    assert document.hids() == {0, 20}


def test_page_level_ops() -> None:
    document = page()
    document.apply([[8, "/a", False], [8, "/b", False], [8, "/c", True], [9, "Title"], [10, 6]])
    assert (document.url, document.history) == ("/c", ["/a"])
    assert (document.title, document.focused) == ("Title", 6)


@pytest.mark.parametrize(
    ("op", "message"),
    [
        ([0, 99, 0, "x"], "op #0 [0, 99, 0, 'x']: no element with hid 99 on the page"),
        ([0, 2, 1, "x"], "op #0 [0, 2, 1, 'x']: index 1 out of range for hid 2 with 1 children"),
        ([0, 3, 0, "x"], "op #0 [0, 3, 0, 'x']: child 0 of hid 3 is <li>, not a text node"),
        (
            [4, 3, 3, "<li></li>"],
            "op #0 [4, 3, 3, '<li></li>']: index 3 out of range for hid 3 with 2 children",
        ),
        ([5, 3, -1], "op #0 [5, 3, -1]: index -1 out of range for hid 3 with 2 children"),
        ([6, 3, 2, 0], "op #0 [6, 3, 2, 0]: hid 2 is not a child of hid 3"),
        ([6, 3, 4, 2], "op #0 [6, 3, 4, 2]: index 2 out of range for hid 3 with 1 other children"),
        (
            [3, 2, "value", "x"],
            "op #0 [3, 2, 'value', 'x']: SET_PROP on <span>: "
            "expected one of ['input', 'option', 'select', 'textarea']",
        ),
        (
            [3, 6, "checked", "yes"],
            "op #0 [3, 6, 'checked', 'yes']: property 'checked' takes bool, got str",
        ),
        (
            [3, 6, "size", "x"],
            "op #0 [3, 6, 'size', 'x']: unknown property 'size': "
            "expected one of ('value', 'checked', 'selected')",
        ),
        (
            [1, 2, "data-hid", "h9"],
            "op #0 [1, 2, 'data-hid', 'h9']: data-hid cannot be changed by SET_ATTR",
        ),
        (
            [4, 3, 0, '<li data-hid="h2"></li>'],  # and the old hid 2 is not removed
            "hid 2 is on the page twice after the frame",
        ),
        ([42], "op #0 [42]: unknown opcode 42: expected 0..13"),
        ([0, 2, 0], "op #0 [0, 2, 0]: expected 4 items, got 3"),
        ([0, "2", 0, "x"], "op #0 [0, '2', 0, 'x']: item 1: expected int, got str"),
        ([5, True, 0], "op #0 [5, True, 0]: item 1: expected int, got bool"),
        ("nope", "op #0 'nope': expected a list [opcode, ...] with an int opcode"),
    ],
)
def test_bad_ops_raise_patch_error_naming_the_op(op: Any, message: str) -> None:
    with pytest.raises(PatchError) as error:
        page().apply([op])
    assert str(error.value) == message


def test_failing_op_reports_its_position_and_earlier_ops_stay_applied() -> None:
    document = page()
    with pytest.raises(PatchError, match=r"^op #1 \[0, 77, 0, 'x'\]: no element with hid 77"):
        document.apply([[0, 2, 0, "10"], [0, 77, 0, "x"]])
    assert document.by_hid(2).text_content == "10"


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ("#count", ["h2"]),
        ("li", ["h4", "h5"]),
        (".item", ["h4", "h5"]),
        ("li.done", ["h4"]),
        (".item.done", ["h4"]),
        ("[type=text]", ["h6"]),
        ('[type="text"]', ["h6"]),
        ("[value]", ["h6"]),
        ("#app ul .done", ["h4"]),
        ("#app li", ["h4", "h5"]),
        ("span li", []),
        ("*", ["h1", "h2", "h3", "h4", "h5", "h6"]),
    ],
)
def test_select(selector: str, expected: list[str]) -> None:
    assert [el.attrs["data-hid"] for el in page().select(selector)] == expected


def test_unsupported_selector_is_a_clear_error() -> None:
    with pytest.raises(ValueError) as error:
        page().select("ul > li")
    assert str(error.value) == (
        "unsupported selector 'ul > li' at '>': supported are tag, #id, .class, [attr], "
        "[attr=value] and the descendant combinator (space)"
    )


def test_snapshot_compares_live_state() -> None:
    typed = Document.from_html('<input data-hid="h1" value="a">')
    typed.apply([[3, 1, "value", "b"]])
    rendered = Document.from_html('<input data-hid="h1" value="b">')
    assert snapshot(typed.root) == snapshot(rendered.root)
    assert snapshot(typed.root) != snapshot(Document.from_html('<input data-hid="h1">').root)


def test_a_number_range_or_colour_value_is_the_one_a_browser_holds() -> None:
    html = (
        '<input type="range" id="a"><input type="range" min="10" max="21" id="b">'
        '<input type="range" value="150" id="c"><input type="range" value="7.5" id="d">'
        '<input type="color" id="e"><input type="color" value="#ABCDEF" id="f">'
        '<input type="number" value="many" id="g"><input type="number" value="-1e3" id="h">'
        '<input value=" kept " id="i">'
    )
    doc = Document.from_html(html)
    values = [doc.select(f"#{name}")[0].prop("value") for name in "abcdefghi"]
    assert values == ["50", "16", "100", "7.5", "#000000", "#abcdef", "", "-1e3", " kept "]


def test_a_text_field_holds_no_line_breaks_as_in_a_browser() -> None:
    # A browser strips line breaks from a one-line field's value (and trims a url's): the
    # reference said "\n" where Chromium shows "" (until 2026-11-26).
    document = Document.from_html(
        '<input data-hid="h1" type="text" value="a&#10;b"><input data-hid="h2" type="url">'
    )
    assert document.by_hid(1).prop("value") == "ab"
    document.apply([[3, 1, "value", "\n"], [3, 2, "value", " /x\r\n "]])
    assert document.by_hid(1).prop("value") == ""
    assert document.by_hid(2).prop("value") == "/x"
