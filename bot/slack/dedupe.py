"""Every Slack request is taken on once: a unique key row, inserted before the request is handled.

Events API deliveries are keyed by their event_id: Slack retries a delivery (X-Slack-Retry-Num) when the ack was
slow or lost, and may deliver the same event_id to more than one replica. Slash commands, button clicks and form
submits are keyed by their `trigger_id` (unique per user action), or, without one, by a digest of the signed
timestamp and body: a replayed request (the same signed bytes sent again within the five minutes the signature
is good for) is acknowledged and ignored. Whoever inserts the row first handles it; everyone else drops it.
"""

from __future__ import annotations

import functools
import hashlib
from datetime import datetime
from typing import Any

from sqlalchemy import Table, bindparam, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import CustomerChannel, Member, Platform, SlackEvent, Workspace


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


@functools.cache
def _taken_on_in_channel(dialect: str) -> Any:
    """The key row, and in the same statement what the customer-channel rule needs: the channel's active link
    and whether the caller is a member (built once per dialect)."""
    events, workspaces, links, members = (model.__table__ for model in (SlackEvent, Workspace, CustomerChannel, Member))
    assert isinstance(events, Table) and isinstance(workspaces, Table)
    assert isinstance(links, Table) and isinstance(members, Table)
    workspace = (
        select(workspaces.c.id)
        .where(workspaces.c.platform == Platform.SLACK, workspaces.c.external_id == bindparam("team"))
        .scalar_subquery()
    )
    link = (
        select(links.c.id)
        .where(
            links.c.workspace_id == workspace,
            links.c.channel_id == bindparam("channel"),
            links.c.unlinked_at.is_(None),
        )
        .limit(1)
        .scalar_subquery()
    )
    member = (
        select(members.c.id)
        .where(members.c.workspace_id == workspace, members.c.platform_user_id == bindparam("user"))
        .scalar_subquery()
    )
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return (
        insert(events)
        .values(
            event_id=bindparam("key"),
            team_id=bindparam("key_team"),
            event_type=bindparam("kind"),
            received_at=bindparam("at"),
        )
        .on_conflict_do_nothing(index_elements=["event_id"])
        .returning(events.c.id, link.label("link_id"), member.label("member_id"))
    )


async def taken_on_in_channel(
    session: AsyncSession, *, event_id: str, team_id: str, event_type: str, now: datetime, channel_id: str, user_id: str
) -> tuple[bool, bool] | None:
    """`taken_on` for a command typed in a channel, in one statement: None when the request was taken on before,
    else (the channel is linked to a customer, the caller is a member of the workspace)."""
    row = (
        await session.execute(
            _taken_on_in_channel(session.get_bind().dialect.name),
            {
                "key": event_id[:64],
                "key_team": team_id[:32],
                "kind": event_type[:64],
                "at": now,
                "team": team_id,
                "channel": channel_id,
                "user": user_id,
            },
        )
    ).first()
    if row is None:
        return None
    return row.link_id is not None, row.member_id is not None
