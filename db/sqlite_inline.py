"""SQLite on the event loop's own thread, as an async SQLAlchemy dialect (`sqlite+inline`).

aiosqlite runs every call (cursor, execute, fetchall, close, commit) on a worker thread and wakes the event loop
for each answer; SQLAlchemy's asyncio adapter then switches greenlets for each of those calls. An indexed SQLite
statement takes microseconds, so both cost more than the SQL. Here SQLAlchemy's pysqlite dialect runs as an
async dialect: the async engine, sessions and pool work as with any other driver (every database call runs in
SQLAlchemy's greenlet), but a statement is a plain sqlite3 call that leaves the greenlet only to wait.

It waits in two cases, both with `asyncio.sleep` on the loop (`await_`):
- a statement hands the loop over when 2 ms have passed since one last did, so a long transaction (a sweep batch)
  never holds up acks for longer than that;
- a statement that finds the database locked by another connection must not sleep in C (that would stop the
  event loop, and with it the connection that holds the lock): the connection's busy timeout is 0, and a
  "database is locked" answer is retried, backing off from 1 to 50 ms, until `wait` seconds have passed (the
  same 30 s SQLite would wait). A statement that failed with SQLITE_BUSY did nothing, so trying it again is safe.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
import types
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Literal

from sqlalchemy import pool
from sqlalchemy.dialects import registry
from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite
from sqlalchemy.engine import URL
from sqlalchemy.util.concurrency import await_

DRIVER = "sqlite+inline"
FIRST_PAUSE = 0.001
LONGEST_PAUSE = 0.05
TURN_SECONDS = 0.002  # a statement hands the loop over first once this long has passed since one last did
_turn = {"last": 0.0}


class _Done:
    """An awaitable that is already done: awaiting it hands nothing to the loop."""

    def __await__(self) -> Any:
        return None
        yield  # a generator that returns at once


_DONE = _Done()


def _locked(error: sqlite3.OperationalError) -> bool:
    text = str(error).lower()
    return "locked" in text or "busy" in text


class InlineCursor:
    """A sqlite3 cursor whose execute waits for a locked database on the event loop."""

    __slots__ = ("_connection", "_cursor")

    def __init__(self, connection: InlineConnection) -> None:
        self._connection = connection
        self._cursor = connection.raw.cursor()

    def execute(self, sql: str, parameters: Sequence[Any] | dict[str, Any] = ()) -> InlineCursor:
        self._connection.retry(self._cursor.execute, sql, parameters)
        return self

    def executemany(self, sql: str, parameters: Iterable[Any]) -> InlineCursor:
        self._connection.retry(self._cursor.executemany, sql, list(parameters))
        return self

    def fetchone(self) -> Any:
        return self._cursor.fetchone()

    def fetchmany(self, size: int | None = None) -> list[Any]:
        return self._cursor.fetchmany(size if size is not None else self._cursor.arraysize)

    def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    def close(self) -> None:
        self._cursor.close()

    def setinputsizes(self, *_: Any) -> None:
        return None

    async def _async_soft_close(self) -> None:
        """SQLAlchemy's async results call this after executing; the rows stay with sqlite3, read when asked for,
        as with the pysqlite driver (nothing in them waits on anything)."""

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    @property
    def arraysize(self) -> int:
        return self._cursor.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cursor.arraysize = value


class InlineConnection:
    """A sqlite3 connection (opened in autocommit mode, busy timeout 0) used from the loop's own thread."""

    __slots__ = ("raw", "wait")

    def __init__(self, raw: sqlite3.Connection, wait: float) -> None:
        self.raw = raw
        self.wait = wait

    def retry(self, call: Callable[..., Any], *args: Any) -> Any:
        started = time.monotonic()
        if started - _turn["last"] > TURN_SECONDS:
            _turn["last"] = started
            await_(asyncio.sleep(0))  # the other tasks' turn (an ack waiting to be written)
        else:  # SQLAlchemy's AsyncConnection checks that the driver left the greenlet: an awaitable that is done
            await_(_DONE)
        deadline: float | None = None
        pause = FIRST_PAUSE
        while True:
            try:
                return call(*args)
            except sqlite3.OperationalError as error:
                if not _locked(error):
                    raise
                now = time.monotonic()
                deadline = deadline if deadline is not None else now + self.wait
                if now >= deadline:
                    raise
                await_(asyncio.sleep(pause))
                pause = min(pause * 2, LONGEST_PAUSE)

    def cursor(self) -> InlineCursor:
        return InlineCursor(self)

    def commit(self) -> None:
        self.retry(self.raw.commit)

    def rollback(self) -> None:
        self.raw.rollback()

    def close(self) -> None:
        self.raw.close()

    def create_function(self, *args: Any, **kwargs: Any) -> None:
        self.raw.create_function(*args, **kwargs)

    @property
    def isolation_level(self) -> str | None:
        return self.raw.isolation_level

    @isolation_level.setter
    def isolation_level(self, value: Literal["DEFERRED", "EXCLUSIVE", "IMMEDIATE"] | None) -> None:
        self.raw.isolation_level = value


def connect(database: str, *, wait: float = 30.0, **options: Any) -> InlineConnection:
    """sqlite3.connect in autocommit mode (SQLAlchemy begins transactions itself: db.engine), usable from any
    thread the loop runs on, with SQLite's own waiting off (`wait` is ours)."""
    options.update(timeout=0, isolation_level=None, check_same_thread=False)
    return InlineConnection(sqlite3.connect(database, **options), wait)


DBAPI = types.ModuleType("ownerbot_sqlite_inline")
DBAPI.__dict__.update({name: getattr(sqlite3, name) for name in dir(sqlite3) if not name.startswith("__")})
DBAPI.connect = connect  # type: ignore[attr-defined]


class SQLiteDialectInline(SQLiteDialect_pysqlite):
    """SQLAlchemy's pysqlite dialect, on `InlineConnection`s, for the async engine."""

    driver = "inline"
    is_async = True
    supports_statement_cache = True

    @classmethod
    def import_dbapi(cls) -> Any:
        return DBAPI

    @classmethod
    def get_pool_class(cls, url: URL) -> type[pool.Pool]:
        return pool.AsyncAdaptedQueuePool if cls._is_url_file_db(url) else pool.StaticPool


registry.register("sqlite.inline", __name__, SQLiteDialectInline.__name__)
