"""Scheduled orchestration: the work nobody typed a command for.

- `nudge_sweep`: plan, claim, render and send nudges, and mark what happened.
- `gesture_closer`: close frugal-wow votes at their deadline, owe reminders, send what is owed.
- `gesture_sender`: send the gesture cards and messages a change owes (right after its commit, and on each tick).
- `retention`: prune old webhook deliveries, Slack event ids, finished nudges and gesture messages, in batches.

Jobs sit between the faces and the conversation layer: they render with handlers' renderers (neutral `Reply`s)
and send through the platforms' `Notifier`s, but never run a command. `Jobs` is what the ticker runs, built once
by the composition root.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from .gesture_closer import GestureCloser
from .nudge_sweep import NudgeSweeper
from .retention import Retention

TickFn = Callable[[], Awaitable[object]]


@dataclass(frozen=True)
class Jobs:
    nudges: NudgeSweeper
    gestures: GestureCloser
    retention: Retention | None = None

    def ticks(self) -> list[TickFn]:
        """What the ticker calls every NUDGE_TICK_SECONDS, in order: nudges, gesture deadlines, retention."""
        ticks: list[TickFn] = [self.nudges.tick, self.gestures.tick]
        return ticks + ([self.retention.tick] if self.retention else [])
