"""Engine and session factory.

SQLite runs with WAL, foreign keys on, statements on the event loop's own thread (`db.sqlite_inline`: a locked
database is waited for, up to 30 s, without stopping the loop), and `BEGIN IMMEDIATE` for every transaction that
may write, so that concurrent writers queue up instead of failing with "database is locked" half-way through a
transaction; a session that only reads says so (READ_ONLY) and begins DEFERRED.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from . import metrics, sqlite_inline

READ_ONLY_OPTION = "ownerbot_read_only"
# `await session.connection(execution_options=READ_ONLY)` first thing in a session that only reads: on SQLite its
# transaction begins DEFERRED (a snapshot, no write lock), so it never queues behind or blocks a writer.
READ_ONLY: dict[str, Any] = {READ_ONLY_OPTION: True}
SQLITE_WAIT_SECONDS = 30.0  # how long a statement waits for another connection's write lock


def default_database_url() -> str:
    return f"sqlite+aiosqlite:///{Path.cwd() / 'ownerbot.sqlite3'}"


def normalize_database_url(url: str) -> str:
    """Accept the URLs people paste and pick our async drivers for them."""
    url = url.strip()
    for prefix in ("postgres://", "postgresql://", "postgresql+psycopg://", "postgresql+psycopg2://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    if url.startswith("sqlite://") and not url.startswith("sqlite+aiosqlite://"):
        return "sqlite+aiosqlite://" + url[len("sqlite://") :]
    if url.startswith(("postgresql+asyncpg://", "sqlite+aiosqlite://")):
        return url
    raise ValueError("must be a sqlite:// or postgresql:// URL")


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    if url.startswith("sqlite"):
        inline = make_url(url).set(drivername=sqlite_inline.DRIVER)
        connect_args = {**kwargs.pop("connect_args", {}), "wait": SQLITE_WAIT_SECONDS}
        engine = create_async_engine(inline, connect_args=connect_args, **kwargs)
        _configure_sqlite(engine)
    else:
        kwargs.setdefault("pool_pre_ping", False)  # a lost connection is retried instead (Handlers)
        engine = create_async_engine(url, **kwargs)
    event.listen(engine.sync_engine, "handle_error", _count_error)
    event.listen(engine.sync_engine, "before_cursor_execute", _count_statement)
    event.listen(engine.sync_engine, "begin", _count_transaction)
    return engine


def _count_statement(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
    """Statements per command are a cost we watch (bench/commands.py reads ownerbot_database_statements_total);
    SQLite's BEGIN counts as the transaction it begins."""
    if not statement.startswith("BEGIN"):
        metrics.count_statement()


def _count_transaction(*_: Any) -> None:
    metrics.count_transaction()


def _count_error(context: Any) -> None:
    """Every error the database driver raises is counted (ownerbot_database_errors_total), by its class."""
    metrics.count_database_error(type(context.original_exception).__name__)


def _configure_sqlite(engine: AsyncEngine) -> None:
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # SQLAlchemy, not the driver, decides when transactions begin (see "begin" below): the connection is
        # opened in autocommit mode. SQLite never waits for a lock itself (busy_timeout 0): a statement that finds
        # the database locked is retried without stopping the event loop (db.sqlite_inline).
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=0")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Writers take the write lock up front; a read-only transaction (READ_ONLY) takes none and never waits.
        conn.exec_driver_sql("BEGIN" if conn.get_execution_options().get(READ_ONLY_OPTION) else "BEGIN IMMEDIATE")


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)
