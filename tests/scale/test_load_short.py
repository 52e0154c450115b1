"""The load benchmark's short version: the lean client drives a real server, in one process
and split over two client processes; idle sessions are split into page and connection."""

from __future__ import annotations

import trio

from bench._lean import OP_BINARY, RawWS, client_frame
from bench.load import VangoDriver, idle_rss, throughput, vango_server


def test_client_frame_is_masked_with_key_zero() -> None:
    assert client_frame(OP_BINARY, b"abc") == b"\x82\x83\x00\x00\x00\x00abc"
    assert client_frame(OP_BINARY, b"x" * 200)[:4] == b"\x82\xfe\x00\xc8"


def test_lean_client_throughput_in_one_and_two_processes() -> None:
    server = vango_server("fast", 1)
    try:
        for procs in (1, 2):
            result = throughput(VangoDriver(), server, 4, 0.5, warmup=0.3, client_procs=procs)
            assert result["updates"] > 0 and result["client_procs"] == procs
            # 17 B click (6 B header + mask) + 14 B PATCHES (2 B header), a PING now and then
            assert 30 <= result["bytes_per_click"]["total"] < 40
            assert result["server_cpu_us_per_update"] > 0
    finally:
        server.stop()


def test_idle_sessions_split_page_and_connection() -> None:
    server = vango_server("fast", 1)
    try:
        result = trio.run(idle_rss, VangoDriver(), server, 20)
        assert result["sessions"] == result["connected_at_measure"] == 20
        assert set(result) >= {"page_bytes_per_session", "connection_bytes_per_session"}
    finally:
        server.stop()


def test_raw_ws_reports_a_refused_upgrade() -> None:
    server = vango_server("fast", 1)

    async def refused() -> str:
        with trio.fail_after(10):
            try:
                await RawWS.connect(server.base_url.replace("http", "ws") + "/nope", [0, 0])
            except RuntimeError as exc:
                return str(exc)
        return "upgraded"

    try:
        assert "upgrade refused" in trio.run(refused)
    finally:
        server.stop()
