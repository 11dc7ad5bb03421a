"""One structured log line per command, delivery, sweep and webhook, and the logging set-up (text or JSON).

`log_event(log, "command", name="claim", outcome="ok", seconds=0.012, workspace="slack:T1", platform="slack")`
writes one line carrying the request id (a context variable each face sets per request; a new one otherwise),
the workspace, the platform, the outcome and the duration. With LOG_FORMAT=json every line is one JSON object
(python-json-logger), these fields as keys. Only names, ids, outcomes and numbers go in: never a secret, a
token, or what a person or customer typed.
"""

from __future__ import annotations

import contextvars
import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from pythonjsonlogger.json import JsonFormatter

REQUEST_ID: contextvars.ContextVar[str | None] = contextvars.ContextVar("ownerbot_request_id", default=None)
# Libraries that write request bodies or SQL parameters (customers' words, tokens) at DEBUG: never below INFO,
# and SQLAlchemy's echo (parameters at INFO) never below WARNING, whatever LOG_LEVEL says.
QUIET_LIBRARIES = {
    "aiosqlite": logging.INFO,
    "asyncpg": logging.INFO,
    "sqlalchemy": logging.WARNING,
    "alembic.runtime.plugins": logging.WARNING,  # set-up chatter when alembic loads (only for a migration)
    "slack_sdk": logging.INFO,
    "slack_bolt": logging.INFO,
    "botbuilder": logging.INFO,
    "botframework": logging.INFO,
    "msrest": logging.INFO,
    "urllib3": logging.INFO,
    "aiohttp.access": logging.WARNING,
    "apscheduler.executors.default": logging.WARNING,  # not a line per tick
}
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
JSON_FIELDS = "%(asctime)s %(levelname)s %(name)s %(message)s"


def new_request_id() -> str:
    return uuid.uuid4().hex[:16]


def request_id() -> str:
    """The current request's id, or a new one when none is bound (a tick, a console line)."""
    return REQUEST_ID.get() or new_request_id()


@contextmanager
def bound_request_id(value: str | None = None) -> Iterator[str]:
    """Bind a request id (the caller's, e.g. from X-Request-Id, or a new one) for the work inside."""
    current = value or REQUEST_ID.get() or new_request_id()
    token = REQUEST_ID.set(current)
    try:
        yield current
    finally:
        REQUEST_ID.reset(token)


def log_event(
    logger: logging.Logger,
    kind: str,
    *,
    name: str,
    outcome: str,
    seconds: float,
    workspace: str | None = None,
    platform: str | None = None,
    level: int = logging.INFO,
    **fields: str | int | float | None,
) -> None:
    """One line for one command / delivery / sweep / webhook. `fields` are extra ids and counts (never text)."""
    if not logger.isEnabledFor(level):  # a server logging warnings only builds no line per command
        return
    record = {
        "event": kind,
        kind: name,  # {"event": "command", "command": "claim"}
        "outcome": outcome,
        "duration_ms": round(seconds * 1000, 1),
        "request_id": request_id(),
        "workspace": workspace,
        "platform": platform,
        **fields,
    }
    extras = " ".join(f"{k}={v}" for k, v in record.items() if k not in ("event", kind, "outcome") and v is not None)
    logger.log(level, "%s %s %s %s", kind, name, outcome, extras, extra=record)


class _RequestIdFilter(logging.Filter):
    """Every line, not only ours, carries the request id it was written under (when there is one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = REQUEST_ID.get()
        return True


def configure_logging(level: str, log_format: str) -> None:
    """The root logger: one handler on stderr, text lines (default) or one JSON object per line."""
    handler = logging.StreamHandler()
    if log_format == "json":
        handler.setFormatter(JsonFormatter(JSON_FIELDS, rename_fields={"levelname": "level", "name": "logger"}))
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    handler.addFilter(_RequestIdFilter())
    logging.basicConfig(level=level.upper(), handlers=[handler], force=True)
    for name, floor in QUIET_LIBRARIES.items():
        logger = logging.getLogger(name)
        logger.setLevel(max(floor, logger.getEffectiveLevel()))
