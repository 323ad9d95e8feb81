"""Log set-up: JSON lines for machines, text for people, the request's id on every line.

    configure_logging("json", "INFO")

A line logged while a request runs carries that request's `request_id` (the trace id when
tracing is on), so an error answer's id finds its traceback. Access lines carry their fields
(`fields` in `extra`) at the top level of the JSON object.
"""

from __future__ import annotations

import logging
import sys
from datetime import UTC, datetime
from typing import Any

import orjson

from gql_badges.observability import context

# The attributes every LogRecord has; anything else came in through `extra`.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message"}


def _request_id() -> str | None:
    record = context.current()
    return record.request_id if record is not None else None


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            line.update(fields)
        elif (request_id := _request_id()) is not None:
            line["request_id"] = request_id
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(line, default=str).decode()


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            shown = (f"{key}={value!r}" for key, value in fields.items() if value is not None)
            return f"{text} " + " ".join(shown)
        if (request_id := _request_id()) is not None:
            return f"{text} request_id={request_id}"
        return text


def configure_logging(log_format: str | None, level: str) -> None:
    """Root logging for `serve` and `load`: JSON unless stdout is a terminal, or as asked."""
    if log_format is None:
        log_format = "text" if sys.stdout.isatty() else "json"
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    logging.basicConfig(level=level.upper(), handlers=[handler], force=True)


__all__ = ["JsonFormatter", "TextFormatter", "configure_logging"]
