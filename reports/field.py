"""The field report: what a lead sees of a whole workspace, in chat (`field`) and on the web dashboard.

Built from the same pieces as the lead's daily digest (`nudges.digest.survey`) and the gestures digest,
plus re-assign rates and time to owner over the last 30 days. Read-only queries returning plain dataclasses;
`handlers.field` and the dashboard render them.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import (
    Customer,
    EventKind,
    Member,
    OwnershipEvent,
    Role,
    Team,
    Ticket,
    TicketEvent,
    TicketEventKind,
    Workspace,
)
from gestures.amounts import format_amount
from gestures.views import gesture_digest
from nudges.digest import Survey, survey
from nudges.settings import NudgeSettings
from ownership.claim_views import REASSIGN_KINDS

from .requests import RequestNumbers, request_numbers

WINDOW = timedelta(days=30)
OWNER_KINDS = (EventKind.CLAIM, EventKind.HANDOFF_ACCEPTED, EventKind.REASSIGN)  # a move that gives an owner
TOP = 5


@dataclass(frozen=True)
class TicketLine:
    id: int
    customer: str
    subject: str
    owner: str | None
    detail: str = ""


@dataclass(frozen=True)
class Load:
    name: str
    customers: int
    open_tickets: int
    overdue: int
    far_above_median: bool


@dataclass(frozen=True)
class Reassigns:
    """Re-assigns (accepted handoffs, re-assigns, releases) in the window, per customer and per ticket."""

    customer_moves: int
    customers: int  # customers in the workspace
    ticket_moves: int  # a customer's move moves each of its tickets open at that moment
    tickets: int  # tickets open at some point in the window
    hot_customers: list[tuple[str, int]]  # most moves first
    hot_tickets: list[tuple[str, int]]

    @property
    def per_customer(self) -> float:
        return self.customer_moves / self.customers if self.customers else 0.0

    @property
    def per_ticket(self) -> float:
        return self.ticket_moves / self.tickets if self.tickets else 0.0


@dataclass(frozen=True)
class TimeToOwner:
    """Median time from a customer's creation (a ticket's opening) to its first owner, over the window."""

    customers: timedelta | None
    customers_counted: int
    customers_waiting: int  # created in the window and still without an owner
    tickets: timedelta | None
    tickets_counted: int
    tickets_waiting: int


@dataclass(frozen=True)
class Gestures:
    team: str
    budget: str  # "€12.00 of €50.00 used", or "no budget set"
    used_cents: int
    budget_cents: int | None
    open_votes: int
    pending: list[tuple[int, str, str, str | None]]  # proposal id, customer, gesture, assignee


@dataclass
class FieldReport:
    workspace: str  # "slack:T123"
    workspace_name: str
    now: datetime
    stale: list[TicketLine] = field(default_factory=list)
    breaches: list[TicketLine] = field(default_factory=list)
    unhappy: list[TicketLine] = field(default_factory=list)
    unowned: list[str] = field(default_factory=list)
    hot_potatoes: list[tuple[str, int]] = field(default_factory=list)
    reassigns: Reassigns | None = None
    time_to_owner: TimeToOwner | None = None
    load: list[Load] = field(default_factory=list)
    median_open: float = 0.0
    gestures: list[Gestures] = field(default_factory=list)
    requests: RequestNumbers = field(default_factory=RequestNumbers)  # from customer channels (30 days)

    def as_json(self) -> dict[str, object]:
        from dataclasses import asdict

        def seconds(span: timedelta | None) -> float | None:
            return None if span is None else span.total_seconds()

        data = asdict(self)
        data["now"] = self.now.isoformat()
        if self.reassigns is not None:
            data["reassigns"]["per_customer"] = round(self.reassigns.per_customer, 3)
            data["reassigns"]["per_ticket"] = round(self.reassigns.per_ticket, 3)
        if self.time_to_owner is not None:
            data["time_to_owner"]["customers"] = seconds(self.time_to_owner.customers)
            data["time_to_owner"]["tickets"] = seconds(self.time_to_owner.tickets)
        data["requests"] = self.requests.as_json()
        return data


def _median(spans: list[timedelta]) -> timedelta | None:
    return timedelta(seconds=statistics.median(s.total_seconds() for s in spans)) if spans else None


async def _reassigns(session: AsyncSession, workspace_id: int, now: datetime) -> Reassigns:
    since = now - WINDOW
    moves = list(
        (
            await session.execute(
                select(OwnershipEvent.customer_id, OwnershipEvent.at).where(
                    OwnershipEvent.workspace_id == workspace_id,
                    OwnershipEvent.kind.in_(REASSIGN_KINDS),
                    OwnershipEvent.at >= since,
                    OwnershipEvent.at <= now,
                )
            )
        ).all()
    )
    tickets = list(
        (
            await session.execute(
                select(
                    Ticket.id,
                    Ticket.customer_id,
                    Ticket.subject,
                    Ticket.opened_at,
                    Ticket.resolved_at,
                    Ticket.closed_at,
                    Customer.name,
                )
                .join(Customer, Customer.id == Ticket.customer_id)
                .where(Ticket.workspace_id == workspace_id, Ticket.opened_at <= now)
            )
        ).all()
    )
    names = dict(
        (await session.execute(select(Customer.id, Customer.name).where(Customer.workspace_id == workspace_id))).all()
    )

    def ended(row: Any) -> datetime | None:
        at: datetime | None = row.resolved_at or row.closed_at
        return at

    live = [t for t in tickets if (end := ended(t)) is None or end >= since]
    by_customer: dict[int, int] = {}
    by_ticket: dict[int, int] = {}
    for customer_id, at in moves:
        by_customer[customer_id] = by_customer.get(customer_id, 0) + 1
        for t in live:
            if t.customer_id == customer_id and t.opened_at <= at and ((end := ended(t)) is None or end > at):
                by_ticket[t.id] = by_ticket.get(t.id, 0) + 1
    subjects = {t.id: f"#{t.id} {t.name}: {t.subject}" for t in live}
    top = sorted(by_customer.items(), key=lambda kv: (-kv[1], names.get(kv[0], "")))[:TOP]
    top_tickets = sorted(by_ticket.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP]
    return Reassigns(
        len(moves),
        len(names),
        sum(by_ticket.values()),
        len(live),
        [(names.get(c, "?"), n) for c, n in top],
        [(subjects[t], n) for t, n in top_tickets],
    )


async def _time_to_owner(session: AsyncSession, workspace_id: int, now: datetime) -> TimeToOwner:
    since = now - WINDOW
    first_owner = dict(
        (
            await session.execute(
                select(OwnershipEvent.customer_id, func.min(OwnershipEvent.at))
                .where(
                    OwnershipEvent.workspace_id == workspace_id,
                    OwnershipEvent.kind.in_(OWNER_KINDS),
                    OwnershipEvent.to_member_id.is_not(None),
                )
                .group_by(OwnershipEvent.customer_id)
            )
        ).all()
    )
    customers = list(
        (
            await session.execute(
                select(Customer.id, Customer.created_at, Customer.owner_id).where(
                    Customer.workspace_id == workspace_id, Customer.created_at >= since, Customer.created_at <= now
                )
            )
        ).all()
    )
    customer_spans: list[timedelta] = []
    customers_waiting = 0
    for customer_id, created, owner_id in customers:
        if customer_id in first_owner:
            customer_spans.append(max(timedelta(0), first_owner[customer_id] - created))
        elif owner_id is not None:
            customer_spans.append(timedelta(0))  # imported with its owner
        else:
            customers_waiting += 1
    # A ticket opened for an owned customer has its owner at once; an unowned customer's ticket is flagged, and
    # waits for the customer's next owner.
    flagged = set(
        (
            await session.execute(
                select(TicketEvent.ticket_id).where(
                    TicketEvent.workspace_id == workspace_id, TicketEvent.kind == TicketEventKind.FLAGGED_UNOWNED
                )
            )
        ).scalars()
    )
    tickets = list(
        (
            await session.execute(
                select(Ticket.id, Ticket.customer_id, Ticket.opened_at).where(
                    Ticket.workspace_id == workspace_id, Ticket.opened_at >= since, Ticket.opened_at <= now
                )
            )
        ).all()
    )
    owner_moves = list(
        (
            await session.execute(
                select(OwnershipEvent.customer_id, OwnershipEvent.at)
                .where(
                    OwnershipEvent.workspace_id == workspace_id,
                    OwnershipEvent.kind.in_(OWNER_KINDS),
                    OwnershipEvent.to_member_id.is_not(None),
                    OwnershipEvent.at >= since,
                )
                .order_by(OwnershipEvent.at)
            )
        ).all()
    )
    ticket_spans: list[timedelta] = []
    tickets_waiting = 0
    for ticket_id, customer_id, opened in tickets:
        if ticket_id not in flagged:
            ticket_spans.append(timedelta(0))
            continue
        later = [at for c, at in owner_moves if c == customer_id and at >= opened]
        if later:
            ticket_spans.append(later[0] - opened)
        else:
            tickets_waiting += 1
    return TimeToOwner(
        _median(customer_spans),
        len(customer_spans),
        customers_waiting,
        _median(ticket_spans),
        len(ticket_spans),
        tickets_waiting,
    )


def _line(ticket: Ticket, customer: Customer, owners: dict[int, str], detail: str = "") -> TicketLine:
    return TicketLine(
        ticket.id, customer.name, ticket.subject, owners.get(ticket.owner_id) if ticket.owner_id else None, detail
    )


async def field_report(
    session: AsyncSession, *, workspace: Workspace, now: datetime, policy: NudgeSettings
) -> FieldReport:
    members = list(
        (
            await session.execute(
                select(Member).where(Member.workspace_id == workspace.id).order_by(Member.display_name)
            )
        ).scalars()
    )
    owners_of_something = set(
        (
            await session.execute(
                select(Customer.owner_id).where(Customer.workspace_id == workspace.id, Customer.owner_id.is_not(None))
            )
        ).scalars()
    ) | set(
        (
            await session.execute(
                select(Ticket.owner_id).where(Ticket.workspace_id == workspace.id, Ticket.owner_id.is_not(None))
            )
        ).scalars()
    )
    # Agents carry the load; a lead or admin counts too when they own something themselves.
    agents = [m for m in members if m.role == Role.AGENT or m.id in owners_of_something]
    found = await survey(
        session, Survey(), workspace_id=workspace.id, member_ids=None, agents=agents, now=now, policy=policy
    )
    owners = {m.id: m.display_name for m in members}
    report = FieldReport(
        f"{workspace.platform.value}:{workspace.external_id}", workspace.name or workspace.external_id, now
    )
    report.stale = [_line(t, c, owners) for t, c in found.stale]
    report.breaches = [_line(t, c, owners, why) for t, c, why in found.breaches]
    report.unhappy = [_line(t, c, owners, why) for t, c, why in found.unhappy]
    report.unowned = [c.name for c in found.unowned]
    report.hot_potatoes = found.hot_potatoes
    report.load = [
        Load(a.member.display_name, a.customers, a.open_tickets, a.overdue, a.far_above_median) for a in found.load
    ]
    report.median_open = float(found.median_open)
    report.reassigns = await _reassigns(session, workspace.id, now)
    report.time_to_owner = await _time_to_owner(session, workspace.id, now)
    report.requests = await request_numbers(session, workspace_id=workspace.id, now=now)
    teams = (await session.execute(select(Team).where(Team.workspace_id == workspace.id).order_by(Team.name))).scalars()
    for team in list(teams):
        digest = await gesture_digest(session, team_id=team.id, now=now)
        budget = (
            "no budget set"
            if digest.budget_cents is None
            else (
                f"{format_amount(digest.used_cents, digest.currency)} of "
                f"{format_amount(digest.budget_cents, digest.currency)} used"
            )
        )
        report.gestures.append(
            Gestures(
                team.name,
                budget,
                digest.used_cents,
                digest.budget_cents,
                digest.open_proposals,
                [(d.proposal_id, d.customer_name, d.gesture, d.assignee_name) for d in digest.pending],
            )
        )
    return report
