"""The gesture closer, what the ticker runs every NUDGE_TICK_SECONDS after the nudge sweep: close the votes past
their deadline (exactly once, across replicas and restarts), owe delivery reminders, and send what is owed.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.clock import Clock
from db.models import Platform
from gestures.closing import close_proposal, due_proposals
from gestures.delivery import enqueue_delivery_reminders
from handlers.ports import Notifier

from .gesture_sender import GestureSender

log = logging.getLogger(__name__)


@dataclass
class CloseReport:
    closed: list[int] = field(default_factory=list)
    reminders: int = 0
    sent: int = 0


async def close_due_proposals(
    *,
    sessions: async_sessionmaker[AsyncSession],
    notifiers: Mapping[Platform, Notifier],
    now: datetime,
    remind: bool = True,
) -> CloseReport:
    """The scheduler's gesture tick: close every proposal past its deadline (exactly once, across replicas and
    restarts), owe a delivery reminder once a day per approved, undelivered gesture (`remind=False` when the
    nudges engine reminds instead), and send whatever is owed."""
    report = CloseReport()
    async with sessions() as session:
        due = await due_proposals(session, now=now)
    for proposal_id in due:
        try:
            async with sessions() as session, session.begin():
                closed = await close_proposal(session, proposal_id=proposal_id, now=now)
        except Exception:
            log.exception("closing gesture %s failed; the next tick retries", proposal_id)
            continue
        if closed is not None:
            report.closed.append(proposal_id)
    if remind:
        async with sessions() as session, session.begin():
            report.reminders = await enqueue_delivery_reminders(session, now=now)
    report.sent = await GestureSender(sessions, notifiers).send_owed(now=now)
    return report


class GestureCloser:
    """`close_due_proposals` on the runtime's sessions, notifiers and clock: one tick function for the ticker."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], notifiers: Mapping[Platform, Notifier], *, clock: Clock
    ) -> None:
        self.sessions = sessions
        self.notifiers = notifiers
        self.clock = clock

    async def tick(self) -> CloseReport:
        return await close_due_proposals(sessions=self.sessions, notifiers=self.notifiers, now=self.clock())
