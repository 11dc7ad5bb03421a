"""A ticket's service-level clocks: when each target is due on its calendar, and how far past due it is.

The clocks stop while the ticket waits on the customer; on a business calendar those pauses count only their
business time. `ticket_clocks` is what the rules, the lists and the reports all read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Ticket, TicketEvent, TicketStatus

from .business_time import BusinessCalendar
from .levels import Targets
from .settings import NudgeSettings


def paused_seconds(ticket: Ticket, now: datetime) -> float:
    """Wall-clock time the ticket waited on the customer (the service-level clock stops meanwhile)."""
    paused = float(ticket.pending_seconds or 0)
    if ticket.status == TicketStatus.PENDING and ticket.pending_since is not None:
        paused += max(0.0, (now - ticket.pending_since).total_seconds())
    return paused


Pauses = list[tuple[datetime, datetime]]


async def pauses_of(session: AsyncSession, ticket: Ticket) -> Pauses:
    """The finished waits on the customer, from the ticket's timeline (read only when it ever waited)."""
    if not ticket.pending_seconds:
        return []
    rows = await session.execute(
        select(TicketEvent.at, TicketEvent.from_status, TicketEvent.to_status)
        .where(
            TicketEvent.ticket_id == ticket.id,
            or_(
                TicketEvent.to_status == TicketStatus.PENDING.value,
                TicketEvent.from_status == TicketStatus.PENDING.value,
            ),
        )
        .order_by(TicketEvent.at, TicketEvent.id)
    )
    spans: Pauses = []
    began: datetime | None = None
    for at, before, after in rows.all():
        if after == TicketStatus.PENDING.value:
            began = at
        elif before == TicketStatus.PENDING.value and began is not None:
            spans.append((began, at))
            began = None
    return spans


def business_pause(ticket: Ticket, calendar: BusinessCalendar, pauses: Pauses | None) -> timedelta:
    """The business time of the finished pauses; pauses the timeline does not show count as they were."""
    wall = timedelta(seconds=ticket.pending_seconds or 0)
    if not pauses:
        return wall
    counted = sum((calendar.between(a, b) for a, b in pauses), timedelta(0))
    seen = sum((b - a for a, b in pauses), timedelta(0))
    return counted + max(timedelta(0), wall - seen)


@dataclass(frozen=True)
class Clock:
    """One service-level clock of a ticket: when it is due and, past that, how far over in business time."""

    name: str
    target: timedelta
    due_at: datetime
    warn_at: datetime
    overdue: timedelta | None  # business time past due (None: not due yet)


def target_clock(
    ticket: Ticket,
    name: str,
    target: timedelta,
    calendar: BusinessCalendar,
    pause: timedelta,
    *,
    now: datetime,
    warn: float,
) -> Clock:
    due = calendar.add(ticket.opened_at, target + pause)
    warn_at = calendar.add(ticket.opened_at, target * warn + pause)
    overdue = calendar.between(due, now) if now >= due else None
    return Clock(name, target, due, warn_at, overdue)


def show_due(moment: datetime, calendar: BusinessCalendar) -> str:
    local = moment.astimezone(calendar.zone)
    return f"{local:%a %d %b %H:%M} {calendar.zone.key}"


def ticket_clocks(
    ticket: Ticket,
    targets: Targets,
    *,
    calendar: BusinessCalendar,
    pauses: Pauses | None,
    policy: NudgeSettings,
    now: datetime,
) -> list[Clock]:
    """The running service-level clocks of an open ticket (first response until answered, and resolution)."""
    if ticket.status != TicketStatus.OPEN:
        return []  # pending: the clock is stopped; resolved or closed: nothing is due
    pause = business_pause(ticket, calendar, pauses)
    warn = policy.warning_percent / 100
    clocks = []
    if ticket.first_response_at is None:
        target = targets.scaled(targets.first_response, ticket.priority)
        clocks.append(target_clock(ticket, "first-response", target, calendar, pause, now=now, warn=warn))
    target = targets.scaled(targets.resolution, ticket.priority)
    clocks.append(target_clock(ticket, "resolution", target, calendar, pause, now=now, warn=warn))
    return clocks
