"""The scheduler only ticks: every NUDGE_TICK_SECONDS it runs a list of async tick functions, each of which
re-checks the database under a lock (nudges now; the gestures' proposal deadlines join at merge).

coalesce + max_instances=1: a slow tick is never run twice at once, and missed ticks collapse into one.
"""
from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

log = logging.getLogger(__name__)
TickFn = Callable[[], Awaitable[Any]]


class Ticker:
    def __init__(self, ticks: Sequence[TickFn], *, seconds: float) -> None:
        self.ticks = list(ticks)
        self.seconds = seconds
        self.scheduler = AsyncIOScheduler(timezone="UTC")

    async def run_once(self) -> None:
        """One round: every tick function, each failure logged and contained."""
        for tick in self.ticks:
            try:
                await tick()
            except Exception:
                log.exception("tick %s failed; it runs again at the next interval", getattr(tick, "__qualname__", tick))

    def start(self) -> None:
        self.scheduler.add_job(
            self.run_once, IntervalTrigger(seconds=self.seconds), id="ownerbot-tick",
            coalesce=True, max_instances=1, replace_existing=True,
        )
        self.scheduler.start()
        log.info("ticker: every %gs (%d tick function(s))", self.seconds, len(self.ticks))

    def shutdown(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
