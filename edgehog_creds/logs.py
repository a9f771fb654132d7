"""How the process logs: plain lines (the default) or JSON lines
(EDGEHOG_CREDS_LOG_FORMAT=json), each with the request it belongs to.

A request's context (its id, tenant and operation) lives in a ContextVar set
by the access log (http/access_log.py) and the GraphQL endpoint, so every line
logged while the request runs carries it. Log lines never hold a secret: the
code logs names, types and counts only (graphql/errors.py `log_exception`).
"""

from __future__ import annotations

import logging
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

import orjson

# The request a line belongs to: {"request_id", "tenant", "operation"}, as known.
REQUEST: ContextVar[dict[str, str] | None] = ContextVar("edgehog_creds_request", default=None)

FORMATS = ("text", "json")
TEXT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def note(**fields: str) -> None:
    """Add to the current request's context (its tenant, its operation)."""
    current = REQUEST.get()
    if current is not None:
        current.update(fields)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        request = REQUEST.get()
        if request:
            line.update(request)
        http = getattr(record, "http", None)
        if isinstance(http, dict):
            line.update(http)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(line).decode()


def configure(log_format: str) -> None:
    """Set up the root logger."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else logging.Formatter(TEXT))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)


def uvicorn_log_config(log_format: str) -> dict[str, Any] | None:
    """The `log_config` uvicorn should take: its own for text; None for JSON,
    which leaves its loggers to the root's JSON handler."""
    if log_format == "json":
        return None
    from uvicorn.config import LOGGING_CONFIG

    return LOGGING_CONFIG
