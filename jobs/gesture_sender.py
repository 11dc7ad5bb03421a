"""The gesture message sender: posts, updates and DMs what the bot owes about frugal-wow proposals.

What is owed is stored as rows (`gestures.outbox`) in the same transaction as the change that owes it. The
request that made the change sends right after its commit (through `handlers.ports.GestureMessages`, which
`GestureSender` implements); the gesture closer sends the rest on every tick. A lease on each row keeps two
requests or replicas from sending the same message.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db import metrics
from db.models import GestureMessage, Platform
from gestures import outbox
from gestures.views import view_proposal
from handlers.gesture_cards import render_message
from handlers.ports import DeliveryFailed, MessageRef, Notifier

log = logging.getLogger(__name__)
MAX_SEND_ROUNDS = 5


@dataclass(frozen=True)
class _Owed:
    id: int
    proposal_id: int
    purpose: str
    target: str
    direct: bool
    platform: Platform
    workspace: str
    message_id: str | None
    ref_channel_id: str | None
    attempts: int


class GestureSender:
    """Sends every gesture message that is out of date through the platform it belongs to."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], notifiers: Mapping[Platform, Notifier]) -> None:
        self.sessions = sessions
        self.notifiers = notifiers  # the runtime's mapping, filled as each face registers

    async def send_owed(self, *, now: datetime, proposal_id: int | None = None, limit: int = 200) -> int:
        """Send every gesture message (of one proposal, or all) that is out of date and not being sent by someone
        else; returns how many platform calls were made."""
        async with self.sessions() as session:
            owed = await outbox.undelivered(session, now=now, proposal_id=proposal_id, limit=limit)
        sent = 0
        for message_id in owed:
            sent += await self._send_one(message_id, now)
        return sent

    async def _send_one(self, message_id: int, now: datetime) -> int:
        sessions, notifiers = self.sessions, self.notifiers
        async with sessions() as session, session.begin():
            row = await outbox.claim(session, message_id=message_id, now=now)
            if row is None:
                return 0  # up to date, or another request / replica is sending it right now
            owed = _Owed(
                row.id,
                row.proposal_id,
                row.purpose,
                row.target,
                row.direct,
                row.platform,
                row.workspace,
                row.message_id,
                row.ref_channel_id,
                row.attempts,
            )
        notifier = notifiers.get(owed.platform)
        if notifier is None:
            metrics.count_delivery(owed.platform.value, "gesture", "retried", workspace=owed.workspace)
            async with sessions() as session, session.begin():
                await outbox.record_failure(
                    session,
                    message_id=owed.id,
                    error=f"no notifier for {owed.platform.value}",
                    retry_after=300,
                    permanent=False,
                    attempts=owed.attempts,
                    now=now,
                )
            return 0
        sent = 0
        platform_id, channel = owed.message_id, owed.ref_channel_id
        for _ in range(MAX_SEND_ROUNDS):
            async with sessions() as session:
                version = await session.scalar(select(GestureMessage.want_version).where(GestureMessage.id == owed.id))
                view = await view_proposal(session, proposal_id=owed.proposal_id, now=now)
                reply = render_message(owed.purpose, owed.target, view)
            if reply is None:
                async with sessions() as session, session.begin():
                    await outbox.record_failure(
                        session,
                        message_id=owed.id,
                        error="skipped: no longer relevant",
                        retry_after=None,
                        permanent=True,
                        attempts=owed.attempts,
                        now=now,
                    )
                return sent
            try:
                if owed.direct:
                    ref = await notifier.send_direct(workspace=owed.workspace, user_id=owed.target, reply=reply)
                elif platform_id is None:
                    ref = await notifier.post_channel(workspace=owed.workspace, channel_id=owed.target, reply=reply)
                else:
                    ref = MessageRef(owed.platform, owed.workspace, channel or owed.target, platform_id)
                    await notifier.update(ref=ref, reply=reply)
            except Exception as error:
                failed = error if isinstance(error, DeliveryFailed) else None
                if failed is None:
                    log.exception("gesture message %s (%s) failed", owed.id, owed.purpose)
                gave_up = bool(failed and failed.permanent)
                metrics.count_delivery(
                    owed.platform.value, "gesture", "failed" if gave_up else "retried", workspace=owed.workspace
                )
                async with sessions() as session, session.begin():
                    await outbox.record_failure(
                        session,
                        message_id=owed.id,
                        error=str(error) or type(error).__name__,
                        retry_after=failed.retry_after if failed else None,
                        permanent=bool(failed and failed.permanent),
                        attempts=owed.attempts,
                        now=now,
                    )
                return sent
            sent += 1
            metrics.count_delivery(owed.platform.value, "gesture", "sent", workspace=owed.workspace)
            platform_id, channel = ref.message_id, ref.channel_id
            async with sessions() as session, session.begin():
                still_dirty = await outbox.record_sent(
                    session,
                    message_id=owed.id,
                    version=version or 0,
                    platform_message_id=ref.message_id,
                    ref_channel_id=ref.channel_id,
                    now=now,
                )
            if not still_dirty:
                return sent
        async with sessions() as session, session.begin():
            await outbox.release(session, message_id=owed.id)
        return sent
