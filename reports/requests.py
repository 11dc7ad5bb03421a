"""Customer-channel numbers for the field report and the dashboard: requests per customer and channel, the median
first response in business time (the ticket's own calendar, as the nudges reckon it), and the share answered
within the first-response target. Requests marked "Not a request" are left out. Read-only."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import ChannelMessage, Customer, Ticket
from nudges.levels import ServiceLevels
from ownership.requests import SOURCE

WINDOW = timedelta(days=30)


@dataclass(frozen=True)
class ChannelRequests:
    customer: str
    channel_id: str
    requests: int


@dataclass
class RequestNumbers:
    """The last 30 days of requests read from customer channels."""

    per_channel: list[ChannelRequests] = field(default_factory=list)  # most requests first
    requests: int = 0
    answered: int = 0
    median_first_response: timedelta | None = None  # business time
    within_target: float | None = None  # of the requests answered, or due and unanswered

    def as_json(self) -> dict[str, object]:
        return {
            "per_channel": [vars(row) for row in self.per_channel],
            "requests": self.requests,
            "answered": self.answered,
            "median_first_response": None
            if self.median_first_response is None
            else self.median_first_response.total_seconds(),
            "within_target": self.within_target,
        }


async def request_numbers(session: AsyncSession, *, workspace_id: int, now: datetime) -> RequestNumbers:
    rows = await session.execute(
        select(Ticket, Customer, ChannelMessage.channel_id)
        .join(Customer, Customer.id == Ticket.customer_id)
        .join(ChannelMessage, ChannelMessage.ticket_id == Ticket.id)
        .where(
            Ticket.workspace_id == workspace_id,
            Ticket.source == SOURCE,
            Ticket.opened_at >= now - WINDOW,
            Ticket.opened_at <= now,
            ChannelMessage.from_customer.is_(True),
            ChannelMessage.dismissed.is_(False),
        )
        .order_by(Ticket.id, ChannelMessage.id)
    )
    dismissed = set(
        (
            await session.execute(
                select(ChannelMessage.ticket_id).where(
                    ChannelMessage.workspace_id == workspace_id, ChannelMessage.dismissed.is_(True)
                )
            )
        ).scalars()
    )
    seen: dict[int, tuple[Ticket, Customer, str]] = {}
    for ticket, customer, channel_id in rows.all():
        if ticket.id not in dismissed:
            seen.setdefault(ticket.id, (ticket, customer, channel_id))  # a request's channel: its first message's
    numbers = RequestNumbers()
    counts: dict[tuple[str, str], int] = {}
    levels = ServiceLevels(session)
    spans: list[float] = []
    hits: list[bool] = []
    for ticket, customer, channel_id in seen.values():
        counts[(customer.name, channel_id)] = counts.get((customer.name, channel_id), 0) + 1
        calendar = await levels.ticket_calendar(ticket, customer)
        targets = await levels.get(ticket.workspace_id, customer.tier)
        target = targets.scaled(targets.first_response, ticket.priority)
        if ticket.first_response_at is not None:
            span = calendar.between(ticket.opened_at, ticket.first_response_at)
            spans.append(span.total_seconds())
            hits.append(span <= target)
        elif calendar.between(ticket.opened_at, now) > target:
            hits.append(False)
    numbers.per_channel = [
        ChannelRequests(name, channel, n)
        for (name, channel), n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    ]
    numbers.requests = len(seen)
    numbers.answered = len(spans)
    numbers.median_first_response = timedelta(seconds=statistics.median(spans)) if spans else None
    numbers.within_target = sum(hits) / len(hits) if hits else None
    return numbers
