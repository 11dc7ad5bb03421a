"""The ticket models and migration 0002_tickets agree (alembic check), on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio

from db import migrate

from ..conftest import Database


async def test_models_and_migrations_agree(db: Database) -> None:
    await asyncio.to_thread(migrate.check, db.url)  # raises if autogenerate would find a difference
