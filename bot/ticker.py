"""The scheduler only ticks: every NUDGE_TICK_SECONDS it runs a list of async tick functions, each of which
re-checks the database under a lock (`jobs.Jobs.ticks`: the nudge sweep, then the gesture closer).

coalesce + max_instances=1: a slow tick is never run twice at once, and missed ticks collapse into one.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from db import metrics
from db.structured_logs import bound_request_id, log_event

log = logging.getLogger(__name__)
TickFn = Callable[[], Awaitable[Any]]


def job_name(tick: TickFn) -> str:
    """`NudgeSweeper.tick` -> `NudgeSweeper`: the job's name in logs and metrics."""
    qualname = str(getattr(tick, "__qualname__", type(tick).__name__))
    return qualname.rsplit(".", 1)[0] if "." in qualname else qualname


class Ticker:
    def __init__(self, ticks: Sequence[TickFn], *, seconds: float) -> None:
        self.ticks = list(ticks)
        self.seconds = seconds
        self.scheduler = AsyncIOScheduler(timezone="UTC")
        self._round = asyncio.Lock()

    async def run_once(self) -> None:
        """One round: every tick function, each failure logged and contained."""
        async with self._round:
            for tick in self.ticks:
                job = job_name(tick)
                started, outcome = time.perf_counter(), "ok"
                with bound_request_id():
                    try:
                        await tick()
                    except Exception:
                        outcome = "error"
                        log.exception("tick %s failed; it runs again at the next interval", job)
                    seconds = time.perf_counter() - started
                    metrics.count_sweep(job, outcome, seconds)
                    log_event(log, "sweep", name=job, outcome=outcome, seconds=seconds)

    def start(self) -> None:
        self.scheduler.add_job(
            self.run_once,
            IntervalTrigger(seconds=self.seconds),
            id="ownerbot-tick",
            coalesce=True,
            max_instances=1,
            replace_existing=True,
        )
        self.scheduler.start()
        log.info("ticker: every %gs (%d tick function(s))", self.seconds, len(self.ticks))

    async def shutdown(self) -> None:
        """Stop ticking and let a round in progress finish (its claims are then marked, not left to lease)."""
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
            await asyncio.sleep(0)  # AsyncIOScheduler shuts down on its loop's next turn
        async with self._round:
            pass
