"""html.render: exact output for hostile inputs, void and boolean attributes, Raw, hids."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.core.strategies import TEXT_ALPHABET
from vango_actors.commands import JS
from vango_actors.dom import Document, DomElement, parse
from vango_actors.html import attr_value, render
from vango_actors.vdom import ComponentNode, Element, Raw, Slot, Text, h


@pytest.mark.parametrize(
    ("tree", "expected"),
    [
        (h.p("<script>alert(1)</script>"), "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>"),
        (h.p("a & b > c"), "<p>a &amp; b &gt; c</p>"),
        (h.p("&amp; stays text"), "<p>&amp;amp; stays text</p>"),
        (h.div(title='"><img src=x>'), '<div title="&quot;&gt;&lt;img src=x&gt;"></div>'),
        (h.div(title="it's"), '<div title="it\'s"></div>'),
        (h.div(data_x="a&b"), '<div data-x="a&amp;b"></div>'),
        (h.a("x", href="javascript:alert(1)"), '<a href="about:invalid#refused">x</a>'),
        (h.a("x", href="JaVaScRiPt:alert(1)"), '<a href="about:invalid#refused">x</a>'),
        (h.a("x", href="&#106;avascript:alert(1)"), '<a href="about:invalid#refused">x</a>'),
        (h.a("x", href="java&#x09;script:alert(1)"), '<a href="about:invalid#refused">x</a>'),
        (h.a("x", href="javascript&colon;alert(1)"), '<a href="about:invalid#refused">x</a>'),
        (h.a("x", href=" \t\njava\nscript:alert(1)"), '<a href="about:invalid#refused">x</a>'),
        (h.a("x", href="\x01javascript:alert(1)"), '<a href="about:invalid#refused">x</a>'),
        (h.a("x", href="vbscript:msgbox(1)"), '<a href="about:invalid#refused">x</a>'),
        (h.a("x", href="VBScript:msgbox(1)"), '<a href="about:invalid#refused">x</a>'),
        (
            h.a("x", href="data:text/html,<script>1</script>"),
            '<a href="about:invalid#refused">x</a>',
        ),
        (h.a("x", href="data:image/png;base64,AA"), '<a href="about:invalid#refused">x</a>'),
        (h.form(action="javascript:x()"), '<form action="about:invalid#refused"></form>'),
        (
            h.button(formaction="data:text/html,x"),
            '<button formaction="about:invalid#refused"></button>',
        ),
        (h.iframe(src="javascript:x()"), '<iframe src="about:invalid#refused"></iframe>'),
        (h.iframe(src="data:text/html,x"), '<iframe src="about:invalid#refused"></iframe>'),
        (h.object(data="data:text/html,x"), '<object data="about:invalid#refused"></object>'),
        (h.img(src="data:image/png;base64,AA"), '<img src="data:image/png;base64,AA">'),
        (
            h.a("x", href="https://example.com/?a=1&b=2"),
            '<a href="https://example.com/?a=1&amp;b=2">x</a>',
        ),
        (h.a("x", href="/path:with:colons"), '<a href="/path:with:colons">x</a>'),
        (h.a("x", href="mailto:a@b.c"), '<a href="mailto:a@b.c">x</a>'),
        (h.a("x", title="javascript:ok-in-title"), '<a title="javascript:ok-in-title">x</a>'),
        # attribute names are case-insensitive: h.a(**user_dict) with "HREF" is an href
        (h.a("x", HREF="javascript:x()"), '<a HREF="about:invalid#refused">x</a>'),
        (h.a("x", Href="vbscript:x()"), '<a Href="about:invalid#refused">x</a>'),
        (h.form(ACTION="javascript:x()"), '<form ACTION="about:invalid#refused"></form>'),
        (h.iframe(SRC="data:text/html,x"), '<iframe SRC="about:invalid#refused"></iframe>'),
        (h.img(SRC="data:image/png;base64,AA"), '<img SRC="data:image/png;base64,AA">'),
        (
            Element("a", {"xlink:HREF": "javascript:x()"}),
            '<a xlink:HREF="about:invalid#refused"></a>',
        ),
        # an SVG animation can put a URL into an href: <set attributeName="href" to=...>
        (
            h("set", attributeName="href", to="javascript:alert(1)"),
            '<set attributeName="href" to="about:invalid#refused"></set>',
        ),
        (
            h("animate", FROM="&#106;avascript:x()"),
            '<animate FROM="about:invalid#refused"></animate>',
        ),
        (
            h("animate", values="#a;javascript:alert(1)"),
            '<animate values="about:invalid#refused"></animate>',
        ),
        (h("animate", values="0;10;0", by="5"), '<animate values="0;10;0" by="5"></animate>'),
        (h("set", attributeName="fill", to="red"), '<set attributeName="fill" to="red"></set>'),
    ],
)
def test_hostile_text_and_attributes_are_neutralised(tree: Element, expected: str) -> None:
    assert render(tree) == expected


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("a b", "invalid attribute name 'a b' on <div>: expected a name matching "),
        ("a=b", "invalid attribute name 'a=b' on <div>: expected a name matching "),
        ('a"', "invalid attribute name 'a\"' on <div>: expected a name matching "),
        ("a'", 'invalid attribute name "a\'" on <div>: expected a name matching '),
        ("a>", "invalid attribute name 'a>' on <div>: expected a name matching "),
        ("a/b", "invalid attribute name 'a/b' on <div>: expected a name matching "),
        ("", "invalid attribute name '' on <div>: expected a name matching "),
        ("onclick", "refused attribute 'onclick' on <div>: event handlers are bound with "),
        ("ONload", "refused attribute 'ONload' on <div>: event handlers are bound with "),
        ("srcdoc", "refused attribute 'srcdoc' on <div>: its value would be parsed as HTML"),
        ("data-hid", "refused attribute 'data-hid' on <div>: data-hid is reserved"),
    ],
)
def test_bad_attribute_names_are_refused(name: str, message: str) -> None:
    with pytest.raises(ValueError) as error:
        render(Element("div", {name: "x"}))
    assert str(error.value).startswith(message)


def test_attribute_name_error_message_in_full() -> None:
    with pytest.raises(ValueError) as error:
        render(Element("div", {"onclick": "x()"}))
    assert str(error.value) == (
        "refused attribute 'onclick' on <div>: event handlers are bound with on_<event>= and "
        "never rendered as on* attributes"
    )
    with pytest.raises(ValueError) as error:
        render(Element("div", {"a b": "x"}))
    assert str(error.value) == (
        "invalid attribute name 'a b' on <div>: expected a name matching "
        "^[a-zA-Z_:][-a-zA-Z0-9_:.]*$"
    )


def test_refused_name_is_refused_even_with_a_false_value() -> None:
    with pytest.raises(ValueError, match="refused attribute 'onclick'"):
        render(Element("div", {"onclick": None}))


def test_invalid_tag_is_refused() -> None:
    with pytest.raises(ValueError) as error:
        render(Element("a><script"))
    assert str(error.value) == "invalid tag name 'a><script': expected letters, digits and '-'"


def test_bound_handlers_render_as_data_on_never_as_code() -> None:
    assert render(h.button("+", on_click=lambda: None)) == '<button data-on="click">+</button>'


def test_void_elements_have_no_end_tag_and_no_children() -> None:
    assert render(h.div(h.br(), h.img(src="/a.png", alt=""), h.input(type="text"))) == (
        '<div><br><img src="/a.png" alt=""><input type="text"></div>'
    )
    with pytest.raises(ValueError) as error:
        render(Element("br", {}, (Text("x"),)))
    assert str(error.value) == "<br> is a void element and cannot have children (got 1)"


def test_boolean_and_number_attributes() -> None:
    tree = h.input(type="checkbox", checked=True, disabled=False, required=None, tabindex=3)
    assert render(tree) == '<input type="checkbox" checked tabindex="3">'
    assert render(h.meter(value=0.5, max=1)) == '<meter value="0.5" max="1"></meter>'
    assert render(h.div(title="")) == '<div title=""></div>'


def test_unsupported_attribute_value_type_is_a_type_error() -> None:
    with pytest.raises(TypeError) as error:
        render(Element("div", {"title": ["a"]}))  # type: ignore[dict-item]
    assert str(error.value) == (
        "attribute 'title' on <div>: expected str, int, float, bool or None, got list"
    )


def test_hids_render_first_as_data_hid() -> None:
    tree = Element("p", {"class": "x"}, (Element("b", {}, (Text("y"),), hid=8),), hid=7)
    assert render(tree) == '<p data-hid="h7" class="x"><b data-hid="h8">y</b></p>'


def test_a_leading_newline_in_textarea_and_pre_is_doubled() -> None:
    # An HTML parser drops one newline right after <textarea>/<pre>/<listing>.
    assert render(h.textarea("\nx")) == "<textarea>\n\nx</textarea>"
    assert render(h.textarea(value="\n")) == "<textarea>\n\n</textarea>"
    assert render(h.pre("\n<a>", h.b("x"), id="p")) == '<pre id="p">\n\n&lt;a&gt;<b>x</b></pre>'
    assert render(h.pre(h.b("\nx"))) == "<pre><b>\nx</b></pre>"
    assert render(h.pre("x\n")) == "<pre>x\n</pre>"


def test_textarea_value_is_its_escaped_text() -> None:
    assert render(h.textarea(value="</textarea><b>")) == (
        "<textarea>&lt;/textarea&gt;&lt;b&gt;</textarea>"
    )
    assert render(h.textarea("a<b")) == "<textarea>a&lt;b</textarea>"
    with pytest.raises(ValueError, match=r"^<textarea> takes its text from value= or from"):
        render(h.textarea("x", value="y"))
    with pytest.raises(ValueError, match=r"^<textarea> takes text only, got Element$"):
        render(h.textarea(h.b("x")))


def test_script_and_style_text_is_verbatim_but_cannot_break_out() -> None:
    assert render(h.script("if (a < b && c > d) {}")) == "<script>if (a < b && c > d) {}</script>"
    assert render(h.style("a > b { color: red }")) == "<style>a > b { color: red }</style>"
    with pytest.raises(ValueError) as error:
        render(h.script("x = '</script><img src=x onerror=alert(1)>'"))
    assert str(error.value).startswith(
        "text inside <script> must not contain '</' or '<!--' (it could end the element early)"
    )
    with pytest.raises(ValueError, match=r"^text inside <style> must not contain"):
        render(h.style("</STYLE>"))
    with pytest.raises(ValueError, match=r"^text inside <script> must not contain"):
        render(h.script("<!-- <script>"))


@pytest.mark.parametrize("wrapper", [h.svg, h.math, h.div])
@pytest.mark.parametrize("tag", [h.style, h.script])
def test_script_and_style_text_cannot_open_a_tag_in_svg_or_math(wrapper: Any, tag: Any) -> None:
    # inside <svg>/<math> style and script are foreign elements: their text is parsed as
    # markup, and an <img> there is an HTML element again (Chromium runs its onerror)
    with pytest.raises(ValueError) as error:
        render(wrapper(tag("<img src=x onerror=alert(1)>")))
    assert "must not contain '<' before a letter" in str(error.value)
    assert render(wrapper(tag("a<1 || b < c"))).count("a<1 || b < c") == 1


def test_raw_is_verbatim_and_only_through_the_marker() -> None:
    assert render(h.div(h.raw("<b>trusted</b>"))) == "<div><b>trusted</b></div>"
    assert render(h.script(h.raw("x = '</b>'"))) == "<script>x = '</b>'</script>"
    assert render(h.div("<b>not trusted</b>")) == "<div>&lt;b&gt;not trusted&lt;/b&gt;</div>"
    assert render(Raw("<hr>")) == "<hr>"


def test_component_node_must_be_resolved_first() -> None:
    class Child:
        pass

    with pytest.raises(TypeError) as error:
        render(h.div(ComponentNode(Child)))
    assert str(error.value) == (
        "cannot render component Child directly: the runtime resolves a ComponentNode to a "
        "Slot before rendering"
    )


def test_rendering_is_deterministic() -> None:
    def page() -> Element:
        return h.ul([h.li(str(i), class_="x", data_i=i, key=i) for i in range(5)])

    assert render(page()) == render(page())


@settings(max_examples=200, deadline=None)
@given(st.text(TEXT_ALPHABET), st.text(TEXT_ALPHABET))
def test_any_text_and_attribute_value_round_trips_through_an_html_parser(
    text: str, value: str
) -> None:
    [node] = parse(render(h.div(text, h.span(title=value), text)))
    assert isinstance(node, DomElement)
    assert node.text_content == text + text
    assert node.select("span")[0].attrs == {"title": value}


def test_a_select_value_marks_its_option_selected() -> None:
    # browsers ignore a value attribute on <select>: the first render must mark the option
    select = h.select(
        h.option("Ada", value="1"),
        h.optgroup(h.option("Grace", value="2"), h.option("Linus")),
        name="who",
        value="Linus",  # an option without value= is chosen by its text
    )
    assert render(select) == (
        '<select name="who"><option value="1">Ada</option><optgroup>'
        '<option value="2">Grace</option><option selected>Linus</option></optgroup></select>'
    )
    chosen = h.select(h.option("Ada", value="1"), h.option("Grace", value="2"), value=2)
    assert render(chosen) == (
        '<select><option value="1">Ada</option><option value="2" selected>Grace</option></select>'
    )
    assert (
        render(h.select(h.option("Ada"), value="nobody")) == "<select><option>Ada</option></select>"
    )


def test_a_select_value_wins_over_options_marked_selected_and_lists_choose_several() -> None:
    one = h.select(h.option("a"), h.option("b", selected=True), value="a")
    assert render(one) == "<select><option selected>a</option><option>b</option></select>"
    several = h.select(
        h.option("a"), h.optgroup(h.option("b"), h.option("c")), multiple=True, value=["a", "c"]
    )
    assert render(several) == (
        "<select multiple><option selected>a</option><optgroup><option>b</option>"
        "<option selected>c</option></optgroup></select>"
    )
    padded = h.select(h.option(" Red\n "), h.option("Blue"), value="Red")  # read as "Red"
    assert (
        render(padded) == "<select><option selected> Red\n </option><option>Blue</option></select>"
    )
    untouched = h.select(h.option("a"), h.option("b", selected=True), value=None)
    assert render(untouched) == "<select><option>a</option><option selected>b</option></select>"
    with pytest.raises(TypeError, match=re.escape("<select value=[...]>: several values need")):
        h.select(h.option("a"), value=["a"])
    with pytest.raises(TypeError, match="expected str, int or float, got dict"):
        h("select", h.option("a"), value={"a": 1})


@pytest.mark.parametrize("name", ["data-js-click", "DATA-JS-CLICK", "Data-Js-Input"])
def test_client_commands_come_from_js_values_never_from_a_str(name: str) -> None:
    # h.div(**user_dict) with {"data-js-click": '[["set_attr","a","href","javascript:..."]]'}
    # rendered as is, and vango.rich.js ran the commands on a click
    forged = '[["set_attr","#a","href","javascript:alert(1)"]]'
    with pytest.raises(ValueError, match="expected a JS value"):
        render(Element("button", {name: forged}))
    with pytest.raises(ValueError, match="expected a JS value"):
        attr_value("button", name, forged)
    shown = render(Element("button", {name: JS.show("#menu")}))
    assert shown == f'<button {name}="[[&quot;show&quot;,&quot;#menu&quot;]]"></button>'
    assert render(Element("div", {"data-jsx": "x", "data-j": "y"})) == (
        '<div data-jsx="x" data-j="y"></div>'
    )


@pytest.mark.parametrize(
    ("build", "tag"),
    [
        (lambda: h.svg(h.g(h.div("x"))), "div"),
        (lambda: h.svg(h.p()), "p"),
        (lambda: h("svg", h.circle(), h.span("x")), "span"),
        (lambda: h.svg(h.font("x", color="red")), "font"),
        (lambda: h.math(h.mrow(h.b("x"))), "b"),
        (lambda: h.svg(h.foreignObject(h.div(h.svg(h.g(h.img()))))), "img"),
        (lambda: h.svg(h.desc(h.b("x"))), "b"),  # the client's INSERT parses it as SVG
    ],
)
def test_html_inside_svg_or_math_is_refused_naming_the_tag(build: Any, tag: str) -> None:
    # A browser's parser moves such an element out of the <svg>: the page then has other
    # children than the server's tree, and later patches by index reach the wrong node
    with pytest.raises(ValueError, match=f"<{tag}> inside <(svg|math)>"):
        build()


def test_html_is_allowed_where_svg_and_math_take_html() -> None:
    tree = h.div(
        h.svg(h.foreignObject(h.div(h.b("x"))), h.desc("d"), h("text", h.tspan("t"))),
        h.math(h.mi(h.b("i")), h("annotation-xml", h.div("a"), encoding="text/html")),
        h.svg(h.font("plain")),
    )
    page = render(tree)
    assert Document.from_html(page).to_html() == page  # nothing moved by the parser


def test_a_component_rendering_html_inside_svg_is_refused_at_render() -> None:
    # h.svg(h(Shape)) cannot see Shape's tree when built: render checks the mounted Slot
    class Shape:
        tree = h.div("not svg")

    with pytest.raises(ValueError, match="<div> inside <svg>"):
        render(h.div(Element("svg", children=(Slot(Shape()),))))
    Shape.tree = h.g(h.circle(), data_hid_like="x")
    assert render(Element("svg", children=(Slot(Shape()),))).startswith("<svg><g")
