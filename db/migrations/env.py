"""Alembic environment: async engines, batch mode on SQLite so ALTERs work there too."""

from __future__ import annotations

import asyncio
import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from alembic import context
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

from db.engine import create_engine, default_database_url, normalize_database_url
from db.models import Base

config = context.config
target_metadata = Base.metadata


def database_url() -> str:
    """From code (`db.migrate`) the URL is set on the config; from the `alembic` command line, DATABASE_URL."""
    return config.get_main_option("sqlalchemy.url") or normalize_database_url(
        os.environ.get("DATABASE_URL") or default_database_url()
    )


def _number_new_revisions(migration_context: Any, revision: Any, directives: list[Any]) -> None:
    """`alembic revision` names a new migration by the next number (0007_...), so file names follow the order."""
    script = ScriptDirectory.from_config(config)
    taken = [int(rev.revision.split("_")[0]) for rev in script.walk_revisions() if rev.revision[:4].isdigit()]
    for directive in directives:
        directive.rev_id = f"{max(taken, default=0) + 1:04d}"


def _configure(connection: Connection | None = None, **kwargs: Any) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
        process_revision_directives=_number_new_revisions,
        **kwargs,
    )


def run_migrations_offline() -> None:
    _configure(url=database_url(), literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


# The migration files were renumbered to follow their order; a database stamped with an old revision id is
# moved to the new id of the same schema before migrating (nothing else changes).
RENAMED_REVISIONS = {
    "0006_gestures": "0003_gestures",
    "0003_slack": "0004_slack",
    "0004_teams": "0005_teams",
    "0005_nudges": "0006_nudges",
}


def _adopt_renamed_revisions(connection: Connection) -> None:
    if not inspect(connection).has_table("alembic_version"):
        return
    for old, new in RENAMED_REVISIONS.items():
        connection.execute(
            text("UPDATE alembic_version SET version_num = :new WHERE version_num = :old"), {"new": new, "old": old}
        )


def _run_sync(connection: Connection) -> None:
    _adopt_renamed_revisions(connection)
    _configure(connection)
    with context.begin_transaction():
        context.run_migrations()


async def run_migrations_online() -> None:
    engine = create_engine(database_url())
    async with engine.connect() as connection:
        await connection.run_sync(_run_sync)
        await connection.commit()
    await engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        asyncio.run(run_migrations_online())
    else:  # called from async code (tests, a running server): migrate on a thread with its own loop
        with ThreadPoolExecutor(max_workers=1) as worker:
            worker.submit(asyncio.run, run_migrations_online()).result()
