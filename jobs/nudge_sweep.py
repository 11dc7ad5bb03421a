"""The nudge sweep, what the ticker runs every NUDGE_TICK_SECONDS: plan (one transaction), claim and render (one
transaction), send each message through the recipient's platform Notifier (no transaction open), mark each result.

Several replicas may sweep one PostgreSQL at once: claims are row locks with a lease (see `nudges.delivery`).
"""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db import metrics
from db.clock import Clock
from db.models import Platform
from handlers.nudge_messages import render_message
from handlers.ports import DeliveryFailed, Notifier
from handlers.replies import Reply
from nudges.delivery import Message, claim_due, mark_failed, mark_retry, mark_sent
from nudges.planner import plan_due
from nudges.settings import NudgeSettings

log = logging.getLogger(__name__)
RETRY_WHEN_PLATFORM_OFF = 300.0
RETRY_AFTER_ERROR = 60.0


@dataclass(frozen=True)
class TickResult:
    checked: int
    planned: int
    sent: int
    retried: int
    failed: int
    cancelled: int
    held: int


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


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
    ) -> None:
        self.sessions = sessions
        self.notifiers = notifiers
        self.policy = policy
        self.clock = clock
        self.worker = worker or worker_name()

    async def plan(self, now: datetime) -> tuple[int, int]:
        async with self.sessions() as session, session.begin():
            result = await plan_due(session, now=now, policy=self.policy)
        return result.checked, result.deliveries

    async def claim(self, now: datetime) -> tuple[list[tuple[Message, Reply]], int, int]:
        async with self.sessions() as session, session.begin():
            claimed = await claim_due(session, now=now, worker=self.worker, policy=self.policy)
            rendered = [(m, await render_message(session, m, self.policy, now)) for m in claimed.messages]
        return rendered, claimed.cancelled, claimed.held

    async def deliver(self, message: Message, reply: Reply) -> str:
        """Send one message; returns sent / retried / failed."""
        platform = Platform(message.workspace.platform)
        notifier = self.notifiers.get(platform)
        now = self.clock()
        try:
            if notifier is None:
                raise DeliveryFailed(f"{platform.value} is off on this server", retry_after=RETRY_WHEN_PLATFORM_OFF)
            ref = await notifier.send_direct(
                workspace=message.workspace.external_id, user_id=message.recipient.platform_user_id, reply=reply
            )
        except DeliveryFailed as error:
            async with self.sessions() as session, session.begin():
                if error.permanent:
                    log.warning("nudge %s to %s failed for good: %s", message.ids, message.recipient.id, error)
                    await mark_failed(session, ids=message.ids, worker=self.worker, now=now, error=str(error))
                    return "failed"
                await mark_retry(
                    session,
                    ids=message.ids,
                    worker=self.worker,
                    now=now,
                    retry_after=error.retry_after or RETRY_AFTER_ERROR,
                    error=str(error),
                )
            return "retried"
        except Exception as error:  # a bug or a network error in a notifier: try again later, never drop
            log.exception("nudge %s to %s: notifier error", message.ids, message.recipient.id)
            async with self.sessions() as session, session.begin():
                await mark_retry(
                    session,
                    ids=message.ids,
                    worker=self.worker,
                    now=now,
                    retry_after=RETRY_AFTER_ERROR,
                    error=f"{type(error).__name__}: {error}",
                )
            return "retried"
        async with self.sessions() as session, session.begin():
            await mark_sent(
                session,
                ids=message.ids,
                worker=self.worker,
                now=self.clock(),
                platform=ref.platform.value,
                channel=ref.channel_id,
                message_id=ref.message_id,
            )
        return "sent"

    async def tick(self) -> TickResult:
        now = self.clock()
        checked, planned = await self.plan(now)
        rendered, cancelled, held = await self.claim(now)
        outcome = {"sent": 0, "retried": 0, "failed": 0}
        for message, reply in rendered:
            started = time.perf_counter()
            result = await self.deliver(message, reply)
            outcome[result] += 1
            metrics.count_delivery(
                message.workspace.platform.value,
                "nudge",
                result,
                seconds=time.perf_counter() - started,
                workspace=message.workspace.external_id,
            )
        return TickResult(checked, planned, outcome["sent"], outcome["retried"], outcome["failed"], cancelled, held)
