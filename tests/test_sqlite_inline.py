"""SQLite statements run on the event loop's thread (db.sqlite_inline): a write lock held by another connection
is waited for without stopping the loop, and given up after the wait limit with nothing changed."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select, text

from db import engine as engine_module
from db.engine import READ_ONLY
from db.models import Platform, Workspace
from tests.conftest import Database

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def path_of(database: Database) -> str:
    return database.url.split(":///", 1)[1]


async def add_workspace(database: Database, external_id: str) -> None:
    async with database.sessions() as session, session.begin():
        session.add(Workspace(platform=Platform.SLACK, external_id=external_id, name=external_id, created_at=NOW))


async def test_a_held_write_lock_is_waited_for_while_the_loop_keeps_turning(sqlite_db: Database) -> None:
    other = sqlite3.connect(path_of(sqlite_db), isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process (an import, a second server) holds the write lock
    started = time.monotonic()
    work = asyncio.create_task(add_workspace(sqlite_db, "T-waits"))
    await asyncio.sleep(0.3)
    assert not work.done()
    other.execute("COMMIT")
    other.close()
    await work
    assert time.monotonic() - started >= 0.3
    async with sqlite_db.sessions() as session:
        assert await session.scalar(select(func.count()).where(Workspace.external_id == "T-waits")) == 1


async def test_the_loop_is_not_stopped_by_a_wait(sqlite_db: Database) -> None:
    other = sqlite3.connect(path_of(sqlite_db), isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    work = asyncio.create_task(add_workspace(sqlite_db, "T-loop"))
    await asyncio.sleep(0)  # the write starts and finds the lock taken
    started = time.monotonic()
    for _ in range(40):  # 40 timers of 5 ms while the write waits: a loop stopped in C would fire them late
        await asyncio.sleep(0.005)
    assert time.monotonic() - started < 1.5
    assert not work.done()
    other.execute("COMMIT")
    other.close()
    await work


async def test_a_lock_held_past_the_limit_fails_the_write_and_changes_nothing(
    sqlite_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = sqlite3.connect(path_of(sqlite_db), isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    monkeypatch.setattr(engine_module, "SQLITE_WAIT_SECONDS", 0.2)
    engine = engine_module.create_engine(sqlite_db.url)
    try:
        started = time.monotonic()
        with pytest.raises(Exception, match="locked"):
            async with engine.begin() as connection:
                await connection.execute(
                    text(
                        "INSERT INTO workspaces (platform, external_id, name, created_at)"
                        " VALUES ('slack', 'T-no', 'x', '2026-11-24')"
                    )
                )
        assert 0.2 <= time.monotonic() - started < 5
    finally:
        other.execute("ROLLBACK")
        other.close()
        await engine.dispose()
    async with sqlite_db.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Workspace)) == 0


async def test_readers_never_wait_for_a_writer(sqlite_db: Database) -> None:
    await add_workspace(sqlite_db, "T-read")
    other = sqlite3.connect(path_of(sqlite_db), isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    other.execute("UPDATE workspaces SET name = 'renamed'")
    try:
        started = time.monotonic()
        async with sqlite_db.sessions() as session:
            await session.connection(execution_options=READ_ONLY)
            name = await session.scalar(select(Workspace.name).where(Workspace.external_id == "T-read"))
        assert name == "T-read"  # WAL: the last committed state, at once
        assert time.monotonic() - started < 1
    finally:
        other.execute("ROLLBACK")
        other.close()


async def test_a_long_transaction_hands_the_loop_over_between_statements(sqlite_db: Database) -> None:
    """Inline statements finish at once, so without a turn now and then a long transaction (a sweep batch) would
    hold every other task, acks included, until it commits."""
    seen_during: list[bool] = []
    busy = asyncio.Event()

    async def long_transaction() -> None:
        async with sqlite_db.engine.begin() as connection:
            busy.set()
            started = time.monotonic()
            while time.monotonic() - started < 0.3:  # 300 ms of statements, each answered at once
                await connection.execute(text("SELECT count(*) FROM workspaces"))
            busy.clear()

    transaction = asyncio.create_task(long_transaction())
    while not transaction.done():  # another task (an ack): how often does it get a turn, and when?
        await asyncio.sleep(0)
        seen_during.append(busy.is_set())
    await transaction
    assert sum(seen_during) >= 10, seen_during.count(True)  # many turns while the transaction was still going
