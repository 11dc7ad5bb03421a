"""The nudge sweep, what the ticker runs every NUDGE_TICK_SECONDS: plan (one transaction); claim, render and hand
each message to the outbox (one transaction); then the one outbox sender sends what is due.

Several replicas may sweep one PostgreSQL at once: claims are row locks with a lease (see `nudges.delivery`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.clock import Clock
from db.models import Platform
from handlers.nudge_messages import render_message
from handlers.ports import Notifier
from handlers.replies import Reply
from nudges.delivery import Message, claim_due
from nudges.planner import plan_due
from nudges.settings import NudgeSettings

from .nudge_handover import hand_over
from .outbox_sender import OutboxSender, worker_name

log = logging.getLogger(__name__)


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
    ) -> None:
        self.sessions = sessions
        self.notifiers = notifiers
        self.policy = policy
        self.clock = clock
        self.worker = worker or worker_name()
        self.sender = sender or OutboxSender(sessions, notifiers, clock, worker=self.worker)

    async def plan(self, now: datetime) -> tuple[int, int]:
        async with self.sessions() as session, session.begin():
            result = await plan_due(session, now=now, policy=self.policy)
        return result.checked, result.deliveries

    async def claim(self, now: datetime) -> tuple[list[tuple[Message, Reply]], int, int]:
        """Claim what is due, render it, and hand each message to the outbox: one transaction."""
        async with self.sessions() as session, session.begin():
            claimed = await claim_due(session, now=now, worker=self.worker, policy=self.policy)
            rendered = [(m, await render_message(session, m, self.policy, now)) for m in claimed.messages]
            for message, reply in rendered:
                await hand_over(session, message, reply, worker=self.worker, now=now)
        return rendered, claimed.cancelled, claimed.held

    async def tick(self) -> TickResult:
        now = self.clock()
        checked, planned = await self.plan(now)
        _, cancelled, held = await self.claim(now)
        sent = await self.sender.send_due()  # the one outbox sender: these nudges, and whatever else is due
        return TickResult(checked, planned, sent.sent, sent.retried, sent.failed, cancelled, held)
