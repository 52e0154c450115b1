"""commands.JS: the commands' JSON, and set_attr checked under the renderer's rules."""

from __future__ import annotations

import json
import re

import pytest

from vango_actors.commands import JS
from vango_actors.html import REFUSED_URL


def test_commands_chain_into_json() -> None:
    js = JS.toggle("#menu").add_class(None, "open")
    assert json.loads(js) == [["toggle", "#menu"], ["add_class", None, "open"]]
    assert js.commands == (("toggle", "#menu"), ("add_class", None, "open"))


@pytest.mark.parametrize("name", ["href", "HREF", "src", "action", "formaction", "xlink:href"])
@pytest.mark.parametrize("url", ["javascript:alert(1)", " java\tscript:x", "data:text/html,x"])
def test_set_attr_refuses_script_urls(name: str, url: str) -> None:
    # the browser runs setAttribute as told: JS.set_attr("#link", "href", user_url) made a
    # javascript: link (Chromium ran it on click), though h.a(href=user_url) is refused
    js = JS.set_attr("#link", name, url)
    assert js.commands == (("set_attr", "#link", name, REFUSED_URL),)
    assert url not in js


@pytest.mark.parametrize("name", ["srcdoc", "SrcDoc", "onclick", "ONerror", "data-hid", "a b"])
def test_set_attr_refuses_names_the_renderer_refuses(name: str) -> None:
    with pytest.raises(ValueError, match=r"attribute .* on <JS.set_attr>"):
        JS.set_attr("iframe", name, "<script>alert(1)</script>")


def test_set_attr_keeps_ordinary_values() -> None:
    js = JS.set_attr("#a", "href", "/path?x=1").set_attr(None, "title", "javascript: fine")
    assert js.commands == (
        ("set_attr", "#a", "href", "/path?x=1"),
        ("set_attr", None, "title", "javascript: fine"),
    )
    assert JS.set_attr("#i", "src", "data:image/png;base64,AA").commands[0][3] == (
        "data:image/png;base64,AA"
    )


def test_class_names_are_split_on_any_whitespace() -> None:
    # "a  b" reached the browser as is: classList.add("a", "", "b") threw, and the rest of
    # the chain (the show after it) never ran
    js = JS.add_class(None, " a  b\tc ").remove_class("#x", "d\ne").toggle_class(None, "f")
    assert js.commands == (
        ("add_class", None, "a b c"),
        ("remove_class", "#x", "d e"),
        ("toggle_class", None, "f"),
    )


@pytest.mark.parametrize("classes", ["", "  ", None, 3])
def test_a_class_command_needs_class_names(classes: object) -> None:
    with pytest.raises(ValueError, match=r"^JS\.add_class: expected a str of class names"):
        JS.add_class(None, classes)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: JS.add_class("#x"), "JS.add_class(target, classes): got 0 arguments after"),
        (lambda: JS.show("#a", "#b"), "JS.show(target): got 1 argument after the target"),
        (lambda: JS.dispatch("#a"), "JS.dispatch(target, event, detail=None): got 0 arguments"),
        (lambda: JS.remove_attr(None), "JS.remove_attr(target, attr): got 0 arguments"),
        (lambda: JS.set_attr(None), "JS.set_attr(target, attr, value=''): got 0 arguments"),
    ],
)
def test_a_command_with_missing_or_extra_arguments_raises(build: object, message: str) -> None:
    # they reached the browser and failed there (undefined.split, an event named
    # "undefined"), or were ignored (a second target)
    with pytest.raises(TypeError, match="^" + re.escape(message)):
        build()  # type: ignore[operator]


def test_dispatch_takes_a_str_event_name() -> None:
    assert JS.dispatch(None, "saved", {"id": 1}).commands == (
        ("dispatch", None, "saved", {"id": 1}),
    )
    with pytest.raises(ValueError, match=r"^JS\.dispatch: expected a non-empty str event name"):
        JS.dispatch(None, "")


@pytest.mark.parametrize("target", ["#1x", ".2col", "#-1", "ul > li.", "#", "", "  ", "a, #9"])
def test_a_target_the_browser_cannot_parse_raises(target: str) -> None:
    # querySelectorAll threw in the browser: the command was lost there, far from its cause
    with pytest.raises(ValueError, match=r"^JS\.show: " + re.escape(repr(target))):
        JS.show(target)


@pytest.mark.parametrize(
    "target",
    [
        "#menu",
        "#\\31 x",
        ".a\\.1",
        "#--1",
        "#_1",
        "#é1",
        "[id='1x']",
        '[data-v="a.1 #2"]',
        "li:nth-child(2n+1)",
        ":is(.1x, .a)",
        "ul > li.open ~ .x",
        "input[type=submit]",
    ],
)
def test_a_target_the_browser_parses_is_kept(target: str) -> None:
    assert JS.show(target).commands == (("show", target),)
