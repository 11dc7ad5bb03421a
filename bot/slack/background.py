"""Work a Slack listener does after its ack, counted so that shutdown (and tests) can wait for it."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

log = logging.getLogger(__name__)


class BackgroundWork:
    """Counts listeners still working after their ack, so shutdown (and tests) can wait for them."""

    def __init__(self) -> None:
        self._running = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self._tasks: set[asyncio.Task[None]] = set()

    async def __aenter__(self) -> BackgroundWork:
        self._running += 1
        self._idle.clear()
        return self

    async def __aexit__(self, kind: object, error: BaseException | None, trace: object) -> bool:
        self._running -= 1
        if self._running == 0:
            self._idle.set()
        if error is not None and not isinstance(error, asyncio.CancelledError):
            log.error("Slack work failed after the ack", exc_info=error)
            return True
        return False

    def spawn(self, work: Coroutine[Any, Any, None]) -> None:
        """Run `work` as a task of its own, counted (and its failure logged) like work inside `async with`."""
        self._running += 1
        self._idle.clear()
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        self._running -= 1
        if self._running == 0:
            self._idle.set()
        if not task.cancelled() and task.exception() is not None:
            log.error("Slack work failed after the ack", exc_info=task.exception())

    async def drain(self, seconds: float = 30) -> None:
        await asyncio.sleep(0)  # let listeners scheduled by the last request start
        async with asyncio.timeout(seconds):
            await self._idle.wait()
