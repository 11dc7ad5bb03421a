"""Test fixtures: a real SQLite file and a real PostgreSQL, both migrated by alembic.

Database tests take the `db` fixture and run twice: on SQLite and on PostgreSQL (127.0.0.1:5432, trust auth).
When CI is set and PostgreSQL is unreachable, the PostgreSQL runs fail instead of skipping.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from db import migrate
from db.engine import create_engine, create_session_factory
from handlers import Handlers
from nudges.settings import NudgeSettings

PG_SERVER = os.environ.get("OWNERBOT_TEST_PG", "postgresql+asyncpg://postgres@127.0.0.1:5432")
PG_ADMIN_DB = "test"


@dataclass
class Clock:
    """Time travel: tests hand `clock` to Handlers (or to `app.build_app`) and move it with `advance`."""

    now: datetime = field(default_factory=lambda: datetime(2026, 11, 23, 10, 0, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@dataclass
class Database:
    url: str
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "ownerbot.sqlite3"
    migrate.upgrade(f"sqlite+aiosqlite:///{path}")
    return path


def run_sync(coro):  # type: ignore[no-untyped-def]
    """Run a coroutine to completion from sync code, even while a loop runs (session fixtures)."""
    with ThreadPoolExecutor(max_workers=1) as worker:
        return worker.submit(asyncio.run, coro).result()


async def _pg_admin(sql: str) -> None:
    engine = create_engine(f"{PG_SERVER}/{PG_ADMIN_DB}", isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            await connection.execute(text(sql))
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    name = f"ownerbot_test_{os.getpid()}"
    try:
        run_sync(_pg_admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        run_sync(_pg_admin(f"CREATE DATABASE {name}"))
    except OSError as error:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is required in CI but unreachable: {error}")
        pytest.skip(f"PostgreSQL unreachable: {error}")
    url = f"{PG_SERVER}/{name}"
    migrate.upgrade(url)
    yield url
    run_sync(_pg_admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


async def _truncate_pg(engine: AsyncEngine) -> None:
    """Empty every table and restart every sequence: DELETEs with foreign-key triggers off for this transaction
    take ~15 ms here where one TRUNCATE of all the tables takes ~250 ms (it rewrites each table's files)."""
    async with engine.begin() as connection:
        tables = (
            await connection.execute(
                text("SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version'")
            )
        ).scalars()
        await connection.execute(text("SET LOCAL session_replication_role = replica"))
        for table in tables.all():
            await connection.execute(text(f'DELETE FROM "{table}"'))
        await connection.execute(
            text(
                "SELECT setval(c.oid, 1, false) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE c.relkind = 'S' AND n.nspname = 'public'"
            )
        )


async def open_database(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> Database:
    if kind == "sqlite":
        path = tmp_path / "ownerbot.sqlite3"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        url = f"sqlite+aiosqlite:///{path}"
        engine = create_engine(url)
    else:
        url = request.getfixturevalue("pg_url")
        engine = create_engine(url)
        await _truncate_pg(engine)
    return Database(url, engine, create_session_factory(engine))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """A freshly migrated, empty database: SQLite file, then PostgreSQL."""
    database = await open_database(request.param, request, tmp_path)
    yield database
    await database.engine.dispose()


@pytest.fixture
async def sqlite_db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """SQLite only: for tests of the platform faces, where the database is not what is under test."""
    database = await open_database("sqlite", request, tmp_path)
    yield database
    await database.engine.dispose()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def policy() -> NudgeSettings:
    """The nudge policy the handlers run with (the nudges tests narrow it)."""
    return NudgeSettings()


@pytest.fixture
def handlers(db: Database, clock: Clock, policy: NudgeSettings) -> Handlers:
    return Handlers(db.sessions, admins=frozenset({"U_ADMIN"}), clock=clock, policy=policy)


class Chat:
    """Drives the handlers layer the way a platform does: one person typing, or clicking a button."""

    def __init__(self, handlers: Handlers, workspace: str = "T1") -> None:
        from db.models import Platform

        self.handlers = handlers
        self.workspace = workspace
        self.platform = Platform.CONSOLE

    async def settle(self) -> None:
        """Wait for the outbox sender the handlers woke after the commit (the tests read what it sent)."""
        sender = getattr(self.handlers.wake_sender, "__self__", None)
        if sender is not None:
            await sender.drain()

    async def say(self, user: str, text: str, name: str | None = None):  # type: ignore[no-untyped-def]

        try:
            return await self._say(user, text, name)
        finally:
            await self.settle()

    async def _say(self, user: str, text: str, name: str | None = None):  # type: ignore[no-untyped-def]
        from handlers import Invocation

        return await self.handlers.command(
            Invocation(
                platform=self.platform,
                workspace=self.workspace,
                user_id=user,
                user_name=name or user.lower(),
                text=text,
                channel_id="C1",
            )
        )

    async def click(self, user: str, action_id: str, value: str, typed: str | None = None):  # type: ignore[no-untyped-def]
        try:
            return await self._click(user, action_id, value, typed)
        finally:
            await self.settle()

    async def _click(self, user: str, action_id: str, value: str, typed: str | None = None):  # type: ignore[no-untyped-def]
        from handlers import ActionInvocation

        return await self.handlers.action(
            ActionInvocation(
                platform=self.platform,
                workspace=self.workspace,
                user_id=user,
                user_name=user.lower(),
                action_id=action_id,
                value=value,
                input=typed,
            )
        )


@pytest.fixture
async def chat(handlers: Handlers) -> Chat:
    """A workspace with an admin (U_ADMIN), a lead (U_LEAD) and agents U1, U2, U3 who have all said hello."""
    talk = Chat(handlers)
    for user in ("U_ADMIN", "U_LEAD", "U1", "U2", "U3"):
        await talk.say(user, "mine")
    await talk.say("U_ADMIN", "role U_LEAD lead")
    return talk


# Tests that start real processes take seconds each; run in parallel (pytest-xdist), the suite ends soonest when
# they start first instead of last.
SLOW_FIRST = ("tests/test_cli.py", "tests/nudges/test_processes.py", "tests/test_house.py")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=lambda item: not item.nodeid.startswith(SLOW_FIRST))
