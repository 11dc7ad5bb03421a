"""Who owns what: a customer's owner and pending handoff, its ownership history (the audit trail), how often it
changed hands, and a member's customers, open tickets and the handoffs waiting for their answer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from db.models import (
    Customer,
    EventKind,
    HandoffRequest,
    HandoffStatus,
    Member,
    OwnershipEvent,
    Platform,
    Ticket,
    TicketStatus,
)

from .errors import NotFound

ACTIVE_STATUSES = (TicketStatus.OPEN, TicketStatus.PENDING)
REASSIGN_KINDS = (EventKind.HANDOFF_ACCEPTED, EventKind.REASSIGN, EventKind.RELEASE)


async def pending_handoff(session: AsyncSession, *, customer: Customer) -> HandoffRequest | None:
    return (
        await session.execute(
            select(HandoffRequest).where(
                HandoffRequest.customer_id == customer.id, HandoffRequest.status == HandoffStatus.PENDING
            )
        )
    ).scalar_one_or_none()


async def get_handoff(session: AsyncSession, *, workspace_id: int, handoff_id: int) -> HandoffRequest:
    handoff = await session.get(HandoffRequest, handoff_id)
    if handoff is None or handoff.workspace_id != workspace_id:
        raise NotFound("That handoff no longer exists.")
    return handoff


async def handoffs_waiting_for(session: AsyncSession, *, member: Member) -> list[tuple[HandoffRequest, Customer]]:
    rows = await session.execute(
        select(HandoffRequest, Customer)
        .join(Customer, Customer.id == HandoffRequest.customer_id)
        .where(HandoffRequest.to_member_id == member.id, HandoffRequest.status == HandoffStatus.PENDING)
        .order_by(HandoffRequest.requested_at)
    )
    return [(h, c) for h, c in rows.all()]


@dataclass(frozen=True)
class Ownership:
    customer: Customer
    owner: Member | None
    pending: HandoffRequest | None
    pending_to: Member | None
    reassigns: int


async def who_owns(session: AsyncSession, *, customer: Customer) -> Ownership:
    owner = await session.get(Member, customer.owner_id) if customer.owner_id else None
    pending = await pending_handoff(session, customer=customer)
    pending_to = await session.get(Member, pending.to_member_id) if pending else None
    return Ownership(customer, owner, pending, pending_to, await customer_reassign_count(session, customer=customer))


async def customer_reassign_count(session: AsyncSession, *, customer: Customer) -> int:
    """How often the customer moved between people: accepted handoffs, reassignments and releases."""
    return (
        await session.scalar(
            select(func.count())
            .select_from(OwnershipEvent)
            .where(OwnershipEvent.customer_id == customer.id, OwnershipEvent.kind.in_(REASSIGN_KINDS))
        )
    ) or 0


@dataclass(frozen=True)
class HistoryLine:
    at: datetime
    kind: EventKind
    actor: str | None
    from_name: str | None
    to_name: str | None
    reason: str | None
    platform: Platform


async def customer_history(session: AsyncSession, *, customer: Customer, limit: int = 50) -> list[HistoryLine]:
    actor, source, target = aliased(Member), aliased(Member), aliased(Member)
    rows = await session.execute(
        select(OwnershipEvent, actor.display_name, source.display_name, target.display_name)
        .outerjoin(actor, actor.id == OwnershipEvent.actor_id)
        .outerjoin(source, source.id == OwnershipEvent.from_member_id)
        .outerjoin(target, target.id == OwnershipEvent.to_member_id)
        .where(OwnershipEvent.customer_id == customer.id)
        .order_by(OwnershipEvent.at.desc(), OwnershipEvent.id.desc())
        .limit(limit)
    )
    lines = [HistoryLine(e.at, e.kind, a, f, t, e.reason, e.platform) for e, a, f, t in rows.all()]
    return list(reversed(lines))


@dataclass(frozen=True)
class MyCustomer:
    customer: Customer
    open_tickets: int


async def my_customers(session: AsyncSession, *, member: Member) -> list[MyCustomer]:
    open_count = (
        select(func.count())
        .select_from(Ticket)
        .where(Ticket.customer_id == Customer.id, Ticket.status.in_(ACTIVE_STATUSES))
        .scalar_subquery()
    )
    rows = await session.execute(
        select(Customer, open_count).where(Customer.owner_id == member.id).order_by(func.lower(Customer.name))
    )
    return [MyCustomer(c, n) for c, n in rows.all()]


async def my_open_tickets(session: AsyncSession, *, member: Member) -> list[tuple[Ticket, Customer]]:
    rows = await session.execute(
        select(Ticket, Customer)
        .join(Customer, Customer.id == Ticket.customer_id)
        .where(Ticket.owner_id == member.id, Ticket.status.in_(ACTIVE_STATUSES))
        .order_by(Ticket.last_activity_at)
    )
    return [(t, c) for t, c in rows.all()]
