"""A re-render reuses the leaf elements its last render built with the same arguments
(vdom.memoised): the page stays exactly what a fresh render gives, and every event reaches
the handler the current render bound, whatever moves, repeats or changes between renders.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any

from vango_actors import Component, Element, SessionManager, h
from vango_actors.actor import _collect_bound
from vango_actors.dom import Document, snapshot
from vango_actors.html import render
from vango_actors.protocol import Op

from .harness import Browser
from .pages import Counter

# A leaf: (tag, text, attribute value, handler name). Values that are equal but render
# differently (True / 1 / "1", 0 / False) must never share an element.
_TAGS = ("b", "i")
_TEXTS = ("x", "y")
_VALUES: tuple[Any, ...] = (None, True, False, 1, 0, "1", "")
_HANDLERS = (None, "left", "right", "fresh")


class Shuffle(Component):
    """Each ``step`` click draws new leaves from a small pool, so leaves stay, move,
    repeat, vanish and come back; ``Shuffle.seed`` fixes the draw."""

    seed = 0

    def mount(self, props: Mapping[str, Any]) -> None:
        self.rng = random.Random(self.seed)
        self.steps = 0
        self.log: list[str] = []
        self.leaves = self._draw()

    def _draw(self) -> list[tuple[str, str, Any, str | None]]:
        pick = self.rng.choice
        return [
            (pick(_TAGS), pick(_TEXTS), pick(_VALUES), pick(_HANDLERS))
            for _ in range(self.rng.randrange(0, 7))
        ]

    def step(self) -> None:
        self.steps += 1
        self.leaves = self._draw()

    def left(self) -> None:
        self.log.append("left")

    def right(self) -> None:
        self.log.append("right")

    def _leaf(self, index: int, leaf: tuple[str, str, Any, str | None]) -> Element:
        tag, text, value, handler = leaf
        props: dict[str, Any] = {"hidden": value, "class_": f"leaf {handler}"}
        if handler == "fresh":  # a new function at each render: never reused
            props["on_click"] = lambda: self.log.append(f"fresh {index}")
        elif handler is not None:
            props["on_click"] = getattr(self, handler)
        return getattr(h, tag)(text, **props)

    def render(self) -> Element:
        leaves = [self._leaf(i, leaf) for i, leaf in enumerate(self.leaves)]
        half = len(leaves) // 2
        return h.div(
            h.button("step", id="step", on_click=self.step),
            h.span(str(self.steps), id="steps"),
            h.p(*leaves[:half]) if half else h.p("none", id="empty"),
            h.section(*leaves[half:], h.i("tail")),
        )


def _page_matches_the_tree(browser: Browser, rt: SessionManager) -> None:
    actor = rt.session(browser.session_id)
    fresh = Document.from_html(render(actor.root.tree))
    assert snapshot(browser.doc.root) == snapshot(fresh.root)
    for host, indexed in actor._host_bound.items():
        walked: dict[int, Element] = {}
        _collect_bound(host.tree, walked)
        assert indexed == walked


async def test_the_page_and_the_handlers_follow_every_render(rt: SessionManager) -> None:
    for seed in range(6):
        Shuffle.seed = seed
        browser = await Browser.open(rt, Shuffle)
        instance = rt.session(browser.session_id).root.instance
        assert isinstance(instance, Shuffle)
        for steps in range(1, 16):
            await browser.click("#step")
            assert browser.text("#steps") == str(steps)
            _page_matches_the_tree(browser, rt)
            for node in browser.doc.select(".leaf"):
                handler = node.attrs["class"].split()[1]
                if handler == "None":
                    continue
                before = len(instance.log)
                assert node.hid is not None
                await browser.send(node.hid)
                await browser.settle()
                assert len(instance.log) == before + 1, (seed, steps, handler)
                assert instance.log[-1].split()[0] == handler
            _page_matches_the_tree(browser, rt)
            assert not browser.errors()


async def test_two_sessions_of_one_page_keep_their_own_elements(rt: SessionManager) -> None:
    first = await Browser.open(rt, Counter)
    second = await Browser.open(rt, Counter)
    for _ in range(3):
        await first.click("#inc")
    await second.click("#inc")
    assert (first.text("#count"), second.text("#count")) == ("3", "1")
    one = rt.session(first.session_id).root
    two = rt.session(second.session_id).root
    assert one.memo and two.memo
    assert not {id(call[-1]) for call in one.memo} & {id(call[-1]) for call in two.memo}


async def test_an_unchanged_leaf_is_the_same_element_and_costs_no_op(rt: SessionManager) -> None:
    browser = await Browser.open(rt, Counter)
    await browser.click("#inc")  # the first re-render fills the memo
    host = rt.session(browser.session_id).root
    button = host.tree.children[1]
    frames = await browser.click("#inc")
    assert host.tree.children[1] is button
    (patches,) = frames
    assert patches.ops == [[Op.TEXT, host.tree.children[0].hid, 0, "2"]]
