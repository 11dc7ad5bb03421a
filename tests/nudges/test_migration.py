"""The nudges migration: models and migrations agree, defaults are seeded, existing rows get watched."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import text

from db import migrate
from db.engine import create_engine

from ..conftest import Database


async def test_models_and_migrations_agree(db: Database) -> None:
    migrate.check(db.url)  # raises when autogenerate would find a difference


async def test_upgrade_seeds_service_levels_and_watches_existing_rows(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'old.sqlite3'}"
    migrate.upgrade(url, "0001")
    engine = create_engine(url)
    now = datetime(2026, 11, 1, tzinfo=UTC).replace(tzinfo=None)
    async with engine.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO workspaces (id, platform, external_id, name, created_at) "
                "VALUES (1, 'console', 'T1', '', :now)"
            ),
            {"now": now},
        )
        await connection.execute(
            text(
                "INSERT INTO customers (id, workspace_id, name, name_key, tier, created_at) "
                "VALUES (7, 1, 'Acme', 'acme', 'premium', :now)"
            ),
            {"now": now},
        )
        await connection.execute(
            text(
                "INSERT INTO tickets (id, workspace_id, customer_id, source, subject, status, priority, opened_at, "
                "last_activity_at, pending_seconds, mood, reassign_count) "
                "VALUES (3, 1, 7, 'chat', 'old', 'open', 'normal', :now, :now, 0, 'neutral', 0)"
            ),
            {"now": now},
        )
    migrate.upgrade(url)
    async with engine.connect() as connection:
        levels = (
            await connection.execute(
                text("SELECT tier, first_response_minutes FROM service_levels WHERE workspace_id IS NULL ORDER BY tier")
            )
        ).all()
        checks = (await connection.execute(text("SELECT subject_kind, subject_id FROM nudge_checks ORDER BY 1"))).all()
    await engine.dispose()
    assert levels == [("basic", 1440), ("premium", 60), ("standard", 240)]
    assert checks == [("customer", 7), ("ticket", 3)]
