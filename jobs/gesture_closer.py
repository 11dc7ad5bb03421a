"""The gesture closer, what the ticker runs every NUDGE_TICK_SECONDS after the nudge sweep: close the votes past
their deadline (exactly once, across replicas and restarts) and owe delivery reminders; the outbox sender, run
next, sends what that owes.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.clock import Clock
from gestures.closing import close_proposal, due_proposals
from gestures.delivery import enqueue_delivery_reminders

log = logging.getLogger(__name__)


@dataclass
class CloseReport:
    closed: list[int] = field(default_factory=list)
    reminders: int = 0
    sent: int = 0


async def close_due_proposals(
    *,
    sessions: async_sessionmaker[AsyncSession],
    now: datetime,
    remind: bool = True,
) -> CloseReport:
    """The scheduler's gesture tick: close every proposal past its deadline (exactly once, across replicas and
    restarts), owe a delivery reminder once a day per approved, undelivered gesture (`remind=False` when the
    nudges engine reminds instead). What that owes is in the outbox; the outbox sender, next in the tick, sends it."""
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
    return report


class GestureCloser:
    """`close_due_proposals` on the runtime's sessions and clock: one tick function for the ticker."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], *, clock: Clock) -> None:
        self.sessions = sessions
        self.clock = clock

    async def tick(self) -> CloseReport:
        return await close_due_proposals(sessions=self.sessions, now=self.clock())
