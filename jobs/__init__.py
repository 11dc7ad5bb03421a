"""Scheduled orchestration: the work nobody typed a command for.

- `nudge_sweep`: plan, claim and render nudges, and hand each message to the outbox (`nudge_handover`).
- `gesture_closer`: close frugal-wow votes at their deadline and owe reminders.
- `gesture_sender`: draw the gesture cards and messages the outbox owes, at send time.
- `outbox_sender`: the one sender of everything the bot says on its own (woken after commits, and on each tick).

Jobs sit between the faces and the conversation layer: they render with handlers' renderers (neutral `Reply`s)
and send through the platforms' `Notifier`s, but never run a command. `Jobs` is what the ticker runs, built once
by the composition root.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from .gesture_closer import GestureCloser
from .nudge_sweep import NudgeSweeper
from .outbox_sender import OutboxSender

TickFn = Callable[[], Awaitable[object]]


@dataclass(frozen=True)
class Jobs:
    nudges: NudgeSweeper
    gestures: GestureCloser
    outbox: OutboxSender

    def ticks(self) -> list[TickFn]:
        """What the ticker calls every NUDGE_TICK_SECONDS, in order: nudges, gesture deadlines, then the outbox
        (which sends what the first two owe)."""
        return [self.nudges.tick, self.gestures.tick, self.outbox.tick]
