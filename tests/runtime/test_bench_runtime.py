"""A short run of ``python -m bench runtime``'s in-process cases (the figures are not asserted)."""

from __future__ import annotations

from functools import partial

import trio

from bench.hotpath import PAGES, PATHS, _case
from bench.runtime import Counter, _hids, _own_reads, _round_trips
from vango_actors import SessionManager


async def test_the_fast_door_shaped_case_reads_and_answers_every_event(rt: SessionManager) -> None:
    with trio.fail_after(10):
        reads = await _own_reads(rt, Counter, {}, _hids("#inc"), 30)
        trips = await _round_trips(rt, Counter, {}, _hids("#inc"), 30)
    assert reads["events"] == trips["events"] == 30
    assert reads["bytes_per_frame"] > 0 and trips["bytes_per_frame"] > 0


async def test_bench_hotpath_runs_each_case() -> None:
    with trio.fail_after(20):
        for page in PAGES:
            for path in PATHS:
                marks: list[int] = []
                cpu = await _case(page, path, 10, partial(marks.append, 1))
                assert cpu >= 0 and marks == [1], (page, path)
