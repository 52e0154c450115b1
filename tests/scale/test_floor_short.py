"""`bench floor`'s short version: every server shape answers every request of every socket."""

from __future__ import annotations

import pytest

from bench.floor import MODES, run_mode


@pytest.mark.parametrize("mode", MODES)
def test_each_shape_serves_round_trips(mode: str) -> None:
    result = run_mode(mode, 5, 0.4)
    assert result["round_trips_per_s"] > 100
    assert result["server_cpu_us_per_round_trip"] > 0
    shape = result["latency_over_mean"]
    assert shape["p10"] <= shape["p50"] <= shape["p90"] <= shape["p99"]
