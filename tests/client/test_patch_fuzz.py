"""A randomized differential test of the patch engine in the real browser.

``tests.client.fuzz_pages`` serves ``/fuzz?seed=S&step=N``, whose render is a seeded random
program of state changes (keyed and unkeyed lists, components moving between parents, text,
attributes, form controls, select multiple, textarea, SVG, tables, Raw, ``h.lazy``). For each
seed, Chromium clicks ``#step`` through hypercorn and the fast door; after every step the live
DOM under the root must equal (1) Chromium's parse of a fresh GET of the same step (hids
aside: a fresh mount numbers anew) and (2) the harness's reference ``Document`` after the same
clicks (hids included). A mismatch names the seed and the step.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import trio
from playwright.sync_api import Page

from tests.browser import open_live, wait_synced
from tests.client.test_applier import first_difference
from tests.servers import Server, hypercorn_server
from vango_actors.dom import DomElement, DomNode
from vango_actors.testing import open_harness

ROUTES = "tests.client.fuzz_pages"
SEEDS = (1, 2, 3)
STEPS = 80

# What a user sees, as [tag, sorted attributes, live state, children]; an SVG or MathML tag is
# prefixed with its namespace (svg:circle); live state: an input's value and checked (an empty
# class is no class: the client's pending class leaves one on the clicked button), a
# textarea's value, an option's selected (their markup dropped).
SNAP = """() => { window.__snap = (n, hids) => {
  if (n.nodeType === 3) return ['#text', n.data];
  if (n.nodeType !== 1) return ['#node', n.nodeType];
  const ns = {'http://www.w3.org/2000/svg': 'svg:', 'http://www.w3.org/1998/Math/MathML': 'math:'};
  const tag = (ns[n.namespaceURI] || '') + n.localName;
  const live = {input: ['value', 'checked'], textarea: ['value'], option: ['selected']}[tag] || [];
  const attrs = [...n.attributes].filter((a) => !live.includes(a.name))
    .filter((a) => (hids || a.name !== 'data-hid') && !(a.name === 'class' && !a.value))
    .map((a) => [a.name, a.value]).sort();
  const kids = tag === 'textarea' ? [] : [...n.childNodes].map((c) => __snap(c, hids));
  return [tag, attrs, live.map((p) => n[p]), kids];
};
window.__live = (hids) => [...document.querySelector('[data-vango-root]').childNodes]
  .map((c) => __snap(c, hids));
window.__fresh = async (url) => {
  const doc = new DOMParser().parseFromString(await (await fetch(url)).text(), 'text/html');
  return [...doc.querySelector('[data-vango-root]').childNodes].map((c) => __snap(c, false));
}; }"""

_LIVE = {"input": ("value", "checked"), "textarea": ("value",), "option": ("selected",)}


def snap(node: DomNode) -> list[Any]:
    """The reference Document's node as ``__snap`` gives a browser's."""
    if not isinstance(node, DomElement):
        return ["#text", node.text]
    tag = node.tag if node.namespace == "html" else f"{node.namespace}:{node.tag}"
    live = _LIVE.get(tag, ())
    attrs = sorted(
        [k, v] for k, v in node.attrs.items() if k not in live and (k, v) != ("class", "")
    )
    kids = [] if node.tag == "textarea" else [snap(child) for child in node.children]
    return [tag, attrs, [node.prop(name) for name in live], kids]


def harness_snaps(seed: int) -> list[list[Any]]:
    """The reference Document after 0..STEPS clicks on ``#step``."""

    async def run() -> list[list[Any]]:
        async with open_harness(ROUTES) as vango:
            view = await vango.mount(f"/fuzz?seed={seed}&step=0")
            found = [[snap(c) for c in view.document.root.children]]
            for step in range(1, STEPS + 1):
                try:
                    await view.click("#step")
                except Exception as error:
                    raise AssertionError(f"seed {seed}, step {step}: {error}") from error
                found.append([snap(c) for c in view.document.root.children])
            return found

    return trio.run(run)


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    env = {"VANGO_ROUTES": ROUTES, "VANGO_SECRET_KEY": "fuzz", "VANGO_LIVE_PORT": "0"}
    with hypercorn_server(env=env) as running:
        yield running


@pytest.mark.browser
@pytest.mark.parametrize("seed", SEEDS)
def test_live_dom_equals_a_fresh_render_and_the_reference(
    page: Page, server: Server, seed: int
) -> None:
    reference = harness_snaps(seed)
    open_live(page, f"{server.url}/fuzz?seed={seed}&step=0")
    page.evaluate(SNAP)
    for step in range(STEPS + 1):
        if step:
            page.click("#step")
            wait_synced(page)
        live = page.evaluate("__live(true)")
        where = f"seed {seed}, step {step}"
        assert live == reference[step], (where, first_difference(live, reference[step]))
        fresh = page.evaluate("(u) => __fresh(u)", f"/fuzz?seed={seed}&step={step}")
        bare = page.evaluate("__live(false)")
        assert bare == fresh, (where, first_difference(bare, fresh))
