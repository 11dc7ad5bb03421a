"""Every Slack request is taken on once: a unique key row, inserted before the request is handled.

Events API deliveries are keyed by their event_id: Slack retries a delivery (X-Slack-Retry-Num) when the ack was
slow or lost, and may deliver the same event_id to more than one replica. Slash commands, button clicks and form
submits are keyed by their `trigger_id` (unique per user action), or, without one, by a digest of the signed
timestamp and body: a replayed request (the same signed bytes sent again within the five minutes the signature
is good for) is acknowledged and ignored. Whoever inserts the row first handles it; everyone else drops it.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import SlackEvent


def request_key(trigger_id: object, timestamp: str, raw_body: str) -> str:
    """The dedupe key of a slash command or interaction (fits the event_id column, never clashes with an Ev id)."""
    source = f"trigger:{trigger_id}" if isinstance(trigger_id, str) and trigger_id else f"{timestamp}:{raw_body}"
    return "req:" + hashlib.sha256(source.encode("utf-8", "surrogatepass")).hexdigest()[:56]


async def first_delivery(
    sessions: async_sessionmaker[AsyncSession], *, event_id: str, team_id: str, event_type: str, now: datetime
) -> bool:
    async with sessions() as session, session.begin():
        return await taken_on(session, event_id=event_id, team_id=team_id, event_type=event_type, now=now)


async def taken_on(session: AsyncSession, *, event_id: str, team_id: str, event_type: str, now: datetime) -> bool:
    """The key row, in the caller's transaction (so the work it guards commits with it, or neither does)."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    inserted = await session.scalar(
        insert(SlackEvent)
        .values(event_id=event_id[:64], team_id=team_id[:32], event_type=event_type[:64], received_at=now)
        .on_conflict_do_nothing(index_elements=["event_id"])
        .returning(SlackEvent.id)
    )
    return inserted is not None
