"""Render and diff a 1,000-row keyed table (~11,000 nodes); prints one JSON document.

Cases: (a) one row's text changed, (b) all rows reversed, (c) 10% of rows deleted and as
many inserted at random places. Each timed run builds a fresh tree (as a component render
does: new objects, new handler closures) and diffs it against the mounted one.

    python -m bench render_diff [--rows 1000] [--runs 50] [--seed 1]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from collections.abc import Callable
from typing import Any

from vango_actors.diff import assign_hids, diff
from vango_actors.html import render
from vango_actors.vdom import Element, HidCounter, Node, h

Row = tuple[int, str]


def build_table(rows: list[Row]) -> Element:
    """A table like a data grid: per row an id, a link, a label and a delete button."""

    def row(row_id: int, label: str) -> Element:
        return h.tr(
            h.td(str(row_id), class_="id"),
            h.td(h.a(label, href=f"/rows/{row_id}")),
            h.td(f"{len(label)} chars", class_="size"),
            h.td(h.button("x", class_="destroy", on_click=lambda: row_id)),
            key=row_id,
            class_="row",
        )

    return h.table(h.tbody([row(row_id, label) for row_id, label in rows]), id="grid")


def count_nodes(node: Node) -> int:
    if isinstance(node, Element):
        return 1 + sum(count_nodes(child) for child in node.children)
    return 1


def _timed(function: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = function()
    return (time.perf_counter() - start) * 1000, result


def _summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "median_ms": round(statistics.median(ordered), 3),
        "p90_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.9))], 3),
    }


def _cases(rows: list[Row], rng: random.Random) -> dict[str, list[Row]]:
    one = list(rows)
    middle = len(one) // 2
    one[middle] = (one[middle][0], one[middle][1] + " (edited)")
    churn = list(rows)
    for _ in range(len(rows) // 10):
        del churn[rng.randrange(len(churn))]
    next_id = len(rows) + 1
    for offset in range(len(rows) // 10):
        churn.insert(rng.randrange(len(churn) + 1), (next_id + offset, f"new row {offset}"))
    return {"one_row_text": one, "reverse": rows[::-1], "ten_percent_churn": churn}


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench render_diff")
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    rows = [(i, f"row number {i} " + "x" * rng.randrange(10)) for i in range(1, args.rows + 1)]

    build_ms, render_ms, assign_ms = [], [], []
    for _ in range(args.runs):
        took, tree = _timed(lambda: build_table(rows))
        build_ms.append(took)
        ids = HidCounter()
        took, mounted = _timed(lambda tree=tree, ids=ids: assign_hids(tree, ids))
        assign_ms.append(took)
        took, page = _timed(lambda mounted=mounted: render(mounted))
        render_ms.append(took)

    report: dict[str, Any] = {
        "benchmark": "render_diff",
        "rows": args.rows,
        "nodes": count_nodes(tree),
        "runs": args.runs,
        "html_bytes": len(page.encode()),
        "build_tree": _summary(build_ms),
        "assign_hids": _summary(assign_ms),
        "render_initial": _summary(render_ms),
        "cases": {},
    }
    for name, case_rows in _cases(rows, rng).items():
        diff_ms: list[float] = []
        ops: list[Any] = []
        for _ in range(args.runs):
            ids = HidCounter()
            mounted = assign_hids(build_table(rows), ids)
            fresh = build_table(case_rows)
            took, (ops, _) = _timed(
                lambda mounted=mounted, fresh=fresh, ids=ids: diff(mounted, fresh, ids)
            )
            diff_ms.append(took)
        report["cases"][name] = {
            "diff": _summary(diff_ms),
            "ops": len(ops),
            "ops_by_code": _ops_by_code(ops),
            "ops_bytes_msgpack": _msgpack_size(ops),
        }
    print(json.dumps(report, indent=2))


def _ops_by_code(ops: list[list[Any]]) -> dict[str, int]:
    from vango_actors.protocol import Op

    counts: dict[str, int] = {}
    for op in ops:
        name = Op(op[0]).name
        counts[name] = counts.get(name, 0) + 1
    return counts


def _msgpack_size(ops: list[list[Any]]) -> int:
    import msgpack

    return len(msgpack.packb(ops, use_bin_type=True))
