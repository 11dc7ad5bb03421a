"""A database restart or failover drops the pool's connections: the next command still works (it is tried once
more on a fresh connection), and nothing is applied twice. PostgreSQL only: SQLite has no server to lose."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text

from db.models import OwnershipEvent

from .conftest import Chat, Database, _pg_admin

pytestmark = pytest.mark.postgres


async def drop_connections(db: Database) -> int:
    """What a restart does to this engine's pooled connections: the server ends them."""
    async with db.engine.connect() as connection:
        database = await connection.scalar(text("SELECT current_database()"))
    await _pg_admin(
        f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{database}' "
        "AND pid <> pg_backend_pid()"
    )
    return db.engine.pool.checkedin()


@pytest.mark.parametrize("db", ["postgres"], indirect=True)
async def test_a_command_after_the_database_dropped_its_connections_works_once(chat: Chat, db: Database) -> None:
    await chat.say("U_LEAD", "customer add Acme")
    await chat.say("U1", "mine")
    assert await drop_connections(db) >= 1  # the pool still holds connections the server has ended

    reply = await chat.say("U1", "claim acme")

    assert not reply.error, reply.text
    assert "now owns Acme" in reply.text
    async with db.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(OwnershipEvent)) == 1
