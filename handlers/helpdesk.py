"""Helpdesk webhook intake: one event, one transaction, applied at most once (see ownership.helpdesk)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.clock import Clock
from db.models import Platform
from ownership.helpdesk import HelpdeskEvent, apply_helpdesk_event
from ownership.people import workspace_on_sight


@dataclass(frozen=True)
class IntakeResult:
    status: str  # "applied" | "duplicate"
    source: str
    ticket_id: int | None = None
    ticket_created: bool = False
    customer_created: bool = False
    flagged: bool = False
    unhappy: bool = False
    changes: list[str] = field(default_factory=list)

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
        """Apply an event the webhook face has read (`bot.web.helpdesk_payloads`) in one transaction."""
        now = self.clock()
        async with self.sessions() as session, session.begin():
            workspace = await workspace_on_sight(session, platform=self.platform, external_id=self.workspace, now=now)
            applied = await apply_helpdesk_event(session, workspace=workspace, event=event, now=now)
            if applied.duplicate:
                return IntakeResult("duplicate", event.source)
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
