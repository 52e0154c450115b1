"""A short run of `python -m bench fanout` (in process, both doors): it completes and reports."""

from __future__ import annotations

import pytest
import trio

from bench.fanout import _in_process


@pytest.mark.parametrize("door", ["asgi", "fast"])
async def test_fanout_bench_reaches_every_session(door: str) -> None:
    with trio.fail_after(30):
        result = await _in_process(20, 2, door)
    assert result["door"] == door
    assert result["sessions"] == 20 and result["messages"] == 2
    assert set(result) >= {"all_written_ms_median", "all_written_ms_max", "cpu_ms_median"}


async def test_fanout_bench_across_two_processes_via_redis() -> None:
    from bench.fanout import _redis_sessions

    with trio.fail_after(60):
        result = await _redis_sessions(20, 2)
    assert result["processes"] == 2 and result["sessions"] == 20
    assert set(result) >= {"all_written_ms_median", "all_written_ms_max", "cpu_ms_median"}
