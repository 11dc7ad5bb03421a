"""Migration 0003_gestures: models and migrations agree (alembic check) on SQLite and PostgreSQL; it goes down
and up again. (Its `gesture_messages` table became outbox rows in 0009_outbox.)"""

from __future__ import annotations

import asyncio

from alembic import command
from sqlalchemy import inspect

from db import migrate

from ..conftest import Database

GESTURE_TABLES = {"gesture_settings", "gesture_proposals", "gesture_votes", "gesture_comments"}


async def tables(db: Database) -> set[str]:
    async with db.engine.connect() as connection:
        return set(await connection.run_sync(lambda sync: inspect(sync).get_table_names()))


async def test_models_and_migrations_agree(db: Database) -> None:
    await asyncio.to_thread(migrate.check, db.url)
    assert await tables(db) >= GESTURE_TABLES | {"outbox_messages"}
    assert "gesture_messages" not in await tables(db)


async def test_downgrade_and_upgrade_again(sqlite_db: Database) -> None:
    await asyncio.to_thread(command.downgrade, migrate.alembic_config(sqlite_db.url), "0001")
    assert not GESTURE_TABLES & await tables(sqlite_db)
    await asyncio.to_thread(migrate.upgrade, sqlite_db.url)
    assert await tables(sqlite_db) >= GESTURE_TABLES
    await asyncio.to_thread(migrate.check, sqlite_db.url)
