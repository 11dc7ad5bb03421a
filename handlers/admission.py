"""Backpressure: the database work of commands runs under a bound sized to the database.

A burst of commands is acknowledged at once (the platform's limit is seconds), but their transactions take turns:
at most `slots` at a time (one on SQLite, which has one writer; a configurable number on PostgreSQL, below the
connection pool's size), the rest waiting in arrival order. Nobody waits on the pool or on a database lock, so no
command fails because of load; one that waited longer than `patience` seconds for its turn is answered "busy"
and changes nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

BUSY = "ownerbot is very busy right now and could not get to that in time; nothing was changed. Please try again."


class Busy(Exception):
    """The command waited `patience` seconds for its turn: it did not run."""


class Admission:
    def __init__(self, slots: int, patience: float) -> None:
        if slots < 1:
            raise ValueError("at least one slot")
        self.slots = slots
        self.patience = patience
        self._free = asyncio.Semaphore(slots)  # wakes its waiters first come, first served
        self.waiting = 0

    @asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        """Wait for a slot (in order, up to `patience` seconds, else `Busy`), hold it for the block."""
        self.waiting += 1
        try:
            async with asyncio.timeout(self.patience):
                await self._free.acquire()
        except TimeoutError:
            raise Busy from None
        finally:
            self.waiting -= 1
        try:
            yield
        finally:
            self._free.release()
