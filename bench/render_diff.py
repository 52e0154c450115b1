"""Render and diff a 1,000-row keyed table (~11,000 nodes); prints one JSON document.

Cases: (a) one row's text changed, (b) all rows reversed, (c) 10% of rows deleted and as
many inserted at random places. Each timed run builds a fresh tree (as a component render
does: new objects, new handler closures) and diffs it against the mounted one. The ``*_lazy``
cases build the rows as ``h.lazy(row, id, label, key=id)``: the render makes one Lazy per row
and the diff calls ``row`` only where its arguments changed. ``render_plus_diff_cpu`` is the
build of the new tree plus the diff (what a component re-render costs the core).

    python -m bench render_diff [--rows 1000] [--runs 50] [--seed 1]
"""

from __future__ import annotations

import argparse
import gc
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


def _row(row_id: int, label: str) -> Element:
    return h.tr(
        h.td(str(row_id), class_="id"),
        h.td(h.a(label, href=f"/rows/{row_id}")),
        h.td(f"{len(label)} chars", class_="size"),
        h.td(h.button("x", class_="destroy", on_click=lambda: row_id)),
        key=row_id,
        class_="row",
    )


def _row_without_handler(row_id: int, label: str) -> Element:
    return h.tr(
        h.td(str(row_id), class_="id"),
        h.td(h.a(label, href=f"/rows/{row_id}")),
        h.td(f"{len(label)} chars", class_="size"),
        h.td(h.button("x", class_="destroy")),
        key=row_id,
        class_="row",
    )


def build_table(rows: list[Row], row: Callable[[int, str], Element] = _row) -> Element:
    """A table like a data grid: per row an id, a link, a label and a delete button."""
    return h.table(h.tbody([row(row_id, label) for row_id, label in rows]), id="grid")


def build_lazy_table(rows: list[Row]) -> Element:
    """The same table with memoised rows: ``h.lazy(_row, id, label, key=id)``."""
    lazy = h.lazy
    return h.table(
        h.tbody([lazy(_row, row_id, label, key=row_id) for row_id, label in rows]), id="grid"
    )


def count_nodes(node: Node) -> int:
    if isinstance(node, Element):
        return 1 + sum(count_nodes(child) for child in node.children)
    return 1


def _summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "median_ms": round(statistics.median(ordered), 3),
        "p90_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.9))], 3),
    }


def _ms_since(start: float) -> float:
    return (time.perf_counter() - start) * 1000


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


def _initial(rows: list[Row], runs: int) -> dict[str, Any]:
    wall: dict[str, list[float]] = {"build_tree": [], "assign_hids": [], "render_initial": []}
    cpu: dict[str, list[float]] = {name: [] for name in wall}
    page = ""
    tree: Node | None = None
    for _ in range(runs):
        gc.collect()
        tree = _timed(wall["build_tree"], cpu["build_tree"], build_table, rows)
        mounted = _timed(wall["assign_hids"], cpu["assign_hids"], assign_hids, tree, HidCounter())
        page = _timed(wall["render_initial"], cpu["render_initial"], render, mounted)
    assert tree is not None
    report: dict[str, Any] = {"nodes": count_nodes(tree), "html_bytes": len(page.encode())}
    for name in wall:
        report[name] = {**_summary(wall[name]), "cpu_median_ms": _median(cpu[name])}
    return report


def _timed(wall: list[float], cpu: list[float], fn: Callable[..., Any], *args: Any) -> Any:
    start, cpu_start = time.perf_counter(), time.thread_time()
    result = fn(*args)
    wall.append(_ms_since(start))
    cpu.append((time.thread_time() - cpu_start) * 1000)
    return result


def _diff_case(
    rows: list[Row], changed: list[Row], runs: int, table: Callable[[list[Row]], Element]
) -> dict[str, Any]:
    diff_ms: list[float] = []
    cpu_ms: list[float] = []
    build_cpu: list[float] = []
    total_cpu: list[float] = []
    ops: list[Any] = []
    for _ in range(runs):
        ids = HidCounter()
        mounted = assign_hids(table(rows), ids)
        gc.collect()
        build_start = time.thread_time()
        fresh = table(changed)
        build_cpu.append((time.thread_time() - build_start) * 1000)
        gc.collect()  # the diff figure without the build's garbage (as before the lazy cases)
        start, cpu_start = time.perf_counter(), time.thread_time()
        ops, _ = diff(mounted, fresh, ids)
        diff_ms.append(_ms_since(start))
        cpu_ms.append((time.thread_time() - cpu_start) * 1000)
        total_cpu.append(build_cpu[-1] + cpu_ms[-1])
    return {
        "diff": _summary(diff_ms),
        "diff_cpu": _summary(cpu_ms),
        "build_cpu_median_ms": _median(build_cpu),
        "render_plus_diff_cpu": _summary(total_cpu),
        "ops": len(ops),
        "ops_by_code": _ops_by_code(ops),
        "patches_frame_bytes": _frame_size(ops),
    }


def _baseline_eq(rows: list[Row], changed: list[Row], runs: int) -> dict[str, Any]:
    """Machine yardstick: attrs ``==`` of the old and new trees (walks, builds nothing).

    ``==`` stops at the first difference (the middle row), so it walks about half of the two
    trees; ``full_walk`` compares against an equal tree, the whole of both.
    """
    samples, cpu, full, full_cpu = [], [], [], []
    for _ in range(runs):
        mounted = assign_hids(build_table(rows), HidCounter())
        fresh, same = build_table(changed), build_table(rows)
        gc.collect()
        start, cpu_start = time.perf_counter(), time.thread_time()
        _ = mounted == fresh
        samples.append(_ms_since(start))
        cpu.append((time.thread_time() - cpu_start) * 1000)
        start, cpu_start = time.perf_counter(), time.thread_time()
        _ = mounted == same
        full.append(_ms_since(start))
        full_cpu.append((time.thread_time() - cpu_start) * 1000)
    return {
        "stops_at_the_change": {**_summary(samples), "cpu_median_ms": _median(cpu)},
        "full_walk": {**_summary(full), "cpu_median_ms": _median(full_cpu)},
    }


def _median(samples: list[float]) -> float:
    return round(statistics.median(samples), 3)


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench render_diff")
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    rows = [(i, f"row number {i} " + "x" * rng.randrange(10)) for i in range(1, args.rows + 1)]
    report: dict[str, Any] = {"benchmark": "render_diff", "rows": args.rows, "runs": args.runs}
    report.update(_initial(rows, args.runs))
    cases = _cases(rows, rng)
    report["cases"] = {
        name: _diff_case(rows, changed, args.runs, build_table) for name, changed in cases.items()
    }
    # Handlers are closures, new every render, so every row's button/td/tr is re-created with
    # the new handlers; without handlers, unchanged rows are returned as the old objects.
    report["cases"]["one_row_text_no_handlers"] = _diff_case(
        rows, cases["one_row_text"], args.runs, lambda r: build_table(r, _row_without_handler)
    )
    for name, changed in cases.items():
        report["cases"][f"{name}_lazy"] = _diff_case(rows, changed, args.runs, build_lazy_table)
    report["baseline_structural_eq"] = _baseline_eq(rows, cases["one_row_text"], args.runs)
    print(json.dumps(report, indent=2))


def _ops_by_code(ops: list[list[Any]]) -> dict[str, int]:
    from vango_actors.protocol import Op

    counts: dict[str, int] = {}
    for op in ops:
        name = Op(op[0]).name
        counts[name] = counts.get(name, 0) + 1
    return counts


def _frame_size(ops: list[list[Any]]) -> int:
    from vango_actors.protocol import encode_patches

    return len(encode_patches(1, 1, ops))
