"""A ticket's status and its clocks: the status the helpdesk reports (`set_status`, whatever it was before) and the
moves that make sense from chat (`change_status`: pending, reopen, resolve). Leaving *pending* adds the pause to
`pending_seconds`; *resolved* and *closed* set their times; reopening clears them.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Member, Platform, Ticket, TicketEventKind, TicketStatus

from .errors import Conflict
from .timeline import timeline_event

STATUS_EVENT = {
    TicketStatus.OPEN: TicketEventKind.REOPENED,
    TicketStatus.PENDING: TicketEventKind.PENDING,
    TicketStatus.RESOLVED: TicketEventKind.RESOLVED,
    TicketStatus.CLOSED: TicketEventKind.CLOSED,
}


def _transition(ticket: Ticket, to: TicketStatus, now: datetime) -> TicketStatus:
    """Move the status and its clocks; returns the status it left."""
    before = ticket.status
    if before == TicketStatus.PENDING and ticket.pending_since is not None:
        ticket.pending_seconds = (ticket.pending_seconds or 0) + max(
            0, int((now - ticket.pending_since).total_seconds())
        )
        ticket.pending_since = None
    if to == TicketStatus.PENDING:
        ticket.pending_since = now
    elif to == TicketStatus.RESOLVED:
        ticket.resolved_at = now
    elif to == TicketStatus.CLOSED:
        ticket.closed_at = now
        ticket.resolved_at = ticket.resolved_at or now
    elif to == TicketStatus.OPEN:
        ticket.resolved_at = None
        ticket.closed_at = None
    ticket.status = to
    ticket.last_activity_at = max(ticket.last_activity_at, now)
    return before


async def set_status(
    session: AsyncSession,
    *,
    ticket: Ticket,
    to: TicketStatus,
    actor: Member | None,
    platform: Platform,
    now: datetime,
    why: str | None = None,
) -> Ticket:
    """Apply a status the helpdesk reports, whatever it was before (the helpdesk is the source of truth)."""
    if ticket.status == to:
        return ticket
    before = _transition(ticket, to, now)
    session.add(
        timeline_event(
            ticket,
            STATUS_EVENT[to],
            actor=actor,
            platform=platform,
            now=now,
            from_status=before.value,
            to_status=to.value,
            text=why,
        )
    )
    await session.flush()
    return ticket


CHAT_TRANSITIONS = {
    TicketStatus.PENDING: (TicketStatus.OPEN,),
    TicketStatus.OPEN: (TicketStatus.PENDING, TicketStatus.RESOLVED),
    TicketStatus.RESOLVED: (TicketStatus.OPEN, TicketStatus.PENDING),
}
REFUSALS = {
    (TicketStatus.PENDING, TicketStatus.PENDING): "#{id} is already pending (waiting on the customer).",
    (
        TicketStatus.PENDING,
        TicketStatus.RESOLVED,
    ): "#{id} is resolved; `ticket reopen {id}` first if the customer still needs something.",
    (TicketStatus.OPEN, TicketStatus.OPEN): "#{id} is already open.",
    (TicketStatus.RESOLVED, TicketStatus.RESOLVED): "#{id} is already resolved.",
}


async def change_status(
    session: AsyncSession, *, ticket: Ticket, to: TicketStatus, actor: Member, platform: Platform, now: datetime
) -> Ticket:
    """`ticket pending|reopen|resolve` from chat: only the moves that make sense; closed tickets stay closed."""
    if ticket.status == TicketStatus.CLOSED:
        raise Conflict(f"#{ticket.id} is closed at the helpdesk; open a new ticket if the customer needs more.")
    if ticket.status not in CHAT_TRANSITIONS.get(to, ()):
        raise Conflict(REFUSALS[(to, ticket.status)].format(id=ticket.id))
    return await set_status(session, ticket=ticket, to=to, actor=actor, platform=platform, now=now)
