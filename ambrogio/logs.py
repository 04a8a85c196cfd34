"""Logs as one JSON object per line, for a log collector to index without parsing prose.

Each line has ``time`` (UTC, ISO 8601), ``level``, ``logger``, ``message`` and ``pid`` (the
worker process); the request lines of ``ambrogio.access`` add their fields (``requestId``,
``caller``, ``operation``, ``durationMs``, ``status``, ``cost``, …, see
``ambrogio.http.requests``), and an exception its ``exception`` text.
``AMBROGIO_LOG_FORMAT=text`` keeps uvicorn's plain lines instead.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

import orjson

PASSTHROUGH = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "pid": record.process,
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            line.update(fields)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        try:
            # A line per request: orjson formats it in half json's time; dates and
            # dataclasses still as ``str`` gives them, as with json.
            return orjson.dumps(line, default=str, option=PASSTHROUGH).decode()
        except TypeError:  # what orjson refuses (an integer over 64 bits, a non-text key)
            return json.dumps(line, default=str)


def log_config(log_format: str) -> dict[str, Any]:
    """uvicorn's ``log_config``: JSON lines on stderr, ours and uvicorn's; uvicorn's own access
    log is off, since ``ambrogio.access`` writes a richer line per request."""
    if log_format == "text":
        handler = {"class": "logging.StreamHandler", "formatter": "text"}
        access_level = "INFO"
    else:
        handler = {"class": "logging.StreamHandler", "formatter": "json"}
        access_level = "WARNING"
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "json": {"()": JsonFormatter},
            "text": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
        },
        "handlers": {"default": {**handler, "stream": "ext://sys.stderr"}},
        "loggers": {
            "": {"handlers": ["default"], "level": "INFO"},
            "uvicorn": {"handlers": [], "level": "INFO", "propagate": True},
            "uvicorn.access": {"handlers": [], "level": access_level, "propagate": True},
        },
    }
