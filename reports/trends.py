"""The field over time: weekly trends for the last 12 weeks (Monday to Sunday, UTC; the current week so far last).

Per week: the first-response service-level hit rate per tier (of the tickets opened that week whose outcome is
known: answered, or past the target), the median first response, CSAT good and bad, re-assigns (accepted
handoffs, re-assigns, releases), unhappy customers (customers with a ticket turning unhappy) and gestures
delivered. `first_response_span` is the one place that measures a response time (wall-clock today; the
business-hours clock replaces it there). Read-only; returns plain dataclasses.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import (
    Customer,
    CustomerIdea,
    GestureProposal,
    Mood,
    OwnershipEvent,
    Ticket,
    TicketEvent,
    TicketEventKind,
    Tier,
    Workspace,
)
from nudges.levels import service_levels
from ownership.claim_views import REASSIGN_KINDS

WEEKS = 12


@dataclass
class Week:
    start: datetime  # Monday 00:00 UTC
    hit_rate: dict[str, float | None] = field(default_factory=dict)  # tier -> share of tickets within target
    decided: dict[str, int] = field(default_factory=dict)  # tier -> tickets whose outcome is known
    median_first_response: timedelta | None = None
    csat_good: int = 0
    csat_bad: int = 0
    reassigns: int = 0
    unhappy_customers: int = 0
    gestures_delivered: int = 0

    @property
    def label(self) -> str:
        return self.start.strftime("%d %b")


@dataclass
class Trends:
    weeks: list[Week]

    def as_json(self) -> list[dict[str, object]]:
        return [
            {
                "week": w.start.date().isoformat(),
                "hit_rate": {tier: None if rate is None else round(rate, 3) for tier, rate in w.hit_rate.items()},
                "decided": w.decided,
                "median_first_response": None
                if w.median_first_response is None
                else w.median_first_response.total_seconds(),
                "csat_good": w.csat_good,
                "csat_bad": w.csat_bad,
                "reassigns": w.reassigns,
                "unhappy_customers": w.unhappy_customers,
                "gestures_delivered": w.gestures_delivered,
            }
            for w in self.weeks
        ]


def week_start(moment: datetime) -> datetime:
    day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    return day - timedelta(days=day.weekday())


def first_response_span(ticket: Ticket) -> timedelta | None:
    """How long the customer waited for the first answer (pauses on the customer do not count)."""
    if ticket.first_response_at is None:
        return None
    return max(timedelta(0), ticket.first_response_at - ticket.opened_at)


def _index(starts: list[datetime], moment: datetime) -> int | None:
    for i in range(len(starts) - 1, -1, -1):
        if moment >= starts[i]:
            return i if moment < starts[i] + timedelta(days=7) else None
    return None


async def weekly_trends(session: AsyncSession, *, workspace: Workspace, now: datetime, weeks: int = WEEKS) -> Trends:
    first = week_start(now) - timedelta(weeks=weeks - 1)
    starts = [first + timedelta(weeks=i) for i in range(weeks)]
    found = [Week(start) for start in starts]
    targets = await service_levels(session, workspace_id=workspace.id)
    hits: list[dict[str, list[bool]]] = [{t.value: [] for t in Tier} for _ in starts]
    spans: list[list[float]] = [[] for _ in starts]
    tickets = await session.execute(
        select(Ticket, Customer.tier)
        .join(Customer, Customer.id == Ticket.customer_id)
        .where(Ticket.workspace_id == workspace.id, Ticket.opened_at >= first, Ticket.opened_at <= now)
    )
    for ticket, tier in tickets.all():
        i = _index(starts, ticket.opened_at)
        if i is None:
            continue
        target = targets[tier].scaled(targets[tier].first_response, ticket.priority)
        span = first_response_span(ticket)
        if span is not None:
            spans[i].append(span.total_seconds())
            hits[i][tier.value].append(span <= target)
        elif now - ticket.opened_at > target:
            hits[i][tier.value].append(False)
    csat = await session.execute(
        select(TicketEvent.at, TicketEvent.text).where(
            TicketEvent.workspace_id == workspace.id,
            TicketEvent.kind == TicketEventKind.CSAT,
            TicketEvent.at >= first,
            TicketEvent.at <= now,
        )
    )
    for at, text in csat.all():
        if (i := _index(starts, at)) is not None:
            rating = (text or "").split(":", 1)[0].strip()
            found[i].csat_good += rating == "good"
            found[i].csat_bad += rating == "bad"
    moves = await session.execute(
        select(OwnershipEvent.at).where(
            OwnershipEvent.workspace_id == workspace.id,
            OwnershipEvent.kind.in_(REASSIGN_KINDS),
            OwnershipEvent.at >= first,
            OwnershipEvent.at <= now,
        )
    )
    for (at,) in moves.all():
        if (i := _index(starts, at)) is not None:
            found[i].reassigns += 1
    unhappy: list[set[int]] = [set() for _ in starts]
    moods = await session.execute(
        select(TicketEvent.at, Ticket.customer_id)
        .join(Ticket, Ticket.id == TicketEvent.ticket_id)
        .where(
            TicketEvent.workspace_id == workspace.id,
            TicketEvent.kind == TicketEventKind.MOOD,
            TicketEvent.mood == Mood.UNHAPPY,
            TicketEvent.at >= first,
            TicketEvent.at <= now,
        )
    )
    for at, customer_id in moods.all():
        if (i := _index(starts, at)) is not None:
            unhappy[i].add(customer_id)
    delivered = await session.execute(
        select(GestureProposal.delivered_at).where(
            GestureProposal.workspace_id == workspace.id,
            GestureProposal.delivered_at >= first,
            GestureProposal.delivered_at <= now,
        )
    )
    for (delivered_at,) in delivered.all():
        if delivered_at is not None and (i := _index(starts, delivered_at)) is not None:
            found[i].gestures_delivered += 1
    for i, week in enumerate(found):
        week.hit_rate = {tier: (sum(h) / len(h) if h else None) for tier, h in hits[i].items()}
        week.decided = {tier: len(h) for tier, h in hits[i].items()}
        week.median_first_response = timedelta(seconds=statistics.median(spans[i])) if spans[i] else None
        week.unhappy_customers = len(unhappy[i])
    return Trends(found)


@dataclass(frozen=True)
class IdeaCount:
    customer: str
    theme: str
    ideas: int
    latest: datetime


def idea_theme(text: str) -> str:
    """An idea's theme: its first #hashtag (`#exports add a CSV export` -> exports), else `other`."""
    for word in text.split():
        tag = word.strip(".,;:!?()[]").lstrip("#")
        if word.startswith("#") and tag:
            return tag.casefold()[:40]
    return "other"


async def idea_counts(session: AsyncSession, *, workspace: Workspace, since: datetime | None = None) -> list[IdeaCount]:
    """Customers' ideas counted per customer and theme, the most asked-for first."""
    query = (
        select(Customer.name, CustomerIdea.text, CustomerIdea.created_at)
        .join(Customer, Customer.id == CustomerIdea.customer_id)
        .where(CustomerIdea.workspace_id == workspace.id)
    )
    if since is not None:
        query = query.where(CustomerIdea.created_at >= since)
    counts: dict[tuple[str, str], tuple[int, datetime]] = {}
    for name, text, at in (await session.execute(query)).all():
        key = (name, idea_theme(text))
        n, latest = counts.get(key, (0, at))
        counts[key] = (n + 1, max(latest, at))
    rows = [IdeaCount(c, t, n, latest) for (c, t), (n, latest) in counts.items()]
    return sorted(rows, key=lambda r: (-r.ideas, r.customer.casefold(), r.theme))
