"""Portable INSERT ... ON CONFLICT DO NOTHING, so first-sight creation is race-free on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession


async def insert_or_ignore(
    session: AsyncSession, model: type[Any], values: dict[str, Any], conflict_columns: list[str]
) -> None:
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(model).values(**values).on_conflict_do_nothing(index_elements=conflict_columns)
    await session.execute(statement)
