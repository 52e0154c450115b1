"""`bench compare`'s interleaved click rounds: apps take turns on fresh servers, and each
app's figure is its median round (the box's speed drifts; a drift hits every app alike)."""

from __future__ import annotations

from typing import Any

from bench.compare import App, median_round, round_ratios, throughput_rounds
from bench.load import ServerProcess, VangoDriver, vango_server


def test_rounds_alternate_between_apps_on_fresh_servers() -> None:
    started: list[tuple[str, int, ServerProcess]] = []

    def starter(name: str) -> Any:
        def make(workers: int) -> ServerProcess:
            server = vango_server("fast", workers)
            started.append((name, workers, server))
            return server

        return make

    apps = [
        App("a", starter("a"), VangoDriver(), "/counter"),
        App("b", starter("b"), VangoDriver(), "/counter", workers=2),
    ]
    rounds = throughput_rounds(apps, 2, sessions=3, duration=0.4, warmup=0.2)

    assert [(name, workers) for name, workers, _ in started] == [("a", 1), ("b", 2)] * 2
    assert len({id(server) for _, _, server in started}) == 4  # a fresh server per round
    assert all(server.process.poll() is not None for _, _, server in started)  # all stopped
    for name in ("a", "b"):
        assert len(rounds[name]) == 2
        assert all(r["updates"] > 0 and "error" not in r for r in rounds[name])
    assert len(round_ratios(rounds["a"], rounds["b"])) == 2


def test_median_round_and_ratios_skip_failed_rounds() -> None:
    runs: list[dict[str, Any]] = [
        {"updates_per_s": 300},
        {"error": "RuntimeError: boom"},
        {"updates_per_s": 100},
    ]
    assert median_round(runs) == {"updates_per_s": 100}  # the lower of an even count
    runs.append({"updates_per_s": 200})
    assert median_round(runs) == {"updates_per_s": 200}
    assert median_round([{"error": "x"}, {"error": "y"}]) == {"error": "x"}

    ours: list[dict[str, Any]] = [{"updates_per_s": 600}, {"updates_per_s": 500}, {"error": "x"}]
    theirs: list[dict[str, Any]] = [{"updates_per_s": 300}, {"error": "y"}, {"updates_per_s": 250}]
    assert round_ratios(ours, theirs) == [2.0]
