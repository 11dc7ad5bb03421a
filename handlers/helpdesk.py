"""Helpdesk webhook intake: one event, one transaction, applied at most once (see ownership.helpdesk)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.clock import Clock
from db.models import Platform
from ownership.errors import DomainError
from ownership.helpdesk import HelpdeskEvent, apply_helpdesk_event, record_failed_delivery
from ownership.people import workspace_on_sight

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IntakeResult:
    status: str  # "applied" | "duplicate" | "failed"
    source: str
    ticket_id: int | None = None
    ticket_created: bool = False
    customer_created: bool = False
    flagged: bool = False
    unhappy: bool = False
    changes: list[str] = field(default_factory=list)
    delivery_id: int | None = None  # the failed delivery's row

    def as_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "source": self.source,
            "ticket_id": self.ticket_id,
            "ticket_created": self.ticket_created,
            "customer_created": self.customer_created,
            "flagged": self.flagged,
            "unhappy": self.unhappy,
            "changes": self.changes,
        }


class HelpdeskIntake:
    """Applies helpdesk events into one configured workspace (`platform:external_id`)."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        platform: Platform,
        workspace: str,
        clock: Clock,
    ) -> None:
        self.sessions = sessions
        self.platform = platform
        self.workspace = workspace
        self.clock = clock

    async def receive(self, event: HelpdeskEvent) -> IntakeResult:
        """Apply an event the webhook face has read (`bot.web.helpdesk_payloads`) in one transaction. When applying
        fails unexpectedly, nothing of it is written, and the event is kept as failed in a transaction of its own
        (its redeliveries are then answered "failed" at once, never tried again)."""
        now = self.clock()
        try:
            return await self._apply(event, now)
        except DomainError:
            raise
        except Exception as error:  # the kind of error only: its text may quote the customer's words
            log.error(
                "helpdesk webhook: %s event %s could not be applied (%s)",
                event.source,
                event.ref[:40],
                type(error).__name__,
            )
            async with self.sessions() as session, session.begin():
                workspace = await workspace_on_sight(
                    session, platform=self.platform, external_id=self.workspace, now=now
                )
                delivery_id = await record_failed_delivery(
                    session, workspace=workspace, event=event, error=type(error).__name__, now=now
                )
            return IntakeResult("failed", event.source, delivery_id=delivery_id)

    async def _apply(self, event: HelpdeskEvent, now: datetime) -> IntakeResult:
        async with self.sessions() as session, session.begin():
            workspace = await workspace_on_sight(session, platform=self.platform, external_id=self.workspace, now=now)
            applied = await apply_helpdesk_event(session, workspace=workspace, event=event, now=now)
            if applied.duplicate:
                return IntakeResult("failed" if applied.failed else "duplicate", event.source)
            return IntakeResult(
                "applied",
                event.source,
                applied.ticket.id if applied.ticket else None,
                applied.ticket_created,
                applied.customer_created,
                applied.flagged,
                applied.became_unhappy,
                list(applied.changes),
            )
