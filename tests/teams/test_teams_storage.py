"""Teams storage: the migration matches the models on both databases, and references are stored race-free."""

from __future__ import annotations

import asyncio

from alembic import command
from sqlalchemy import select

from db import migrate
from db.models import Member, TeamsConversation, TeamsMember

from ..conftest import Database
from .conftest import PEOPLE, TeamsWire, count


async def test_teams_migration_matches_the_models_and_round_trips(db: Database) -> None:
    await db.engine.dispose()

    def round_trip() -> None:
        migrate.check(db.url)
        command.downgrade(migrate.alembic_config(db.url), "0001")
        migrate.upgrade(db.url)
        migrate.check(db.url)

    await asyncio.to_thread(round_trip)


async def test_many_first_messages_at_once_store_one_reference_and_one_member(wire: TeamsWire, db: Database) -> None:
    """Twelve messages from someone new arrive at once (retries, several replicas): no duplicate rows, no errors."""
    activities = []
    for _ in range(12):
        activity = wire._base("sam", tenant="tenant-a-0000", channel=False)
        activity.update(text="mine", textFormat="plain")
        activities.append(activity)
    responses = await asyncio.gather(*(wire.post(a) for a in activities))
    assert [r.status for r in responses] == [200] * 12
    assert len(wire.dm("sam")) == 12
    assert await count(db, TeamsConversation) == 1
    assert await count(db, TeamsMember) == 1
    async with db.sessions() as session:
        members = (await session.execute(select(Member.platform_user_id))).scalars().all()
    assert members == [PEOPLE["sam"][0]]
