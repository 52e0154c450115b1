"""The JS patch applier agrees with the Python diff, and keeps the user's focus and caret.

For hypothesis-generated tree pairs ``(a, b)``: render ``a`` (with hids) into the root
container, apply ``diff(a, b)`` in Chromium, and compare what a user sees (tags, attributes,
live control state, text) with the browser's own parse of ``render(b)``.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings

from tests.client.conftest import ClientPage
from tests.core.strategies import tree_pairs
from vango_actors.diff import assign_hids, diff
from vango_actors.html import render
from vango_actors.vdom import Element, HidCounter, h

pytestmark = pytest.mark.browser

# What a user sees: markup attributes, but the *live* value/checked/selected of controls.
SNAPSHOT = """() => { window.__snap = (n) => {
  if (n.nodeType === 3) return ['#text', n.data];
  if (n.nodeType !== 1) return ['#node', n.nodeType];
  const tag = n.localName, live = ['input', 'textarea', 'select', 'option'].includes(tag);
  const attrs = [...n.attributes]
    .filter((a) => !(live && ['value', 'checked', 'selected'].includes(a.name)))
    .map((a) => [a.name, a.value]).sort();
  const state = live ? [n.value ?? null, n.checked ?? null, n.selected ?? null] : [];
  const kids = tag === 'textarea' ? [] : [...n.childNodes].map(window.__snap);
  return [tag, attrs, state, kids];
}; }"""

APPLY = """([before, ops, after]) => {
  const root = document.querySelector('[data-vango-root]');
  const expected = document.createElement('div');
  root.innerHTML = before;
  expected.innerHTML = after;
  const shapes = [__shape(root), __shape(expected)];
  let error = null;
  try { vango._apply(ops); } catch (e) { error = String(e); }
  return [shapes, error, [...root.childNodes].map(__snap), [...expected.childNodes].map(__snap)];
}"""

# Element structure as parsed: [hid, parent hid, child count] in document order. HTML parsing
# rewrites some nestings (a <div> closes an open <p>); such trees cannot reach a browser as is.
SHAPE = """() => { window.__shape = (root) => [...root.querySelectorAll('*')].map((e) => [
  e.getAttribute('data-hid'), e.parentNode.getAttribute('data-hid'),
  e.localName === 'textarea' ? -1 : e.childNodes.length]); }"""


def shape(node: Element, parent: str | None = None) -> list[list[Any]]:
    """What __shape gives for ``render(node)`` when the browser keeps its nesting."""
    hid = f"h{node.hid}"
    count = -1 if node.tag == "textarea" else len(node.children)
    rows: list[list[Any]] = [[hid, parent, count]]
    for child in node.children:
        if isinstance(child, Element):
            rows += shape(child, hid)
    return rows


def js_patched(client: ClientPage, a: Element, b: Element) -> tuple[bool, Any, Any, Any, Any]:
    """Apply diff(a, b) in the browser.

    Returns (both trees parse as built, error, what the user sees, what render(b) shows, ops).
    """
    old = assign_hids(a, HidCounter())
    ops, new = diff(old, b, HidCounter(_max_hid(old)))
    assert isinstance(old, Element) and isinstance(new, Element)
    shapes, error, got, expected = client.page.evaluate(APPLY, [render(old), ops, render(new)])
    parses = shapes == [shape(old, "h0"), shape(new, None)]
    return parses, error, got, expected, ops


def browser_representable(a: Element, b: Element, ops: list[list[Any]]) -> bool:
    """Pairs the property test leaves out (no browser can show them)."""
    # A single-choice <select> shows one option: a tree that marks several `selected` has no
    # browser equivalent (a parse keeps the last, SET_PROPs in order keep another).
    return single_choice(a) and single_choice(b)


def first_difference(got: Any, expected: Any, path: tuple[int, ...] = ()) -> Any:
    """Where two snapshots first differ: (index path, got, expected) — for failure messages."""
    if isinstance(got, list) and isinstance(expected, list) and len(got) == len(expected):
        for i, (g, e) in enumerate(zip(got, expected, strict=True)):
            if g != e:
                return first_difference(g, e, (*path, i))
    return (path, got, expected)


def single_choice(node: Any) -> bool:
    """No <select> without ``multiple`` has more than one option marked ``selected``."""
    if not isinstance(node, Element):
        return True
    if node.tag == "select" and not node.attrs.get("multiple"):
        marked = [o for o in node.children if isinstance(o, Element) and o.attrs.get("selected")]
        if len(marked) > 1:
            return False
    return all(single_choice(child) for child in node.children)


def _max_hid(node: Any) -> int:
    if not isinstance(node, Element):
        return 0
    return max([node.hid or 0, *(_max_hid(c) for c in node.children)])


@pytest.fixture(scope="module")
def applier(shared_client: ClientPage) -> ClientPage:
    shared_client.page.evaluate(SNAPSHOT)
    shared_client.page.evaluate(SHAPE)
    return shared_client


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)
@given(pair=tree_pairs())
def test_js_applier_turns_a_into_b(applier: ClientPage, pair: tuple[Element, Element]) -> None:
    parses, error, got, expected, ops = js_patched(applier, *pair)
    assume(parses and browser_representable(*pair, ops))
    assert error is None, ops
    assert got == expected, (first_difference(got, expected), ops)


# ------------------------------------------------------------------ former gaps, one test each


def check_pair(client: ClientPage, a: Element, b: Element) -> None:
    parses, error, got, expected, ops = js_patched(client, a, b)
    assert parses
    assert error is None, ops
    assert got == expected, (first_difference(got, expected), ops)


def test_textarea_value_with_leading_newline(applier: ClientPage) -> None:
    # A browser drops one newline right after <textarea>/<pre>: html.render doubles it.
    check_pair(applier, h.div(h.textarea("x")), h.div(h.textarea("\nx")))
    check_pair(applier, h.div(h.span("x")), h.div(h.textarea(value="\n\ny"), h.pre("\nz")))


def test_input_type_change_from_text_to_checkbox(applier: ClientPage) -> None:
    # The old value attribute must go: a checkbox without one reads .value "on".
    check_pair(
        applier,
        h.div(h.input(type="text", value="")),
        h.div(h.input(type="checkbox", checked=False)),
    )


def test_input_type_changes_carry_the_value_attribute(applier: ClientPage) -> None:
    check_pair(
        applier,
        h.div(h.input(type="text", value="typed"), h.input(type="checkbox", value="x")),
        h.div(h.input(type="radio", value="r"), h.input(type="text", value="t")),
    )
    check_pair(
        applier,
        h.div(h.input(type="checkbox", value="x"), h.input(type="hidden", value="a")),
        h.div(h.input(type="checkbox"), h.input(type="hidden", value="b")),
    )


def test_a_template_whose_content_changes_shows_the_new_content(shared_client: ClientPage) -> None:
    old = assign_hids(h.div(h.template(h.b("x"), "y"), h.p("after")), HidCounter())
    ops, _ = diff(old, h.div(h.template(h.i("z")), h.p("after")), HidCounter(_max_hid(old)))
    error, content = shared_client.page.evaluate(
        """([before, ops]) => {
          const root = document.querySelector('[data-vango-root]');
          root.innerHTML = before;
          try { vango._apply(ops); } catch (e) { return [String(e), null]; }
          return [null, root.querySelector('template').innerHTML];
        }""",
        [render(old), ops],
    )
    assert (error, content) == (None, "<i>z</i>")
