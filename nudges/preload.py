"""Tickets and their customers, and customers with the ownership facts their rules need, read fresh for a whole
batch in one query each, before the batch evaluates them one by one (`nudges.rules.evaluate_ticket`,
`evaluate_customer`): the planner and the claim each evaluate up to a batch of subjects in one transaction, and
a query or two per subject was most of their cost (every claim puts its customer up for a re-check)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Customer, EventKind, OwnershipEvent, Ticket
from ownership.claim_views import REASSIGN_KINDS

PRELOADED = "nudges.preload.tickets"
CUSTOMERS = "nudges.preload.customers"


@dataclass(frozen=True)
class CustomerFacts:
    customer: Customer
    moves: int  # how often it changed hands (hot potato)
    released: datetime | None  # when it was last put back in the team queue


def _events(*kinds: EventKind) -> Any:  # OR, not IN: an IN list is expanded again at every execution
    return (OwnershipEvent.customer_id == Customer.id) & or_(*(OwnershipEvent.kind == kind for kind in kinds))


_FACTS = select(
    Customer,
    select(func.count()).where(_events(*REASSIGN_KINDS)).scalar_subquery().label("moves"),
    select(func.max(OwnershipEvent.at)).where(_events(EventKind.RELEASE)).scalar_subquery().label("released"),
).execution_options(populate_existing=True)


async def preload_customers(session: AsyncSession, customer_ids: Collection[int]) -> None:
    """Read these customers and their facts in one query for the evaluations that follow in this transaction."""
    if not customer_ids:
        return
    rows = await session.execute(_FACTS.where(Customer.id.in_(set(customer_ids))))
    found: dict[int, CustomerFacts] = session.info.setdefault(CUSTOMERS, {})
    found.update({row[0].id: CustomerFacts(row[0], row.moves, row.released) for row in rows})


async def customer_facts(session: AsyncSession, customer_id: int) -> CustomerFacts | None:
    """The customer and its facts: the preloaded row if there is one (taken once), else read now."""
    found: dict[int, CustomerFacts] = session.info.get(CUSTOMERS, {})
    facts = found.pop(customer_id, None)
    if facts is not None:
        return facts
    row = (await session.execute(_FACTS.where(Customer.id == customer_id))).first()
    return CustomerFacts(row[0], row.moves, row.released) if row is not None else None


def _with_customers() -> Select[Ticket, Customer]:
    return (
        select(Ticket, Customer)
        .join(Customer, Customer.id == Ticket.customer_id)
        .execution_options(populate_existing=True)
    )


async def preload_tickets(session: AsyncSession, ticket_ids: Collection[int]) -> None:
    """Read these tickets and their customers in one query for the evaluations that follow in this transaction.
    Each evaluation takes its row once: a second evaluation of the same ticket reads it again."""
    if not ticket_ids:
        return
    rows = await session.execute(_with_customers().where(Ticket.id.in_(set(ticket_ids))))
    found: dict[int, tuple[Ticket, Customer]] = session.info.setdefault(PRELOADED, {})
    found.update({ticket.id: (ticket, customer) for ticket, customer in rows})


async def ticket_with_customer(session: AsyncSession, ticket_id: int) -> tuple[Ticket, Customer] | None:
    """The ticket and its customer: the preloaded row if there is one (taken once), else read now."""
    found: dict[int, tuple[Ticket, Customer]] = session.info.get(PRELOADED, {})
    row = found.pop(ticket_id, None)
    if row is not None:
        return row
    fresh = (await session.execute(_with_customers().where(Ticket.id == ticket_id))).tuples().first()
    return (fresh[0], fresh[1]) if fresh is not None else None
