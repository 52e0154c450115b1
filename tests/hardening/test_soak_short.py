"""The soak benchmark's short version: every event accounted for, nothing left behind."""

from __future__ import annotations

from bench.soak import run


def test_short_soak_accounts_for_every_event_and_leaks_nothing() -> None:
    result = run(sessions=20, duration=3.0, rate=5.0, grace=2.0, ramp=0.5)
    assert result["count_mismatches"] == [] and result["failures"] == []
    assert result["events_handled_delta"] == result["events_acked"] == result["events_sent"] > 0
    assert result["events_dropped_delta"] == 0
    assert result["restarts_delta"] == result["crashes"] == result["crash_errors_received"]
    assert result["other_errors_first"] == [] and result["connections_cut"] == 0
    assert result["connections"] >= 20
    assert result["fds_end"] == result["fds_baseline"]
    assert result["tasks_end"] == result["tasks_baseline"]
    assert set(result["sessions_left"].values()) == {0}
    assert result["live_connections_open_end"] == 0
