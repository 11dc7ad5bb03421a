"""Work a Slack listener leaves running when it returns (bolt answers Slack then), kept so shutdown and tests can
wait for it and its failures are logged."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any, TypeVar

log = logging.getLogger(__name__)
Done = TypeVar("Done")


class BackgroundWork:
    """The tasks listeners spawned and that are still running."""

    def __init__(self) -> None:
        self._idle = asyncio.Event()
        self._idle.set()
        self._tasks: set[asyncio.Task[Any]] = set()

    def spawn(self, work: Coroutine[Any, Any, Done]) -> asyncio.Task[Done]:
        """Run `work` as a task of its own, kept until it ends (its failure logged)."""
        self._idle.clear()
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._finished)
        return task

    async def spawn_within(self, work: Coroutine[Any, Any, Done], seconds: float) -> asyncio.Task[Done]:
        """`spawn`, then wait up to `seconds` for it to finish (an ack that can carry, or wait for, its answer)."""
        task = self.spawn(work)
        await asyncio.wait({task}, timeout=seconds)
        return task

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not self._tasks:
            self._idle.set()
        if not task.cancelled() and task.exception() is not None:
            log.error("Slack work failed after the ack", exc_info=task.exception())

    async def drain(self, seconds: float = 30) -> None:
        await asyncio.sleep(0)  # let listeners scheduled by the last request start
        async with asyncio.timeout(seconds):
            await self._idle.wait()
