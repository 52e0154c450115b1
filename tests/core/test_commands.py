"""commands.JS: the commands' JSON, and set_attr checked under the renderer's rules."""

from __future__ import annotations

import json

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
