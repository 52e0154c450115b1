"""Structured logs: session id and component path on every runtime error record.

The runtime logs through the ``vango_actors`` logger family and attaches structured fields
with ``extra=``: ``session_id``, ``component`` (the path, ``Page/List/Row[key=3]``) and
``where`` (mount, render, handler, timer...). :class:`JsonFormatter` writes one JSON object per
line with those fields; :class:`TextFormatter` appends them as ``key=value``.
:func:`configure` installs one of them on the root logger; :func:`dict_config` returns the same
setup for ``logging.config.dictConfig`` (the CLI hands it to hypercorn's ``--log-config``).
"""

from __future__ import annotations

import json
import logging
import logging.config
import time
from typing import Any, Literal

FIELDS = ("session_id", "component", "where", "route")
"""Structured fields copied from a record's ``extra`` into the output, when present."""

LogFormat = Literal["text", "json"]


def record_fields(record: logging.LogRecord) -> dict[str, Any]:
    """The structured fields a record carries (only those that were set)."""
    return {name: getattr(record, name) for name in FIELDS if hasattr(record, name)}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, the fields, the traceback."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": _iso(record.created),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **record_fields(record),
        }
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        return json.dumps(out, default=str)


class TextFormatter(logging.Formatter):
    """``time level logger: message [session_id=... component=...]`` plus the traceback."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def formatMessage(self, record: logging.LogRecord) -> str:
        text = super().formatMessage(record)
        fields = record_fields(record)
        if fields:
            text += " [" + " ".join(f"{k}={v}" for k, v in fields.items()) + "]"
        return text


def dict_config(format: LogFormat = "text", level: str = "INFO") -> dict[str, Any]:
    """A ``logging.config.dictConfig`` mapping: one stderr handler on the root logger."""
    formatter = JsonFormatter if format == "json" else TextFormatter
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"vango": {"()": f"{formatter.__module__}.{formatter.__qualname__}"}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "vango",
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"level": level.upper(), "handlers": ["stderr"]},
    }


def configure(format: LogFormat = "text", level: str = "INFO") -> None:
    """Send every log record to stderr in ``format`` (``"text"`` or ``"json"``)."""
    if format not in ("text", "json"):
        raise ValueError(f"log format: expected 'text' or 'json', got {format!r}")
    logging.config.dictConfig(dict_config(format, level))


def _iso(created: float) -> str:
    millis = int(created * 1000) % 1000
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(created)) + f".{millis:03d}Z"
