"""Helpdesk events applied to our tickets: the neutral `HelpdeskEvent` the webhook face reads
(`bot.web.helpdesk_payloads`), matched to a customer and written in the caller's transaction, exactly once per
(source, event or ticket id, update time): a redelivery changes nothing. See docs/webhooks.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Customer, Platform, Priority, Ticket, TicketStatus, WebhookDelivery, Workspace

from . import ticket_status, tickets
from .errors import InvalidInput
from .text import without_invisible

FREE_MAIL = {
    "gmail.com",
    "googlemail.com",
    "outlook.com",
    "hotmail.com",
    "live.com",
    "yahoo.com",
    "icloud.com",
    "me.com",
    "aol.com",
    "proton.me",
    "protonmail.com",
    "gmx.de",
    "gmx.net",
    "web.de",
    "mail.com",
}


FAILED = "failed"


@dataclass(frozen=True)
class HelpdeskCustomer:
    external_id: str | None = None
    name: str | None = None
    email: str | None = None

    @property
    def company_domain(self) -> str | None:
        if not self.email or "@" not in self.email:
            return None
        domain = self.email.rsplit("@", 1)[1].strip().lower()
        return None if not domain or domain in FREE_MAIL or len(domain) > 200 else domain


@dataclass(frozen=True)
class HelpdeskEvent:
    source: str  # "zendesk", "freshdesk", or the generic body's `source`
    kind: str  # created | updated | commented | solved
    ref: str  # the event id, or the ticket id when the helpdesk sends no event id
    updated: str  # the update time as sent (or a digest of the body): with source and ref, the idempotency key
    ticket_ref: str
    subject: str | None = None
    status: TicketStatus | None = None
    priority: Priority | None = None
    occurred_at: datetime | None = None
    customer: HelpdeskCustomer = field(default_factory=HelpdeskCustomer)
    comment: str | None = None
    comment_from_customer: bool = True
    csat: str | None = None  # good | bad
    csat_comment: str | None = None


@dataclass(frozen=True)
class AppliedEvent:
    duplicate: bool
    ticket: Ticket | None = None
    customer: Customer | None = None
    ticket_created: bool = False
    customer_created: bool = False
    flagged: bool = False  # the customer has nobody: the team must pick the ticket up
    became_unhappy: bool = False
    changes: list[str] = field(default_factory=list)
    failed: bool = False  # a duplicate of an event that failed to apply before: not tried again


async def _claim_delivery(session: AsyncSession, workspace: Workspace, event: HelpdeskEvent, now: datetime) -> bool:
    """Record the delivery key; False when it was already recorded (the event was applied before)."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = (
        insert(WebhookDelivery)
        .values(
            workspace_id=workspace.id,
            source=event.source,
            ref=event.ref,
            updated=event.updated,
            received_at=now,
        )
        .on_conflict_do_nothing(index_elements=["workspace_id", "source", "ref", "updated"])
    )
    result = await session.execute(statement)
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


async def record_failed_delivery(
    session: AsyncSession, *, workspace: Workspace, event: HelpdeskEvent, error: str, now: datetime
) -> int | None:
    """Keep an event that could not be applied as `failed` (its key, when, and `error`: the kind of failure, never
    the body), so its redeliveries are answered at once and people can see it; the id of that row."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    await session.execute(
        insert(WebhookDelivery)
        .values(
            workspace_id=workspace.id,
            source=event.source,
            ref=event.ref,
            updated=event.updated,
            received_at=now,
            status=FAILED,
            error=error[:200],
        )
        .on_conflict_do_nothing(index_elements=["workspace_id", "source", "ref", "updated"])
    )
    return await session.scalar(
        select(WebhookDelivery.id).where(
            WebhookDelivery.workspace_id == workspace.id,
            WebhookDelivery.source == event.source,
            WebhookDelivery.ref == event.ref,
            WebhookDelivery.updated == event.updated,
        )
    )


async def failed_deliveries(session: AsyncSession, *, limit: int = 50) -> list[WebhookDelivery]:
    """The newest events that could not be applied, for `ownerbot webhooks`."""
    query = (
        select(WebhookDelivery)
        .where(WebhookDelivery.status == FAILED)
        .order_by(WebhookDelivery.received_at.desc(), WebhookDelivery.id.desc())
        .limit(limit)
    )
    return list((await session.scalars(query)).all())


async def match_customer(
    session: AsyncSession, *, workspace: Workspace, info: HelpdeskCustomer, source: str, now: datetime
) -> tuple[Customer, bool]:
    """By external id, then name, then company email domain; otherwise a new, unowned customer."""
    ws = workspace.id
    if info.external_id:
        found = await session.scalar(
            select(Customer).where(Customer.workspace_id == ws, Customer.external_id == info.external_id)
        )
        if found:
            return found, False
    if info.name:
        found = await session.scalar(
            select(Customer).where(
                Customer.workspace_id == ws, Customer.name_key == " ".join(info.name.split()).casefold()
            )
        )
        if found:
            return found, False
    domain = info.company_domain
    if domain:
        by_domain = list(
            (
                await session.scalars(
                    select(Customer)
                    .where(Customer.workspace_id == ws, func.lower(Customer.email_domain) == domain)
                    .limit(2)
                )
            ).all()
        )
        if len(by_domain) == 1:
            return by_domain[0], False
    name = info.name or domain or (f"{source} customer {info.external_id}" if info.external_id else None)
    if name is None:
        raise InvalidInput("The event names no customer: send customer.external_id, customer.name or customer.email.")
    name = " ".join(without_invisible(name).split())[:200] or f"{source} customer"
    customer = Customer(
        workspace_id=ws,
        name=name,
        name_key=name.casefold(),
        external_id=info.external_id,
        email_domain=domain,
        created_at=now,
    )
    try:
        async with session.begin_nested():
            session.add(customer)
            await session.flush()
    except IntegrityError:  # created by a concurrent delivery, or the name is taken by another external id
        found = await session.scalar(
            select(Customer).where(Customer.workspace_id == ws, Customer.name_key == name.casefold())
        )
        if found is None:
            raise
        return found, False
    return customer, True


async def apply_helpdesk_event(
    session: AsyncSession, *, workspace: Workspace, event: HelpdeskEvent, now: datetime
) -> AppliedEvent:
    if not await _claim_delivery(session, workspace, event, now):
        status = await session.scalar(
            select(WebhookDelivery.status).where(
                WebhookDelivery.workspace_id == workspace.id,
                WebhookDelivery.source == event.source,
                WebhookDelivery.ref == event.ref,
                WebhookDelivery.updated == event.updated,
            )
        )
        return AppliedEvent(duplicate=True, failed=status == FAILED)
    at = min(event.occurred_at or now, now)
    platform = Platform.WEBHOOK
    ticket = await session.scalar(
        select(Ticket)
        .where(
            Ticket.workspace_id == workspace.id,
            Ticket.source == event.source,
            Ticket.external_ref == event.ticket_ref,
        )
        .with_for_update()
    )
    created = customer_created = flagged = False
    changes: list[str] = []
    if ticket is None:
        customer, customer_created = await match_customer(
            session, workspace=workspace, info=event.customer, source=event.source, now=now
        )
        subject = event.subject or f"{event.source} ticket {event.ticket_ref}"
        try:
            async with session.begin_nested():
                opened = await tickets.open_ticket(
                    session,
                    customer=customer,
                    subject=subject,
                    priority=event.priority or Priority.NORMAL,
                    actor=None,
                    platform=platform,
                    now=at,
                    source=event.source,
                    external_ref=event.ticket_ref,
                )
            ticket, created, flagged = opened.ticket, True, opened.flagged
            changes.append("opened")
        except IntegrityError:  # another event for the same new ticket got there first: update that one
            ticket = await session.scalar(
                select(Ticket)
                .where(
                    Ticket.workspace_id == workspace.id,
                    Ticket.source == event.source,
                    Ticket.external_ref == event.ticket_ref,
                )
                .with_for_update()
            )
            if ticket is None:
                raise
    if not created:
        found = await session.get(Customer, ticket.customer_id)
        if found is None:  # a ticket's customer row is kept by a foreign key; this cannot happen
            raise RuntimeError(f"ticket {ticket.id} has no customer")
        customer = found
        changes += await tickets.update_details(
            session,
            ticket=ticket,
            subject=event.subject,
            priority=event.priority,
            actor=None,
            platform=platform,
            now=at,
        )
    unhappy = False
    if event.comment and ticket.status == TicketStatus.CLOSED and event.status not in (None, TicketStatus.CLOSED):
        changes.append(f"status closed → {event.status.value}")
        await ticket_status.set_status(session, ticket=ticket, to=event.status, actor=None, platform=platform, now=at)
    if event.comment and ticket.status == TicketStatus.CLOSED:
        changes.append("comment not recorded: the ticket is closed")
    elif event.comment:
        note = await tickets.add_note(
            session,
            ticket=ticket,
            text=event.comment,
            from_customer=event.comment_from_customer,
            actor=None,
            platform=platform,
            now=at,
            reopen=event.status is None,
        )
        unhappy = unhappy or note.became_unhappy
        changes.append("customer message" if event.comment_from_customer else "agent reply")
    if event.status is not None and event.status != ticket.status:
        changes.append(f"status {ticket.status.value} → {event.status.value}")
        await ticket_status.set_status(session, ticket=ticket, to=event.status, actor=None, platform=platform, now=at)
    if event.csat is not None:
        rated = await tickets.record_csat(
            session, ticket=ticket, rating=event.csat, comment=event.csat_comment, actor=None, platform=platform, now=at
        )
        unhappy = unhappy or rated.became_unhappy
        changes.append(f"csat {event.csat}")
    delivery = await session.scalar(
        select(WebhookDelivery).where(
            WebhookDelivery.workspace_id == workspace.id,
            WebhookDelivery.source == event.source,
            WebhookDelivery.ref == event.ref,
            WebhookDelivery.updated == event.updated,
        )
    )
    if delivery is not None:
        delivery.ticket_id = ticket.id
    await session.flush()
    return AppliedEvent(False, ticket, customer, created, customer_created, flagged, unhappy, changes)
