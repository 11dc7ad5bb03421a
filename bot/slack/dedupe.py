"""Events API deliveries are taken on once: a unique event_id row, inserted before the event is handled.

Slack retries a delivery (X-Slack-Retry-Num) when the ack was slow or lost, and may deliver the same event_id
to more than one replica; whoever inserts the row first handles it, everyone else drops it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import SlackEvent

KEEP_FOR = timedelta(days=3)  # Slack retries for at most about an hour


async def first_delivery(
    sessions: async_sessionmaker[AsyncSession], *, event_id: str, team_id: str, event_type: str, now: datetime
) -> bool:
    async with sessions() as session, session.begin():
        insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
        inserted = await session.scalar(
            insert(SlackEvent)
            .values(event_id=event_id[:64], team_id=team_id[:32], event_type=event_type[:64], received_at=now)
            .on_conflict_do_nothing(index_elements=["event_id"])
            .returning(SlackEvent.id)
        )
        if inserted is not None and inserted % 100 == 0:  # now and then, forget old deliveries
            await session.execute(delete(SlackEvent).where(SlackEvent.received_at < now - KEEP_FOR))
        return inserted is not None
