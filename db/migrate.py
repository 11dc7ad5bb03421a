"""Run alembic from code: `ownerbot db upgrade`, `make run`, and the tests all go through here; and the start-up
check every command makes first (`schema_problem`): the database answers, and its schema is the newest."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, inspect, text
from sqlalchemy.engine import make_url

from .engine import create_engine

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"
# `revision: str = '0011_hardening'` and `down_revision: … = '0010_service_levels'` (or None) in each migration
REVISION = re.compile(r"""^(down_revision|revision)\s*(?::[^=]*)?=\s*(?:['"]([^'"]+)['"]|None)""", re.MULTILINE)


def alembic_config(database_url: str) -> Config:
    from alembic.config import Config  # alembic (and mako) load only when a migration runs, not in `serve`

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    from alembic import command

    command.upgrade(alembic_config(database_url), revision)


def check(database_url: str) -> None:
    """Raise if the models and the migrations disagree (alembic check)."""
    from alembic import command

    command.check(alembic_config(database_url))


def revision(database_url: str, message: str) -> None:
    """Autogenerate a migration from the models (developers: `ownerbot db revision -m ...`)."""
    from alembic import command

    command.revision(alembic_config(database_url), message=message, autogenerate=True)


def migration_heads() -> frozenset[str]:
    """The newest revision(s) the code's migrations reach: those no other migration names as its down_revision
    (read from the migration files, so the start-up check and /healthz never load alembic)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        for kind, name in REVISION.findall(path.read_text(encoding="utf-8")):
            if name:
                (revisions if kind == "revision" else parents).add(name)
    return frozenset(revisions - parents)


def head_revision() -> str:
    """The newest revision this code's migrations know."""
    return ", ".join(sorted(migration_heads()))


def _current_revisions(connection: Connection) -> tuple[str, ...]:
    if not inspect(connection).has_table("alembic_version"):
        return ()
    return tuple(connection.execute(text("SELECT version_num FROM alembic_version")).scalars())


def _one_line(error: BaseException) -> str:
    text = " ".join(str(error).split()) or type(error).__name__
    if text.startswith("(") and ") " in text:  # SQLAlchemy's "(driver.Error) message [SQL: …]"
        text = text.split(") ", 1)[1]
    return text.split(" [SQL:", 1)[0].split(" (Background on this error", 1)[0][:200]


async def schema_problem(database_url: str, *, connect_seconds: float = 5.0) -> str | None:
    """None when the database answers and its schema is the newest; otherwise one line saying what is wrong and
    what to do (`ownerbot serve` and every command check this before doing anything)."""
    shown = make_url(database_url).render_as_string(hide_password=True)
    options: dict[str, Any] = (
        {} if database_url.startswith("sqlite") else {"connect_args": {"timeout": connect_seconds}}
    )
    engine = create_engine(database_url, **options)
    try:
        async with asyncio.timeout(connect_seconds * 2), engine.connect() as connection:
            current = await connection.run_sync(_current_revisions)
    except Exception as error:  # whatever the driver raises: one line, no traceback
        return f"cannot reach the database at {shown}: {_one_line(error)}"
    finally:
        await engine.dispose()
    head = head_revision()
    if not current:
        return f"the database at {shown} has no tables yet: run `./ownerbot db upgrade`"
    if tuple(current) != (head,):
        return (
            f"the database at {shown} is at schema {', '.join(current)}, this ownerbot needs {head}: "
            "run `./ownerbot db upgrade`"
        )
    return None


def unreachable(database_url: str, error: BaseException) -> str:
    """The one line `db upgrade` / `db check` print when the database can't be reached or migrated."""
    shown = make_url(database_url).render_as_string(hide_password=True)
    return f"cannot migrate the database at {shown}: {_one_line(error)}"
