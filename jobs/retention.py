"""Retention: rows that only record what already happened are pruned by age, a small batch at a time.

Each `Pruned` names a table, the column that dates a row, and what else makes a row finished with (a nudge whose
episode is done, a gesture message that is sent and whose proposal is closed). The ticker calls `Retention.tick`;
each batch is one short transaction that deletes at most `batch` rows by primary key, oldest first, through an
index on the dating column, so a large backlog drains over a few ticks without a long lock. Adding a table is one
line in `PRUNED` (plus an index on its dating column in the same migration).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, delete, exists, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased

from db.clock import Clock
from db.models import (
    DeliveryStatus,
    NudgeDelivery,
    NudgeEpisode,
    OutboxMessage,
    OutboxStatus,
    SlackEvent,
    WebhookDelivery,
)

log = logging.getLogger(__name__)

Condition = Callable[[datetime], Sequence[ColumnElement[bool]]]
FINISHED_NUDGES = (DeliveryStatus.SENT, DeliveryStatus.BUNDLED, DeliveryStatus.CANCELLED, DeliveryStatus.FAILED)
FINISHED_MESSAGES = (OutboxStatus.SENT, OutboxStatus.FAILED, OutboxStatus.SKIPPED)
UPDATE = aliased(OutboxMessage)  # an update in place of an older row's message


@dataclass(frozen=True)
class Pruned:
    """A table whose rows older than the retention age (or `keep_for`) are deleted, when `finished` also holds."""

    model: Any  # a mapped class with a single-column primary key `id`
    dated_by: Any  # the mapped column that dates a row (indexed)
    finished: Condition = lambda cutoff: ()
    keep_for: timedelta | None = None  # its own age, instead of RETENTION_DAYS

    @property
    def name(self) -> str:
        return str(self.model.__tablename__)


PRUNED: tuple[Pruned, ...] = (
    Pruned(WebhookDelivery, WebhookDelivery.received_at),
    # Slack retries an event for about an hour and a signature is good for five minutes: three days is plenty.
    Pruned(SlackEvent, SlackEvent.received_at, keep_for=timedelta(days=3)),
    Pruned(
        NudgeDelivery,
        NudgeDelivery.planned_at,
        lambda cutoff: (
            NudgeDelivery.status.in_(FINISHED_NUDGES),
            NudgeDelivery.episode_id.in_(select(NudgeEpisode.id).where(NudgeEpisode.done_at < cutoff)),
        ),
    ),
    # Outbox rows once finished, unless a later update of their message still waits to be sent (it needs the
    # message id; and removing a row removes its updates with it).
    Pruned(
        OutboxMessage,
        OutboxMessage.created_at,
        lambda cutoff: (
            OutboxMessage.status.in_(FINISHED_MESSAGES),
            ~exists().where(UPDATE.replaces_id == OutboxMessage.id, UPDATE.status.not_in(FINISHED_MESSAGES)),
        ),
    ),
)


async def prune_batch(session: AsyncSession, *, pruned: Pruned, keep_for: timedelta, batch: int, now: datetime) -> int:
    """Delete up to `batch` of the oldest finished rows of one table; how many were deleted."""
    cutoff = now - (pruned.keep_for or keep_for)
    oldest = (
        select(pruned.model.id)
        .where(pruned.dated_by < cutoff, *pruned.finished(cutoff))
        .order_by(pruned.dated_by)
        .limit(batch)
    )
    ids = list((await session.scalars(oldest)).all())
    if ids:
        await session.execute(delete(pruned.model).where(pruned.model.id.in_(ids)))
    return len(ids)


class Retention:
    """What the ticker runs: for each table, batches until it is clean or `max_batches` were done this tick."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        clock: Clock,
        keep_for: timedelta,
        batch: int = 500,
        max_batches: int = 10,
        pruned: Sequence[Pruned] = PRUNED,
    ) -> None:
        self.sessions = sessions
        self.clock = clock
        self.keep_for = keep_for
        self.batch = batch
        self.max_batches = max_batches
        self.pruned = tuple(pruned)

    async def tick(self) -> dict[str, int]:
        now = self.clock()
        deleted: dict[str, int] = {}
        for pruned in self.pruned:
            for _ in range(self.max_batches):
                async with self.sessions() as session, session.begin():
                    count = await prune_batch(session, pruned=pruned, keep_for=self.keep_for, batch=self.batch, now=now)
                deleted[pruned.name] = deleted.get(pruned.name, 0) + count
                if count < self.batch:
                    break
        if any(deleted.values()):
            log.info("retention: pruned %s", ", ".join(f"{n} {name}" for name, n in deleted.items() if n))
        return deleted
