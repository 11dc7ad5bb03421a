"""The lead's daily digest: what needs attention in their team, and who carries too much."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Customer, Member, NudgeKind, OwnershipEvent, Team, Ticket, TicketStatus
from ownership.claim_views import REASSIGN_KINDS

from .levels import ServiceLevels
from .rules import Evaluation, ticket_needs
from .settings import NudgeSettings
from .urgency import UrgencyKey, urgency_key

FAR_ABOVE_FACTOR = 2.0  # "far more than the median": at least twice the median…
FAR_ABOVE_MARGIN = 3  # …and at least this many tickets more


@dataclass(frozen=True)
class AgentLoad:
    member: Member
    customers: int
    open_tickets: int
    overdue: int
    far_above_median: bool


@dataclass
class Survey:
    """What needs attention among some people's tickets and customers (a lead's team, or a whole workspace)."""

    stale: list[tuple[Ticket, Customer]] = field(default_factory=list)
    breaches: list[tuple[Ticket, Customer, str]] = field(default_factory=list)
    unhappy: list[tuple[Ticket, Customer, str]] = field(default_factory=list)
    unowned: list[Customer] = field(default_factory=list)
    hot_potatoes: list[tuple[str, int]] = field(default_factory=list)
    load: list[AgentLoad] = field(default_factory=list)
    median_open: float = 0.0


@dataclass(kw_only=True)
class Digest(Survey):
    lead: Member
    team: str


async def team_of(session: AsyncSession, lead: Member) -> tuple[str, list[Member]]:
    team = (
        await session.execute(select(Team).where(Team.lead_id == lead.id).order_by(Team.id).limit(1))
    ).scalar_one_or_none()
    if team is None and lead.team_id is not None:
        team = await session.get(Team, lead.team_id)
    if team is not None:
        members = list(
            (
                await session.execute(select(Member).where(Member.team_id == team.id).order_by(Member.display_name))
            ).scalars()
        )
        return team.name, members
    members = list(
        (
            await session.execute(
                select(Member).where(Member.workspace_id == lead.workspace_id).order_by(Member.display_name)
            )
        ).scalars()
    )
    return "everyone", members


async def build_digest(session: AsyncSession, *, lead: Member, now: datetime, policy: NudgeSettings) -> Digest:
    team_name, members = await team_of(session, lead)
    agents = [m for m in members if m.id != lead.id]
    digest = Digest(lead=lead, team=team_name)
    await survey(
        session,
        digest,
        workspace_id=lead.workspace_id,
        member_ids=[m.id for m in members],
        agents=agents,
        now=now,
        policy=policy,
    )
    return digest


async def survey(
    session: AsyncSession,
    digest: Survey,
    *,
    workspace_id: int,
    member_ids: list[int] | None,
    agents: list[Member],
    now: datetime,
    policy: NudgeSettings,
) -> Survey:
    """Fill `digest` with the tickets of `member_ids` (and unowned ones; None: everyone's) and each agent's load."""
    ids = member_ids if member_ids is not None else [m.id for m in agents]
    levels = ServiceLevels(session)
    owner_test = or_(Ticket.owner_id.in_(ids), Ticket.owner_id.is_(None)) if member_ids is not None else true()
    rows = (
        await session.execute(
            select(Ticket, Customer)
            .join(Customer, Customer.id == Ticket.customer_id)
            .where(
                Ticket.workspace_id == workspace_id,
                owner_test,
                Ticket.status.in_((TicketStatus.OPEN, TicketStatus.PENDING, TicketStatus.RESOLVED)),
            )
            .order_by(Ticket.id)
        )
    ).all()
    overdue: dict[int, int] = {}
    open_count: dict[int, int] = {}
    keys: dict[int, UrgencyKey] = {}
    for ticket, customer in rows:
        calendar = await levels.ticket_calendar(ticket, customer)
        evaluation = ticket_needs(
            Evaluation(ticket.workspace_id),
            ticket,
            customer,
            await levels.get(ticket.workspace_id, customer.tier),
            calendar=calendar,
            policy=policy,
            now=now,
        )
        kinds = {n.kind: n for n in evaluation.needs}
        late_since = [n.starts_at for n in evaluation.needs if n.kind in (NudgeKind.SLA_BREACH, NudgeKind.STALE)]
        keys[ticket.id] = urgency_key(
            tier=customer.tier,
            priority=ticket.priority,
            past_due=calendar.between(min(late_since), now) if late_since else None,
            ident=ticket.id,
        )
        late = False
        if NudgeKind.STALE in kinds:
            digest.stale.append((ticket, customer))
            late = True
        if NudgeKind.SLA_BREACH in kinds:
            details = [n.detail for n in evaluation.needs if n.kind == NudgeKind.SLA_BREACH]
            digest.breaches.append((ticket, customer, "; ".join(details)))
            late = True
        if NudgeKind.UNHAPPY in kinds:
            digest.unhappy.append((ticket, customer, kinds[NudgeKind.UNHAPPY].detail))
        if NudgeKind.HOT_POTATO in kinds:
            digest.hot_potatoes.append((f"#{ticket.id} {customer.name}: {ticket.subject}", ticket.reassign_count))
        if ticket.owner_id is not None and ticket.status != TicketStatus.RESOLVED:
            open_count[ticket.owner_id] = open_count.get(ticket.owner_id, 0) + 1
            if late:
                overdue[ticket.owner_id] = overdue.get(ticket.owner_id, 0) + 1
    # Urgency first: tier x priority, then how far past due (business time), then the oldest ticket.
    digest.stale.sort(key=lambda row: keys[row[0].id])
    digest.breaches.sort(key=lambda row: keys[row[0].id])
    digest.unhappy.sort(key=lambda row: keys[row[0].id])
    digest.unowned = list(
        (
            await session.execute(
                select(Customer)
                .where(Customer.workspace_id == workspace_id, Customer.owner_id.is_(None))
                .order_by(Customer.name)
            )
        ).scalars()
    )
    moves = await session.execute(
        select(Customer.name, func.count(OwnershipEvent.id))
        .join(OwnershipEvent, OwnershipEvent.customer_id == Customer.id)
        .where(Customer.workspace_id == workspace_id, OwnershipEvent.kind.in_(REASSIGN_KINDS))
        .group_by(Customer.name)
        .having(func.count(OwnershipEvent.id) > policy.hot_potato_after)
    )
    digest.hot_potatoes += [(f"customer {name}", count) for name, count in moves.all()]
    owned = dict(
        (
            await session.execute(
                select(Customer.owner_id, func.count()).where(Customer.owner_id.in_(ids)).group_by(Customer.owner_id)
            )
        ).all()
    )
    counts = [open_count.get(m.id, 0) for m in agents]
    digest.median_open = statistics.median(counts) if counts else 0.0
    for member in agents:
        mine = open_count.get(member.id, 0)
        far = mine >= FAR_ABOVE_FACTOR * digest.median_open and mine - digest.median_open >= FAR_ABOVE_MARGIN
        digest.load.append(AgentLoad(member, owned.get(member.id, 0), mine, overdue.get(member.id, 0), far))
    return digest
