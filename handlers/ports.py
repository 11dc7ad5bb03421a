"""Ports the handlers and the jobs talk through: each platform implements `Notifier` in bot/<platform>/; the one
outbox sender (`jobs.outbox_sender`) sends everything the bot says on its own through it."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass
from typing import Protocol

from db.models import Platform

from .replies import Reply

# What the outbox sender is sending right now ("notice", "nudge", "digest", "gesture-card" …), set around each
# Notifier call, so a notifier that keeps records (the console inbox) can say what a message is without the
# Notifier protocol changing. None outside the sender.
SENDING_PURPOSE: ContextVar[str | None] = ContextVar("ownerbot_sending_purpose", default=None)


@dataclass(frozen=True)
class MessageRef:
    """Where a sent message lives, so it can be updated in place later (Slack ts, Teams activity id)."""

    platform: Platform
    workspace: str
    channel_id: str
    message_id: str


class DeliveryFailed(Exception):
    """The platform did not take the message. `retry_after` (seconds) when it may work later; `permanent`
    when it never will (e.g. the person never talked to the bot on Teams)."""

    def __init__(self, message: str, *, retry_after: float | None = None, permanent: bool = False) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.permanent = permanent


class Notifier(Protocol):
    """Sends what the bot says on its own initiative: nudges, digests, gesture cards, handoff offers."""

    platform: Platform

    async def send_direct(self, *, workspace: str, user_id: str, reply: Reply) -> MessageRef: ...

    async def post_channel(self, *, workspace: str, channel_id: str, reply: Reply) -> MessageRef: ...

    async def update(self, *, ref: MessageRef, reply: Reply) -> None: ...
