"""A whole-database snapshot: every table's rows, for "nothing was written" assertions.

`snapshot(db)` reads every table the migrations created (reflected from the database, so a table added by a later
migration is covered without touching this file) in primary-key order. Two snapshots compare equal exactly when
no row was inserted, updated or deleted anywhere.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import MetaData, Table, select
from sqlalchemy.ext.asyncio import AsyncEngine

Snapshot = dict[str, list[tuple[Any, ...]]]


async def tables_of(engine: AsyncEngine) -> list[Table]:
    metadata = MetaData()
    async with engine.connect() as connection:
        await connection.run_sync(lambda sync: metadata.reflect(sync))
    return [table for name, table in sorted(metadata.tables.items()) if name != "alembic_version"]


async def snapshot(engine: AsyncEngine, tables: list[Table] | None = None) -> Snapshot:
    tables = tables if tables is not None else await tables_of(engine)
    rows: Snapshot = {}
    async with engine.connect() as connection:
        for table in tables:
            order = list(table.primary_key.columns) or list(table.columns)
            result = await connection.execute(select(table).order_by(*order))
            rows[table.name] = [tuple(row) for row in result]
    return rows


def changed_tables(before: Snapshot, after: Snapshot) -> list[str]:
    """The tables whose rows differ (empty: nothing was written)."""
    return sorted(name for name in before.keys() | after.keys() if before.get(name) != after.get(name))
