"""Custody returns by itself: step-outs and covers whose period is over end, with an audit event each."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.clock import Clock
from ownership.custody import return_due_custodies


class CustodyReturns:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], *, clock: Clock) -> None:
        self.sessions = sessions
        self.clock = clock

    async def tick(self) -> int:
        """End every custody that is over; returns how many. A second run finds nothing left to do."""
        async with self.sessions() as session, session.begin():
            return await return_due_custodies(session, now=self.clock())
