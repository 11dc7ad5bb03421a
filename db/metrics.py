"""Every Prometheus metric ownerbot exports (`GET /metrics`), defined once, at the bottom layer so every package
may count: call sites are one line (`metrics.count_delivery("slack", "nudge", "sent")`).

Labels stay bounded: command names come from the registry (anything else is `other`), outcomes and purposes
are short fixed words. No label ever holds a customer, a person or typed text.
"""

from __future__ import annotations

import logging

from prometheus_client import Counter, Gauge, Histogram

from .structured_logs import log_event

log = logging.getLogger("ownerbot.delivery")

COMMANDS = Counter(
    "ownerbot_commands",
    "Commands and button actions handled, by name and outcome (ok, refused, error, busy)",
    ["command", "outcome"],
)
COMMAND_SECONDS = Histogram(
    "ownerbot_command_seconds",
    "Time to handle one command or button action, its transaction included",
    ["command"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
MESSAGES = Counter(
    "ownerbot_messages",
    "Messages the bot sent on its own, by platform, purpose (nudge, gesture, notice ...) and outcome "
    "(sent, failed, retried)",
    ["platform", "purpose", "outcome"],
)
NUDGES_DUE = Gauge("ownerbot_nudges_due", "Nudges whose time has come and that are not sent yet (at the last scrape)")
NUDGES_OVERDUE = Gauge(
    "ownerbot_nudges_overdue", "Of the due nudges, those waiting longer than two ticks: the sender is behind"
)
SWEEP_SECONDS = Histogram(
    "ownerbot_sweep_seconds",
    "Time one scheduled job took in a tick (nudges, gestures)",
    ["job"],
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0),
)
SWEEPS = Counter("ownerbot_sweeps", "Scheduled job runs, by job and outcome (ok, error)", ["job", "outcome"])
WEBHOOK_DELIVERIES = Counter(
    "ownerbot_webhook_deliveries",
    "Helpdesk webhook deliveries, by source and outcome (applied, duplicate, refused, unauthorized, error)",
    ["source", "outcome"],
)
DATABASE_ERRORS = Counter("ownerbot_database_errors", "Errors raised by the database driver, by error class", ["error"])
DATABASE_STATEMENTS = Counter(
    "ownerbot_database_statements", "SQL statements sent to the database (BEGIN and COMMIT not included)"
)
DATABASE_TRANSACTIONS = Counter("ownerbot_database_transactions", "Database transactions begun")


def count_command(command: str, outcome: str, seconds: float) -> None:
    COMMANDS.labels(command, outcome).inc()
    COMMAND_SECONDS.labels(command).observe(seconds)


def count_delivery(
    platform: str, purpose: str, outcome: str, *, seconds: float = 0.0, workspace: str | None = None
) -> None:
    """One message the bot sent on its own (outcome: sent, failed or retried): counted, and one log line."""
    MESSAGES.labels(platform, purpose, outcome).inc()
    log_event(
        log,
        "delivery",
        name=purpose,
        outcome=outcome,
        seconds=seconds,
        platform=platform,
        workspace=f"{platform}:{workspace}" if workspace else None,
    )


def count_sweep(job: str, outcome: str, seconds: float) -> None:
    SWEEPS.labels(job, outcome).inc()
    SWEEP_SECONDS.labels(job).observe(seconds)


def count_webhook(source: str, outcome: str) -> None:
    WEBHOOK_DELIVERIES.labels(source, outcome).inc()


def count_database_error(error: str) -> None:
    DATABASE_ERRORS.labels(error).inc()


def count_statement() -> None:
    DATABASE_STATEMENTS.inc()


def count_transaction() -> None:
    DATABASE_TRANSACTIONS.inc()


def set_nudges(*, due: int, overdue: int) -> None:
    NUDGES_DUE.set(due)
    NUDGES_OVERDUE.set(overdue)
