"""Urgency first: the one ordering of everything a person is sent and every list (`mine`, `tickets`, `field`, the
dashboard, the digest, a bundle): tier x priority, then how far past due, then the oldest id.

`urgency_key` is the key, pure and importable anywhere above the domain; `ticket_urgency` computes what it
needs for loaded tickets (their service-level clocks in business time).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Customer, Priority, Ticket, Tier

from .business_time import business_words
from .clocks import Clock, pauses_of, show_due, ticket_clocks
from .levels import ServiceLevels
from .settings import NudgeSettings

TIER_WEIGHT = {Tier.PREMIUM: 3, Tier.STANDARD: 2, Tier.BASIC: 1}
PRIORITY_WEIGHT = {Priority.URGENT: 4, Priority.HIGH: 3, Priority.NORMAL: 2, Priority.LOW: 1}

UrgencyKey = tuple[int, int, float, int]


def urgency_key(
    *, tier: Tier | None, priority: Priority | None, past_due: timedelta | None, ident: int = 0
) -> UrgencyKey:
    """Sort ascending: the most urgent first. `past_due` is how far past due (negative: due in the future;
    None: no clock running), in business time where the tier's clock is business hours."""
    weight = TIER_WEIGHT.get(tier, 2) if tier else 2
    weight *= PRIORITY_WEIGHT.get(priority, 2) if priority else 2
    if past_due is None:
        return (-weight, 1, 0.0, ident)
    return (-weight, 0, -past_due.total_seconds(), ident)


@dataclass(frozen=True)
class TicketUrgency:
    ticket: Ticket
    customer: Customer
    next_clock: Clock | None  # the clock that is (or will be) due first
    past_due: timedelta | None  # business time past due, negative while not yet due, None when no clock runs
    zone_label: str

    @property
    def key(self) -> UrgencyKey:
        return urgency_key(
            tier=self.customer.tier, priority=self.ticket.priority, past_due=self.past_due, ident=self.ticket.id
        )

    def words(self) -> str:
        """`overdue by 2h15m (business time)`, `due Tue 24 Nov 10:30 Europe/Berlin`, or ""."""
        clock = self.next_clock
        if clock is None:
            return ""
        label = clock.name.replace("-", " ")
        if clock.overdue is not None:
            return f"{label} overdue by {business_words(clock.overdue)} ({self.zone_label})"
        return f"{label} due {self.due_words}"

    due_words: str = ""


async def ticket_urgency(
    session: AsyncSession, rows: Sequence[tuple[Ticket, Customer]], *, now: datetime, policy: NudgeSettings
) -> list[TicketUrgency]:
    """Each ticket's most pressing clock and how far past due it is, most urgent first."""
    levels = ServiceLevels(session)
    found: list[TicketUrgency] = []
    for ticket, customer in rows:
        calendar = await levels.ticket_calendar(ticket, customer)
        targets = await levels.get(ticket.workspace_id, customer.tier)
        pauses = await pauses_of(session, ticket)
        clocks = ticket_clocks(ticket, targets, calendar=calendar, pauses=pauses, policy=policy, now=now)
        clock = min(clocks, key=lambda c: c.due_at) if clocks else None
        past_due: timedelta | None = None
        if clock is not None:
            past_due = clock.overdue if clock.overdue is not None else -calendar.between(now, clock.due_at)
        label = "24/7" if calendar.always else "business time"
        due = show_due(clock.due_at, calendar) if clock is not None else ""
        found.append(TicketUrgency(ticket, customer, clock, past_due, label, due))
    found.sort(key=lambda u: u.key)
    return found


async def rank_tickets(
    session: AsyncSession, tickets: Sequence[Ticket], *, now: datetime, policy: NudgeSettings
) -> list[TicketUrgency]:
    """`ticket_urgency` for tickets whose customers are not loaded yet (one query for all of them)."""
    ids = {ticket.customer_id for ticket in tickets}
    customers = {c.id: c for c in (await session.execute(select(Customer).where(Customer.id.in_(ids)))).scalars()}
    return await ticket_urgency(session, [(t, customers[t.customer_id]) for t in tickets], now=now, policy=policy)
