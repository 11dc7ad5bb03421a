"""What reads tickets back: service-level timings, someone's or a customer's ticket list, and who hears about an
unowned customer's ticket. A ticket's timeline is read in `timeline`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from db.models import Customer, Member, Role, Team, Ticket, TicketStatus

ACTIVE = (TicketStatus.OPEN, TicketStatus.PENDING)


@dataclass(frozen=True)
class ServiceLevels:
    first_response: timedelta | None  # opened → first agent note
    pending: timedelta  # total time waiting on the customer, including a pause still running
    resolution: timedelta | None  # opened → resolved, minus the time pending
    since_activity: timedelta


def service_levels(ticket: Ticket, *, now: datetime) -> ServiceLevels:
    pending = ticket.pending_seconds or 0
    if ticket.status == TicketStatus.PENDING and ticket.pending_since is not None:
        pending += max(0, int((now - ticket.pending_since).total_seconds()))
    first = ticket.first_response_at - ticket.opened_at if ticket.first_response_at else None
    resolution = None
    if ticket.resolved_at is not None:
        resolution = ticket.resolved_at - ticket.opened_at - timedelta(seconds=ticket.pending_seconds or 0)
    return ServiceLevels(first, timedelta(seconds=pending), resolution, now - ticket.last_activity_at)


def current_owner_id(ticket: Ticket, customer: Customer) -> int | None:
    """Who owns a ticket now: open and pending tickets follow their customer's owner; a resolved or closed one
    stays as it was, so its customer's owner is who owns it now."""
    return ticket.owner_id if ticket.status in ACTIVE else customer.owner_id


@dataclass(frozen=True)
class TicketRow:
    ticket: Ticket
    customer: str
    owner: str | None  # the current owner (see `current_owner_id`)


async def list_tickets(
    session: AsyncSession,
    *,
    workspace_id: int,
    owner_id: int | None = None,
    customer_id: int | None = None,
    limit: int = 25,
) -> list[TicketRow]:
    """Someone's open and pending tickets, or a customer's tickets that are not closed; newest activity first."""
    owner = aliased(Member)
    current = case((Ticket.status.in_(ACTIVE), Ticket.owner_id), else_=Customer.owner_id)
    query = (
        select(Ticket, Customer.name, owner.display_name)
        .join(Customer, Customer.id == Ticket.customer_id)
        .outerjoin(owner, owner.id == current)
        .where(Ticket.workspace_id == workspace_id)
    )
    if owner_id is not None:
        query = query.where(Ticket.owner_id == owner_id, Ticket.status.in_(ACTIVE))
    if customer_id is not None:
        query = query.where(Ticket.customer_id == customer_id, Ticket.status != TicketStatus.CLOSED)
    rows = await session.execute(query.order_by(Ticket.last_activity_at.desc(), Ticket.id.desc()).limit(limit))
    return [TicketRow(t, c, o) for t, c, o in rows.all()]


async def team_to_tell(session: AsyncSession, *, customer: Customer) -> list[Member]:
    """Who hears about an unowned customer's ticket: the customer's team lead, else the leads, else the admins."""
    if customer.team_id is not None:
        lead_id = await session.scalar(select(Team.lead_id).where(Team.id == customer.team_id))
        if lead_id is not None:
            lead = await session.get(Member, lead_id)
            if lead is not None:
                return [lead]
    for role in (Role.LEAD, Role.ADMIN):
        found = list(
            (
                await session.execute(
                    select(Member)
                    .where(Member.workspace_id == customer.workspace_id, Member.role == role)
                    .order_by(Member.id)
                )
            ).scalars()
        )
        if found:
            return found
    return []
