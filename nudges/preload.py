"""Tickets and their customers read fresh for a whole batch in one query, before the batch evaluates them one by
one (`nudges.rules.evaluate_ticket`): the planner and the claim each evaluate up to a batch of tickets in one
transaction, and one query per ticket was most of their cost."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Customer, Ticket

PRELOADED = "nudges.preload.tickets"


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
