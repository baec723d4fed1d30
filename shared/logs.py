"""Log lines as text (for people) or JSON, one object a line (for collectors), chosen by
``EVENEMANG_LOG_FORMAT``; what a line is about (an event, a booking, a delivery) is bound
once with :func:`log_context` and carried by every line logged inside it."""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Iterator
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

_context: ContextVar[dict[str, Any] | None] = ContextVar("evenemang_log_context", default=None)

# Fields a line may carry: bound by log_context, or given as logging's ``extra``.
FIELDS = ("event_id", "event_type", "booking_id", "delivery_id", "message_id", "event_ids")
TEXT_FORMAT = "%(asctime)s %(process)d %(name)s %(levelname)s %(message)s"


@contextlib.contextmanager
def log_context(**fields: Any) -> Iterator[None]:
    """Every line logged inside (in this thread or task) carries ``fields``."""
    token = _context.set({**(_context.get() or {}), **{k: v for k, v in fields.items() if v}})
    try:
        yield
    finally:
        _context.reset(token)


def _fields(record: logging.LogRecord) -> dict[str, Any]:
    found = dict(_context.get() or {})
    found.update({name: getattr(record, name) for name in FIELDS if hasattr(record, name)})
    return found


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (UTC), level, logger, process, message, the bound
    fields, and the exception's traceback when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "pid": record.process,
            "message": record.getMessage(),
            **_fields(record),
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """The usual line, and the bound fields after it as ``name=value``."""

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 - logging's name
        text = super().formatMessage(record)
        fields = _fields(record)
        return f"{text} [{' '.join(f'{k}={v}' for k, v in fields.items())}]" if fields else text


def configure_logging(log_format: str = "text", level: int = logging.INFO) -> None:
    """Log to stderr in ``log_format`` ("text" or "json") unless the process already logs
    somewhere (a test runner's capture, a host's own setup): then nothing changes."""
    root = logging.getLogger()
    if root.handlers:
        return
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    root.addHandler(handler)
    root.setLevel(level)
