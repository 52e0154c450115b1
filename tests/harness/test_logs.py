"""Structured logs: every runtime error record carries the session id and component path."""

from __future__ import annotations

import json
import logging

import pytest

from vango_actors.logs import JsonFormatter, TextFormatter, configure, dict_config
from vango_actors.testing import Harness


async def test_a_crash_is_logged_with_session_and_component(
    vango: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    view = await vango.mount("/crash")
    with caplog.at_level(logging.ERROR, logger="vango_actors"):
        await view.click("#boom")
    [record] = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert record.session_id == view.session_id  # type: ignore[attr-defined]
    assert record.component == "CrashPage/Bomb[key=bomb]"  # type: ignore[attr-defined]
    assert record.where == "on_click handler"  # type: ignore[attr-defined]

    line = json.loads(JsonFormatter().format(record))
    assert line["session_id"] == view.session_id
    assert line["component"] == "CrashPage/Bomb[key=bomb]"
    assert line["level"] == "ERROR" and line["logger"] == record.name
    assert "Boom: the #boom button was pressed" in line["exception"]
    text = TextFormatter().format(record)
    assert f"[session_id={view.session_id} component=CrashPage/Bomb[key=bomb]" in text


def test_configure_checks_the_format_and_builds_a_dict_config() -> None:
    with pytest.raises(ValueError, match="expected 'text' or 'json', got 'xml'"):
        configure("xml")  # type: ignore[arg-type]
    config = dict_config("json", "warning")
    assert config["formatters"]["vango"]["()"] == "vango_actors.logs.JsonFormatter"
    assert config["root"]["level"] == "WARNING"
