"""The nudge sweep, what the ticker runs every NUDGE_TICK_SECONDS: plan (one transaction); claim, render and hand
each message to the outbox (one transaction); then the one outbox sender sends what is due.

Several replicas may sweep one PostgreSQL at once: claims are row locks with a lease (see `nudges.delivery`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from contextlib import AbstractAsyncContextManager, nullcontext
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.clock import Clock
from db.models import Platform
from handlers.admission import Admission
from handlers.nudge_messages import render_message
from handlers.ports import Notifier
from handlers.replies import Reply
from nudges.delivery import Message, claim_due
from nudges.planner import plan_due
from nudges.settings import NudgeSettings

from .nudge_handover import hand_over_all
from .outbox_sender import OutboxSender, worker_name

log = logging.getLogger(__name__)
SQLITE_BATCH = 25  # subjects planned, or nudges claimed, per write transaction on SQLite
SQLITE_PAUSE = 0.01  # seconds between two of them


def keep_loaded(session: AsyncSession) -> None:
    """Hold every row the batch loads until the session ends. The ORM's identity map only keeps rows weakly, so
    without this the same member, ticket or customer is read again for every nudge that names it (`session.get`
    finds it in the map only while something still refers to it)."""
    kept: list[object] = []
    session.info["sweep_rows"] = kept
    event.listen(session.sync_session, "loaded_as_persistent", lambda _session, row: kept.append(row))


@dataclass(frozen=True)
class TickResult:
    checked: int
    planned: int
    sent: int
    retried: int
    failed: int
    cancelled: int
    held: int


class NudgeSweeper:
    """Plans and delivers nudges; several replicas may run it against one PostgreSQL at the same time."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        notifiers: Mapping[Platform, Notifier],
        *,
        policy: NudgeSettings,
        clock: Clock,
        worker: str | None = None,
        sender: OutboxSender | None = None,
        admission: Admission | None = None,
    ) -> None:
        self.sessions = sessions
        self.notifiers = notifiers
        self.policy = policy
        self.clock = clock
        self.worker = worker or worker_name()
        self.sender = sender or OutboxSender(sessions, notifiers, clock, worker=self.worker)
        # each batch's transaction takes its turn with the commands' (handlers.admission): on SQLite's one writer
        # a command waits for one small batch at most, never for a whole tick
        self.admission = admission

    def _turn(self) -> AbstractAsyncContextManager[None]:
        return self.admission.turn() if self.admission is not None else nullcontext()

    async def plan(self, now: datetime, policy: NudgeSettings | None = None) -> tuple[int, int]:
        async with self._turn(), self.sessions() as session, session.begin():
            keep_loaded(session)
            result = await plan_due(session, now=now, policy=policy or self.policy)
        return result.checked, result.deliveries

    async def claim(
        self, now: datetime, policy: NudgeSettings | None = None
    ) -> tuple[list[tuple[Message, Reply]], int, int]:
        """Claim what is due (a batch), render it, and hand each message to the outbox: one transaction."""
        async with self._turn(), self.sessions() as session, session.begin():
            keep_loaded(session)
            claimed = await claim_due(session, now=now, worker=self.worker, policy=policy or self.policy)
            rendered = [(m, await render_message(session, m, self.policy, now)) for m in claimed.messages]
            await hand_over_all(session, rendered, worker=self.worker, now=now)
        return rendered, claimed.cancelled, claimed.held

    def _write_policy(self) -> NudgeSettings:
        """On SQLite, whose one writer commands share, the sweep writes in small transactions (SQLITE_BATCH
        subjects or nudges each), so a command waits behind one of them at most, never behind a whole tick."""
        if not self._on_sqlite() or self.policy.batch_size <= SQLITE_BATCH:
            return self.policy
        return self.policy.model_copy(update={"batch_size": SQLITE_BATCH})

    def _on_sqlite(self) -> bool:
        bind = self.sessions.kw.get("bind")
        return bind is not None and bind.dialect.name == "sqlite"

    async def _between_batches(self) -> None:
        """On SQLite, a moment between two write transactions, so another process's writer (another replica's
        sweep, a console) gets the lock instead of this loop taking it straight back."""
        if self._on_sqlite():
            await asyncio.sleep(SQLITE_PAUSE)

    async def tick(self) -> TickResult:
        """Plan, then claim and hand over, batch after batch until nothing more is due (no cap per tick: as fast
        as nudges come due), then send. A tick stops starting batches after `tick_seconds`; the next goes on."""
        now = self.clock()
        policy = self._write_policy()
        batch = policy.batch_size
        started = time.monotonic()
        checked = planned = cancelled = held = 0
        while True:
            seen, made = await self.plan(now, policy)
            checked, planned = checked + seen, planned + made
            if seen < batch or time.monotonic() - started > self.policy.tick_seconds:
                break
            await self._between_batches()
        while True:
            rendered, dropped, kept = await self.claim(now, policy)
            cancelled, held = cancelled + dropped, held + kept
            if len(rendered) + dropped + kept < batch or time.monotonic() - started > self.policy.tick_seconds:
                break
            await self._between_batches()
        sent = await self.sender.send_due()  # the one outbox sender: these nudges, and whatever else is due
        return TickResult(checked, planned, sent.sent, sent.retried, sent.failed, cancelled, held)
