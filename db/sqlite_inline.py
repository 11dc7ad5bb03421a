"""SQLite on the event loop's own thread: the driver SQLAlchemy's aiosqlite dialect talks to, without the thread.

aiosqlite runs every call (cursor, execute, fetchall, close, commit) on a worker thread and wakes the event loop
for each answer: about 26 thread round trips per command, which cost more CPU than the statements themselves
(an indexed SQLite statement takes microseconds). Here the same calls run inline, as coroutines that finish at
once, so SQLAlchemy's async engine, sessions and pool work unchanged.

Statements run without handing the loop back, so a statement hands it over (`asyncio.sleep(0)`) when 2 ms have
passed since one last did: a long transaction never holds up acks for longer than that.

What inline gives up is waiting in SQLite: a statement that finds the database locked by another connection must
not sleep in C (that would stop the event loop, and with it the connection that holds the lock). The
connection's busy timeout is 0; a "database is locked" answer is retried here, sleeping with `asyncio.sleep`,
until `timeout` seconds have passed (the same 30 s SQLite would wait). A statement that failed with SQLITE_BUSY
did nothing, so trying it again is safe.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

FIRST_PAUSE = 0.001
LONGEST_PAUSE = 0.05
# A statement that finishes at once never hands the loop back, so a long transaction (a sweep batch) would hold
# every other task, acks included, until it ends: a statement hands the loop over first once this long has passed
# since the last time one did.
TURN_SECONDS = 0.002
_turn = {"last": 0.0}


def _locked(error: sqlite3.OperationalError) -> bool:
    text = str(error).lower()
    return "locked" in text or "busy" in text


class InlineCursor:
    """The aiosqlite.Cursor calls SQLAlchemy makes, answered at once."""

    __slots__ = ("_connection", "_cursor")

    def __init__(self, connection: InlineConnection) -> None:
        self._connection = connection
        self._cursor = connection._conn.cursor()

    async def __aenter__(self) -> InlineCursor:
        return self

    async def __aexit__(self, *_: object) -> None:
        self._cursor.close()

    async def execute(self, sql: str, parameters: Sequence[Any] | dict[str, Any] = ()) -> InlineCursor:
        await self._connection._retry(self._cursor.execute, sql, parameters)
        return self

    async def executemany(self, sql: str, parameters: Iterable[Any]) -> InlineCursor:
        rows = list(parameters)
        await self._connection._retry(self._cursor.executemany, sql, rows)
        return self

    async def fetchone(self) -> Any:
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        return self._cursor.fetchmany(size if size is not None else self._cursor.arraysize)

    async def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    async def close(self) -> None:
        self._cursor.close()

    async def nextset(self) -> None:
        return None

    async def setinputsizes(self, *_: Any) -> None:
        return None

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


class _NoThread:
    """aiosqlite's request queue, which SQLAlchemy's dialect uses to set `isolation_level`: run at once."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._conn = connection

    def put_nowait(self, item: tuple[asyncio.Future[Any] | None, Callable[[], Any]]) -> None:
        future, function = item
        try:
            result = function()
        except BaseException as error:  # handed to whoever awaits the future
            if future is not None:
                future.set_exception(error)
            return
        if future is not None:
            future.set_result(result)


class InlineConnection:
    """The aiosqlite.Connection calls SQLAlchemy makes, on a sqlite3 connection used from the loop's thread."""

    def __init__(self, connection: sqlite3.Connection, timeout: float) -> None:
        self._conn = connection
        self._connection: sqlite3.Connection | None = connection
        self._tx = _NoThread(connection)
        self.timeout = timeout

    async def _retry(self, call: Callable[..., Any], *args: Any) -> Any:
        started = time.monotonic()
        if started - _turn["last"] > TURN_SECONDS:
            _turn["last"] = started
            await asyncio.sleep(0)  # the other tasks' turn (an ack waiting to be written)
        deadline: float | None = None
        pause = FIRST_PAUSE
        while True:
            try:
                return call(*args)
            except sqlite3.OperationalError as error:
                if not _locked(error):
                    raise
                now = time.monotonic()
                deadline = deadline if deadline is not None else now + self.timeout
                if now >= deadline:
                    raise
                await asyncio.sleep(pause)
                pause = min(pause * 2, LONGEST_PAUSE)

    def cursor(self) -> InlineCursor:
        return InlineCursor(self)

    async def commit(self) -> None:
        await self._retry(self._conn.commit)

    async def rollback(self) -> None:
        self._conn.rollback()

    async def close(self) -> None:
        self.stop()

    def stop(self) -> None:
        if self._connection is not None:
            self._connection = None
            self._conn.close()

    async def create_function(self, *args: Any, **kwargs: Any) -> None:
        self._conn.create_function(*args, **kwargs)

    @property
    def isolation_level(self) -> str | None:
        return self._conn.isolation_level


def connector(path: str, timeout: float) -> Callable[[], Any]:
    """`create_async_engine(..., async_creator=connector(path, 30))`: each pooled connection, opened inline in
    autocommit mode (SQLAlchemy begins transactions itself: db.engine) and with SQLite's own waiting off."""

    async def connect() -> InlineConnection:
        raw = sqlite3.connect(path, timeout=0, isolation_level=None, check_same_thread=False)
        return InlineConnection(raw, timeout)

    return connect
