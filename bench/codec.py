"""Encode and decode PATCHES (1,000 mixed ops) and EVENT frames; prints one JSON document.

Cases: a 1,000-op PATCHES frame mixing every op kind (as a big re-render would send), the
counter's one-op PATCHES frame (the common case), and click / input / submit EVENT frames (what
the server decodes on every user action). Timings are the best of ``--runs`` batches (like
``timeit``: the least disturbed by other load), each batch running the operation ``--loops``
times; ``us`` is per frame, ``us_per_op`` per patch op.

    python -m bench codec [--runs 15] [--loops 200]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from typing import Any

from vango_actors.protocol import (
    SERVER_FRAME_LIMITS,
    Event,
    decode,
    decode_client,
    encode,
    encode_event,
    encode_patches,
)


def mixed_ops(count: int) -> list[list[Any]]:
    """``count`` ops cycling through a realistic mix: mostly text and attributes."""
    templates: list[Callable[[int], list[Any]]] = [
        lambda i: [0, 100 + i, 0, f"row {i} label"],
        lambda i: [0, 100 + i, 1, str(i * 7)],
        lambda i: [1, 100 + i, "class", "row selected" if i % 2 else "row"],
        lambda i: [2, 100 + i, "disabled"],
        lambda i: [3, 100 + i, "value", f"value {i}"],
        lambda i: [3, 100 + i, "checked", i % 2 == 0],
        lambda i: [4, 50, i % 10, f'<li data-hid="h{5000 + i}" class="item">item {i}</li>'],
        lambda i: [5, 50, i % 10],
        lambda i: [6, 50, 100 + i, i % 10],
        lambda i: [7, 100 + i, f'<td data-hid="h{9000 + i}">cell {i}</td>'],
    ]
    ops = [templates[i % len(templates)](i) for i in range(count)]
    ops[-2:] = [[9, "Rows (1000) - vango"], [10, 101]]
    return ops


EVENTS = {
    "click": Event(1234, 57, "click", {}),
    "input": Event(1235, 58, "input", {"value": "hello world"}),
    "submit": Event(
        1236, 59, "submit", {"form": {"title": "Buy milk", "tags": ["home", "food"], "n": "2"}}
    ),
}


def _time_us(function: Callable[[], object], runs: int, loops: int) -> float:
    """Best µs per call over ``runs`` batches of ``loops`` calls."""
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        for _ in range(loops):
            function()
        samples.append((time.perf_counter() - start) / loops * 1e6)
    return min(samples)


def bench_patches(ops: list[list[Any]], runs: int, loops: int) -> dict[str, Any]:
    data = encode_patches(41, 1234, ops)
    assert decode(data, SERVER_FRAME_LIMITS).ops == ops  # type: ignore[union-attr]
    encode_us = _time_us(lambda: encode_patches(41, 1234, ops), runs, loops)
    decode_us = _time_us(lambda: decode(data, SERVER_FRAME_LIMITS), runs, loops)
    return {
        "ops": len(ops),
        "bytes": len(data),
        "bytes_per_op": round(len(data) / len(ops), 1),
        "encode_us": round(encode_us, 2),
        "encode_us_per_op": round(encode_us / len(ops), 4),
        "decode_us": round(decode_us, 2),
        "decode_us_per_op": round(decode_us / len(ops), 4),
    }


def bench_event(event: Event, runs: int, loops: int) -> dict[str, Any]:
    data = encode(event)
    assert decode_client(data) == event
    args = (event.seq, event.hid, event.type, event.payload)
    return {
        "bytes": len(data),
        "encode_us": round(_time_us(lambda: encode_event(*args), runs, loops), 3),
        "decode_us": round(_time_us(lambda: decode_client(data), runs, loops), 3),
    }


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench codec", description=__doc__)
    parser.add_argument("--runs", type=int, default=15, help="timed batches (best reported)")
    parser.add_argument("--loops", type=int, default=200, help="calls per batch")
    args = parser.parse_args(argv)
    big_loops = max(1, args.loops // 20)
    result = {
        "benchmark": "codec",
        "python": sys.version.split()[0],
        "runs": args.runs,
        "loops": args.loops,
        "patches_1000_mixed": bench_patches(mixed_ops(1000), args.runs, big_loops),
        "patches_counter": bench_patches([[0, 3, 0, "10"]], args.runs, args.loops * 10),
        "events": {
            name: bench_event(event, args.runs, args.loops * 10) for name, event in EVENTS.items()
        },
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main(sys.argv[1:])
