"""A ticket's timeline: every change writes one `TicketEvent` (`timeline_event`); `ticket_timeline` reads them back."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Member, Mood, Platform, Ticket, TicketEvent, TicketEventKind


def timeline_event(
    ticket: Ticket, kind: TicketEventKind, *, actor: Member | None, platform: Platform, now: datetime, **values: object
) -> TicketEvent:
    """The timeline row a change writes, in the caller's transaction."""
    return TicketEvent(
        workspace_id=ticket.workspace_id,
        ticket_id=ticket.id,
        kind=kind,
        actor_id=actor.id if actor else None,
        platform=platform,
        at=now,
        **values,
    )


@dataclass(frozen=True)
class TimelineLine:
    at: datetime
    kind: TicketEventKind
    actor: str | None
    platform: Platform
    from_status: str | None
    to_status: str | None
    mood: Mood | None
    tone_score: float | None
    text: str | None


async def ticket_timeline(session: AsyncSession, *, ticket: Ticket, limit: int = 100) -> list[TimelineLine]:
    rows = await session.execute(
        select(TicketEvent, Member.display_name)
        .outerjoin(Member, Member.id == TicketEvent.actor_id)
        .where(TicketEvent.ticket_id == ticket.id)
        .order_by(TicketEvent.at.desc(), TicketEvent.id.desc())
        .limit(limit)
    )
    lines = [
        TimelineLine(e.at, e.kind, name, e.platform, e.from_status, e.to_status, e.mood, e.tone_score, e.text)
        for e, name in rows.all()
    ]
    return list(reversed(lines))
