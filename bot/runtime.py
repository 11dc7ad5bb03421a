"""The runtime: what the composition root (`app.py`) builds once and hands to every face's `register`.

One clock, one engine and session factory, the nudge policy, the `Handlers` every face calls, the notifiers
through which the bot speaks first on each platform, and the outbox sender that uses them. A face that is on
adds its notifier while it registers; the sender and the jobs read the same mapping, so they reach every face
that is on.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from db.clock import Clock
from db.models import Platform
from handlers import Handlers
from handlers.ports import Notifier
from jobs.outbox_sender import OutboxSender
from nudges.settings import NudgeSettings

from .settings import Settings


@dataclass(frozen=True)
class Runtime:
    settings: Settings
    policy: NudgeSettings
    clock: Clock
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    handlers: Handlers
    notifiers: dict[Platform, Notifier]
    outbox: OutboxSender  # sends everything the bot says on its own; reads `notifiers`

    def add_notifier(self, notifier: Notifier) -> None:
        """A face that is on: from now on the bot can speak first on its platform."""
        self.notifiers[notifier.platform] = notifier
