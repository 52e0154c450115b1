"""A short run of ``python -m bench render_diff``: one JSON document, lazy ops equal plain ops."""

from __future__ import annotations

import contextlib
import io
import json

from bench import render_diff


def test_short_render_diff_run_reports_every_case_and_lazy_sends_the_same_ops() -> None:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        render_diff.main(["--rows", "60", "--runs", "2"])
    report = json.loads(out.getvalue())
    assert report["benchmark"] == "render_diff" and report["nodes"] == 60 * 11 + 2
    cases = report["cases"]
    for name in ("one_row_text", "reverse", "ten_percent_churn"):
        plain, lazy = cases[name], cases[f"{name}_lazy"]
        assert lazy["ops_by_code"] == plain["ops_by_code"]
        assert lazy["patches_frame_bytes"] == plain["patches_frame_bytes"]
        assert set(lazy["render_plus_diff_cpu"]) == {"median_ms", "p90_ms"}
    assert cases["one_row_text"]["ops_by_code"] == {"TEXT": 2}
