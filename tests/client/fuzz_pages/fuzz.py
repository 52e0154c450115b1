"""`/fuzz?seed=S&step=N`: a page whose render is a seeded random program of state changes.

Each click on ``#step`` takes the model one step further (``advance``); a fresh GET with
``step=N`` mounts the model as it is after N steps, so the live page after N clicks and a fresh
render of step N must show the same DOM. The model covers keyed and unkeyed child lists,
components moving between parents, text next to elements, attributes of every kind, form
controls set by the server, ``<select multiple>``, ``<textarea>``, SVG (camel-case names,
``<foreignObject>``), MathML holding HTML, tables, Raw blocks and ``h.lazy`` subtrees.
"""

from __future__ import annotations

import copy
import random
from collections.abc import Mapping
from typing import Any

from vango_actors import Element, h
from vango_actors.component import Component
from vango_actors.routing import live_page

WORDS = ["", " ", "a", "b c", "\n", "x<y", "&amp;", "é", "  two  ", "0", "1.5"]
TAGS = ["span", "b", "i", "em", "p", "div"]


def initial() -> dict[str, Any]:
    return {
        "keyed": [{"k": k, "t": f"item {k}", "a": {}} for k in range(4)],
        "mixed": ["start", ("b", "bold"), "end"],
        "left": ["c0", "c1"],
        "right": ["c2"],
        "nested": [],
        "attrs": {},
        "text": "",
        "check": False,
        "picked": [],
        "area": "",
        "choice": "",
        "svg": [{"k": 0, "r": 3, "fill": "red"}],
        "rows": [{"k": 0, "cells": ["r0"]}],
        "raw": "<b>raw</b>",
        "lazy": ("l", 0),
        "next": 10,
    }


def _attrs(rng: random.Random) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for name in rng.sample(["class", "style", "data-x", "title", "id", "hidden", "data-n"], 3):
        roll = rng.random()
        if roll < 0.3:
            continue
        if name == "hidden":
            found[name] = rng.choice([True, False, None, "", "until-found"])
        elif name == "style":
            found[name] = rng.choice(["color: red", "display:none", "", "width: 3px;"])
        elif name == "data-n":
            found[name] = rng.choice([0, 1, 2.5, -3, True, False])
        elif name == "id":
            found[name] = rng.choice(["i1", "i2", "i3"])
        else:
            found[name] = rng.choice(WORDS)
    return found


def _shuffle_list(rng: random.Random, items: list[Any], make: Any) -> None:
    kind = rng.randrange(7)
    if kind == 0 and items:
        items.pop(rng.randrange(len(items)))
    elif kind == 1:
        items.insert(rng.randrange(len(items) + 1), make())
    elif kind == 2 and len(items) > 1:
        i, j = rng.sample(range(len(items)), 2)
        items[i], items[j] = items[j], items[i]
    elif kind == 3:
        items.reverse()
    elif kind == 4 and items:
        items.append(items.pop(rng.randrange(len(items))))
    elif kind == 5:
        rng.shuffle(items)
    elif kind == 6 and len(items) > 2:
        del items[rng.randrange(len(items)) :]


def advance(model: dict[str, Any], seed: int, step: int) -> dict[str, Any]:
    """The model after one more step: a few random changes drawn from ``(seed, step)``."""
    rng = random.Random(f"{seed}:{step}")
    model = copy.deepcopy(model)

    def fresh_key() -> int:
        model["next"] += 1
        return int(model["next"])

    for _ in range(rng.randint(1, 3)):
        what = rng.randrange(12)
        if what == 0:
            _shuffle_list(rng, model["keyed"], lambda: {"k": fresh_key(), "t": "new", "a": {}})
            for item in model["keyed"]:
                if rng.random() < 0.2:
                    item["t"] = rng.choice(WORDS)
                if rng.random() < 0.2:
                    item["a"] = _attrs(rng)
        elif what == 1:
            _shuffle_list(
                rng,
                model["mixed"],
                lambda: rng.choice([rng.choice(WORDS), (rng.choice(TAGS), rng.choice(WORDS))]),
            )
        elif what == 2:  # components move between the two parents (and the nested one)
            places = [model["left"], model["right"], model["nested"]]
            source = rng.choice([p for p in places if p] or [model["left"]])
            if source:
                name = source.pop(rng.randrange(len(source)))
                target = rng.choice(places)
                target.insert(rng.randrange(len(target) + 1), name)
            if rng.random() < 0.3:
                rng.choice(places).append(f"c{fresh_key()}")
        elif what == 3:
            model["attrs"] = _attrs(rng)
        elif what == 4:
            model["text"] = rng.choice(WORDS)
            model["check"] = rng.random() < 0.5
        elif what == 5:
            model["picked"] = sorted(rng.sample(["a", "b", "c", "d"], rng.randint(0, 3)))
            model["choice"] = rng.choice(["", "x", "y", "z"])
        elif what == 6:
            model["area"] = rng.choice([*WORDS, "\nlead", "two\nlines"])
        elif what == 7:
            _shuffle_list(
                rng,
                model["svg"],
                lambda: {"k": fresh_key(), "r": rng.randint(1, 9), "fill": "blue"},
            )
            for circle in model["svg"]:
                if rng.random() < 0.3:
                    circle["r"] = rng.choice([1, 2.5, 7])
                    circle["fill"] = rng.choice(["red", "none", None])
        elif what == 8:
            _shuffle_list(rng, model["rows"], lambda: {"k": fresh_key(), "cells": ["n"]})
            for row in model["rows"]:
                if rng.random() < 0.3:
                    row["cells"] = [rng.choice(WORDS) for _ in range(rng.randint(0, 3))]
        elif what == 9:
            model["raw"] = rng.choice(["<b>raw</b>", "<i>other</i> text", "", "plain", "<br>"])
        elif what == 10:
            model["lazy"] = (rng.choice(["l", "m"]), rng.randint(0, 2))
        else:
            _shuffle_list(rng, model["nested"], lambda: f"c{fresh_key()}")
    return model


def model_at(seed: int, steps: int) -> dict[str, Any]:
    model = initial()
    for step in range(1, steps + 1):
        model = advance(model, seed, step)
    return model


class Card(Component):
    """A keyed child component: renders its name and the parent's step."""

    def render(self) -> Element:
        return h.li(h.b(self.props["name"]), " at ", self.props["step"] % 3, class_="card")


def _lazy_block(label: str, n: int) -> Element:
    return h.div(label, h.span(n), *(h.i(i) for i in range(n)), class_="lazy")


def _svg_item(c: dict[str, Any]) -> Element:
    """A circle, or (odd keys) a camel-case SVG element: clipPath, linearGradient."""
    if c["k"] % 2 == 0:
        return h.circle(cx=c["k"], cy=5, r=c["r"], fill=c["fill"], key=c["k"])
    if c["k"] % 4 == 1:
        return h.clipPath(
            h.rect(width=c["r"], height=1), clipPathUnits=c["fill"], id=f"c{c['k']}", key=c["k"]
        )
    return h.linearGradient(
        h.stop(offset=0), gradientUnits=c["fill"], spreadMethod="pad", key=c["k"]
    )


def _mixed(item: Any) -> Any:
    if isinstance(item, str):
        return item
    tag, text = item
    return h(tag, text)


@live_page(title="Fuzz")
class Fuzz(Component):
    def mount(self, props: Mapping[str, Any]) -> None:
        self.seed = 0
        self.step = 0
        self.model = initial()

    def handle_params(self, params: Mapping[str, str]) -> None:
        self.seed = int(params.get("seed", "0"))
        self.step = int(params.get("step", "0"))
        self.model = model_at(self.seed, self.step)

    def next_step(self) -> None:
        self.step += 1
        self.model = advance(self.model, self.seed, self.step)

    def render(self) -> Element:
        m = self.model
        cards = lambda names: [h(Card, name=n, step=self.step, key=n) for n in names]  # noqa: E731
        return h.main(
            h.button("step", id="step", on_click=self.next_step),
            h.ul([h.li(i["t"], h.span(i["k"]), key=i["k"], **i["a"]) for i in m["keyed"]]),
            h.div([_mixed(item) for item in m["mixed"]], class_="mixed"),
            h.div(
                h.ul(cards(m["left"]), class_="left"),
                h.ul(cards(m["right"]), h.li(h.ul(cards(m["nested"]))), class_="right"),
            ),
            h.section("t:", m["text"], h.em(m["text"]), m["text"], **m["attrs"]),
            h.form(
                h.input(type="text", name="t", value=m["text"]),
                h.input(type="checkbox", name="c", checked=m["check"], disabled=not m["check"]),
                h.input(type="radio", name="r", value="a", checked=m["check"]),
                h.input(type="radio", name="r", value="b", checked=not m["check"]),
                h.select(
                    [h.option(v, value=v, selected=v in m["picked"]) for v in "abcd"],
                    multiple=True,
                    name="m",
                ),
                h.select(
                    h.option("none", value=""),
                    [h.option(v, value=v) for v in "xyz"],
                    value=m["choice"],
                    name="s",
                ),
                h.textarea(value=m["area"], name="a"),
            ),
            h.svg(
                [_svg_item(c) for c in m["svg"]],
                h("text", m["text"], x=1, y=2),
                h.foreignObject(h.div([_mixed(item) for item in m["mixed"][:3]]), width=9),
                viewBox=f"0 0 {10 * len(m['svg'])} 10",
                preserveAspectRatio="none" if m["check"] else None,
            ),
            h.math(  # MathML takes HTML in its token elements (mi, mtext...)
                h.mrow(h.mi(m["text"]), h.mtext([_mixed(item) for item in m["mixed"][:2]])),
                h("annotation-xml", [_mixed(i) for i in m["mixed"][1:3]], encoding="text/html"),
            ),
            h.table(
                h.tbody([h.tr([h.td(c) for c in row["cells"]], key=row["k"]) for row in m["rows"]])
            ),
            h.div(h.raw(m["raw"]), class_="raw"),
            h.lazy(_lazy_block, *m["lazy"]),
            h.p(self.step, id="at"),
        )
