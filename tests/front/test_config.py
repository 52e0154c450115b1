"""Settings from VANGO_* variables."""

from __future__ import annotations

import pytest

from vango_actors.config import ConfigError, Settings


def test_defaults_make_up_a_per_process_key_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    a = Settings.from_env({})
    b = Settings.from_env({})
    assert a.routes == "app_routes" and not a.dev
    assert a.secret_key_generated and len(a.secret_keys) == 1
    assert a.secret_keys != b.secret_keys
    assert "VANGO_SECRET_KEY is not set" in caplog.text


def test_variables_are_read() -> None:
    s = Settings.from_env(
        {
            "VANGO_ROUTES": "my_routes",
            "VANGO_SECRET_KEY": "new, old",
            "VANGO_DEV": "1",
            "VANGO_ALLOWED_ORIGINS": "https://a.example,https://b.example",
            "VANGO_LIVE_PORT": "9001",
            "VANGO_MAX_SESSIONS": "5",
            "VANGO_UNCLAIMED_TTL": "2.5",
            "VANGO_DISCONNECT_GRACE": "7",
            "VANGO_GOING_AWAY_GRACE": "1.5",
            "VANGO_REPLAY_BYTES": "1024",
            "VANGO_OUTBOX_BYTES": "2048",
            "VANGO_STALL_TIMEOUT": "4.5",
            "OTHER": "ignored",
        }
    )
    assert s.routes == "my_routes"
    assert s.secret_keys == ("new", "old") and not s.secret_key_generated
    assert s.dev and s.live_port == 9001
    assert s.allowed_origins == ("https://a.example", "https://b.example")
    assert s.stall_timeout == 4.5
    assert s.runtime_config() == {
        "max_sessions": 5,
        "unclaimed_ttl": 2.5,
        "grace_period": 7.0,
        "going_away_grace": 1.5,
        "heartbeat_ms": 15_000,
        "replay_bytes": 1024,
        "outbox_bytes": 2048,
        "dev": True,
    }


def test_overrides_win_over_the_environment() -> None:
    s = Settings.from_env({"VANGO_DEV": "0", "VANGO_SECRET_KEY": "k"}, dev=True, secret_keys="x,y")
    assert s.dev and s.secret_keys == ("x", "y")


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"VANGO_DEV": "maybe"}, "VANGO_DEV: expected 1/0 (or true/false), got 'maybe'"),
        ({"VANGO_MAX_SESSIONS": "lots"}, "VANGO_MAX_SESSIONS: expected an integer, got 'lots'"),
        ({"VANGO_UNCLAIMED_TTL": "-1"}, "VANGO_UNCLAIMED_TTL: expected a value >= 0, got '-1'"),
        (
            {"VANGO_PUBSUB": "redis://127.0.0.1:abc"},
            "VANGO_PUBSUB: expected redis://[user:password@]host:port[/db] with a port 0-65535, "
            "got 'redis://127.0.0.1:abc'",
        ),
        (
            {"VANGO_PUBSUB": "rediss://h:70000/0"},
            "VANGO_PUBSUB: expected redis://[user:password@]host:port[/db] with a port 0-65535, "
            "got 'rediss://h:70000/0'",
        ),
    ],
)
def test_bad_values_say_what_was_expected(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        Settings.from_env({"VANGO_SECRET_KEY": "k", **env})
    assert str(info.value) == message


def test_unknown_override_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"unknown setting\(s\) \['colour'\]"):
        Settings.from_env({}, colour="blue")
