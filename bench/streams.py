"""Server memory of a 10,000-item feed: a keyed list in the component vs. a Stream.

What a session retains for the feed, measured with tracemalloc after the items were added in
batches (as a page adding rows over time does):
- ``list``: the items in component state plus the mounted vdom tree (elements with hids), the
  way a keyed ``h.ul(*rows)`` page keeps them to diff the next render;
- ``stream``: the :class:`Stream` after the same appends (each batch's HTML is rendered,
  handed to the runtime as a CALL op, encoded into a frame and dropped).
The replay buffer (a bounded number of recent frames, the same for both) is not counted.
Prints one JSON document.

    python -m bench streams [--items 10000] [--batch 1000]
"""

from __future__ import annotations

import argparse
import gc
import json
import tracemalloc
from typing import Any

from vango_actors.component import Component
from vango_actors.diff import assign_hids, diff
from vango_actors.protocol import encode_patches
from vango_actors.streams import Stream
from vango_actors.vdom import Element, HidCounter, Node, h


def _row(item: dict[str, Any]) -> Element:
    return h.li(h.span(item["text"], class_="text"), " ", h.button("x", class_="del"))


def _keyed_row(item: dict[str, Any]) -> Element:
    return h.li(
        h.span(item["text"], class_="text"), " ", h.button("x", class_="del"), key=item["id"]
    )


def _items(start: int, n: int) -> list[dict[str, Any]]:
    return [{"id": i, "text": f"item {i} of the feed"} for i in range(start, start + n)]


class _Runtime:
    """Encodes each op into a frame at once and drops it, as the session does."""

    def __init__(self) -> None:
        self.bytes = 0

    def page_op(self, op: list[Any]) -> None:
        self.bytes += len(encode_patches(1, 1, [op]))


class _Host:
    def __init__(self) -> None:
        self.runtime = _Runtime()

    def mark_dirty(self) -> None:
        pass


def _list_case(total: int, batch: int) -> tuple[object, int]:
    items: list[dict[str, Any]] = []
    ids = HidCounter()
    tree: Node = assign_hids(h.ul(), ids)
    sent = 0
    for start in range(0, total, batch):
        items.extend(_items(start, batch))
        new = h.ul(*[_keyed_row(item) for item in items])
        ops, tree = diff(tree, new, ids)
        sent += len(encode_patches(1, 1, ops))
    return (items, tree), sent


def _stream_case(total: int, batch: int) -> tuple[object, int]:
    owner = Component()
    host = _Host()
    object.__setattr__(owner, "_vango_host", host)
    stream: Stream[dict[str, Any]] = Stream(owner, "feed", _row, tag="ul")
    stream.container()  # the first render: from now on items are only sent
    for start in range(0, total, batch):
        stream.append(_items(start, batch))
    return (owner, stream), host.runtime.bytes


def _retained(case: Any, total: int, batch: int) -> tuple[int, int]:
    """The bytes that what ``case`` keeps holds alone: freed when it is dropped. Memory the
    process shares across sessions (the vdom's bounded cache of short texts, which fills and
    starts over as any render goes) is not the feed's, and would make the figure depend on
    what ran before."""
    gc.collect()
    tracemalloc.start()
    kept, sent = case(total, batch)
    gc.collect()
    held = tracemalloc.get_traced_memory()[0]
    del kept
    gc.collect()
    size = held - tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    return size, sent


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench streams")
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=1000)
    args = parser.parse_args(argv)
    list_bytes, list_sent = _retained(_list_case, args.items, args.batch)
    stream_bytes, stream_sent = _retained(_stream_case, args.items, args.batch)
    print(
        json.dumps(
            {
                "bench": "streams",
                "items": args.items,
                "batch": args.batch,
                "retained_bytes": {"list": list_bytes, "stream": stream_bytes},
                "per_item_bytes": {
                    "list": round(list_bytes / args.items, 1),
                    "stream": round(stream_bytes / args.items, 2),
                },
                "wire_bytes": {"list": list_sent, "stream": stream_sent},
            },
            indent=2,
        )
    )
