"""Scheduled orchestration: the work nobody typed a command for.

- `nudge_sweep`: plan, claim and render nudges, and hand each message to the outbox (`nudge_handover`).
- `gesture_closer`: close frugal-wow votes at their deadline and owe reminders.
- `gesture_sender`: draw the gesture cards and messages the outbox owes, at send time.
- `outbox_sender`: the one sender of everything the bot says on its own (woken after commits, and on each tick).
- `custody_returns`: step-outs and away covers whose period is over go back to their owner.
- `retention`: prune old webhook deliveries, Slack event ids, finished nudges and gesture messages, in batches.

Jobs sit between the faces and the conversation layer: they render with handlers' renderers (neutral `Reply`s)
and send through the platforms' `Notifier`s, but never run a command. `Jobs` is what the ticker runs, built once
by the composition root.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from .custody_returns import CustodyReturns
from .gesture_closer import GestureCloser
from .nudge_sweep import NudgeSweeper
from .outbox_sender import OutboxSender
from .retention import Retention

TickFn = Callable[[], Awaitable[object]]


@dataclass(frozen=True)
class Jobs:
    nudges: NudgeSweeper
    gestures: GestureCloser
    outbox: OutboxSender
    custody: CustodyReturns | None = None
    retention: Retention | None = None

    def ticks(self) -> list[TickFn]:
        """What the ticker calls every NUDGE_TICK_SECONDS, in order: custody returns (so the nudges that follow
        go to the right person), nudges, gesture deadlines, the outbox (which sends what the others owe), then
        retention."""
        first = [self.custody.tick] if self.custody is not None else []
        last = [self.retention.tick] if self.retention is not None else []
        return [*first, self.nudges.tick, self.gestures.tick, self.outbox.tick, *last]
