"""The Origin rule of the live socket: the page's own origin, or an allowed one, nothing else."""

from __future__ import annotations

import pytest

from vango_actors.live import check_origin, close_reason, page_origin, session_id_from_path


@pytest.mark.parametrize(
    ("origin", "host", "scheme"),
    [
        ("http://127.0.0.1:8000", "127.0.0.1:8000", "ws"),
        ("https://example.com", "example.com", "wss"),
        ("https://example.com:443", "example.com", "wss"),  # default port spelled out
        ("http://EXAMPLE.com", "example.com:80", "http"),  # case, default port in Host
    ],
)
def test_the_pages_own_origin_is_allowed(origin: str, host: str, scheme: str) -> None:
    assert check_origin(origin, host, scheme) is None


def test_another_origin_is_refused_with_what_was_expected() -> None:
    assert check_origin("http://evil.example", "127.0.0.1:8000", "ws") == (
        "Origin 'http://evil.example' is not allowed: expected 'http://127.0.0.1:8000'"
    )


@pytest.mark.parametrize(
    "origin",
    ["https://127.0.0.1:8000", "http://127.0.0.1:8001", "null", "http://127.0.0.1:x", "file://"],
)
def test_scheme_port_or_garbage_mismatch_is_refused(origin: str) -> None:
    assert check_origin(origin, "127.0.0.1:8000", "ws") is not None


def test_a_missing_origin_is_refused() -> None:
    assert check_origin(None, "127.0.0.1:8000", "ws") == (
        "missing Origin header: expected 'http://127.0.0.1:8000'"
    )
    assert check_origin("", "127.0.0.1:8000", "ws") is not None


def test_the_allow_list_adds_origins_and_names_them_when_refusing() -> None:
    allowed = ["https://app.example.com"]
    assert check_origin("https://app.example.com:443", "internal:8000", "ws", allowed) is None
    assert check_origin("http://internal:8000", "internal:8000", "ws", allowed) is None
    assert check_origin("https://evil.example", "internal:8000", "ws", allowed) == (
        "Origin 'https://evil.example' is not allowed: expected 'http://internal:8000'"
        " or one of ['https://app.example.com']"
    )


def test_a_star_allows_any_origin_but_not_a_missing_one() -> None:
    assert check_origin("https://anything.example", "h:1", "ws", ["*"]) is None
    assert check_origin(None, "h:1", "ws", ["*"]) is not None


def test_page_origin_maps_socket_schemes_to_page_schemes() -> None:
    assert page_origin("h:1", "ws") == "http://h:1"
    assert page_origin("h", "wss") == "https://h"


def test_session_id_from_path() -> None:
    assert session_id_from_path("/vango/live/abc_-1") == "abc_-1"
    assert session_id_from_path("/vango/live/") is None
    assert session_id_from_path("/vango/live/a/b") is None
    assert session_id_from_path("/other/abc") is None


def test_close_reasons_fit_a_close_frame() -> None:
    assert close_reason("short") == "short"
    assert close_reason("x" * 200) == "x" * 123
    assert close_reason("é" * 100) == "é" * 61  # 2-byte characters are never cut in half
