"""Exposure-aware load: who absorbed the hard part of the last 7 days, and concrete moves to spread it.

Per agent: open and overdue tickets (as the load report counts them), negative and abusive customer messages
absorbed (counted for whoever looked after the customer at that moment: the owner, or the keeper of a step-out
or cover), nudges received outside their working hours, and step-outs. An agent whose exposure is far above the
team median is flagged the way load is (`nudges.digest.FAR_ABOVE_FACTOR` and `FAR_ABOVE_MARGIN`).

`rebalance` suggests moves for an overloaded agent: their customers with the most open tickets to the
least-loaded colleagues who are not away (the same time zone first), each one `handoff` away, with a reason the
lead confirms or edits. Read-only queries returning plain dataclasses; the chat (`handlers.field`) and the
dashboard render them (`exposure_table` gives the dashboard its rows).
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import (
    Custody,
    CustodyKind,
    CustodyStatus,
    Customer,
    DeliveryStatus,
    Member,
    NudgeDelivery,
    Role,
    Ticket,
    TicketEvent,
    TicketEventKind,
    TicketStatus,
)
from nudges.digest import FAR_ABOVE_FACTOR, FAR_ABOVE_MARGIN, Survey, survey
from nudges.hours import is_working
from nudges.settings import NudgeSettings
from ownership.errors import quote
from ownership.tone import NEGATIVE_THRESHOLD

WINDOW = timedelta(days=7)
ABUSE_WEIGHT = 3  # one abusive message weighs like three merely negative ones
MAX_MOVES = 3


@dataclass(frozen=True)
class Exposure:
    member_id: int
    name: str
    open_tickets: int
    overdue: int
    negative_notes: int
    abusive_notes: int
    after_hours_nudges: int
    step_outs: int
    load_far_above: bool = False
    far_above_median: bool = False  # exposure

    @property
    def score(self) -> int:
        """What wears a person down beyond ticket count: hostile messages, overdue work, evenings."""
        return self.negative_notes + ABUSE_WEIGHT * self.abusive_notes + self.after_hours_nudges + self.overdue


@dataclass(frozen=True)
class Move:
    customer: str
    open_tickets: int
    from_name: str
    to_name: str
    command: str  # `handoff "Acme" <@U2> <reason>`: the lead runs it as is or edits the reason
    reason: str
    customer_id: int
    to_member_id: int
    same_time_zone: bool


@dataclass
class ExposureReport:
    since: datetime
    now: datetime
    agents: list[Exposure] = field(default_factory=list)
    median_score: float = 0.0
    median_open: float = 0.0
    moves: list[Move] = field(default_factory=list)

    @property
    def flagged(self) -> list[Exposure]:
        return [a for a in self.agents if a.far_above_median or a.load_far_above]


def far_above(value: float, median: float) -> bool:
    return value >= FAR_ABOVE_FACTOR * median and value - median >= FAR_ABOVE_MARGIN


async def _agents(session: AsyncSession, workspace_id: int, member_ids: list[int] | None) -> list[Member]:
    query = select(Member).where(Member.workspace_id == workspace_id).order_by(Member.display_name)
    if member_ids is not None:
        query = query.where(Member.id.in_(member_ids))
    members = list((await session.execute(query)).scalars())
    owners = set(
        (
            await session.execute(
                select(Customer.owner_id).where(Customer.workspace_id == workspace_id, Customer.owner_id.is_not(None))
            )
        ).scalars()
    )
    return [m for m in members if m.role == Role.AGENT or m.id in owners]


async def _absorbed(session: AsyncSession, workspace_id: int, since: datetime, now: datetime) -> dict[int, list[int]]:
    """member id -> [negative, abusive] customer messages absorbed in the window (by who looked after it then)."""
    rows = (
        await session.execute(
            select(
                TicketEvent.kind,
                TicketEvent.tone_score,
                TicketEvent.at,
                TicketEvent.ticket_id,
                Ticket.customer_id,
                Ticket.owner_id,
            )
            .join(Ticket, Ticket.id == TicketEvent.ticket_id)
            .where(
                TicketEvent.workspace_id == workspace_id,
                TicketEvent.kind.in_((TicketEventKind.CUSTOMER_MESSAGE, TicketEventKind.ABUSE)),
                TicketEvent.at >= since,
                TicketEvent.at <= now,
            )
        )
    ).all()
    kept = list(
        (
            await session.execute(
                select(Custody).where(
                    Custody.workspace_id == workspace_id,
                    Custody.status.in_((CustodyStatus.ACTIVE, CustodyStatus.ENDED)),
                    Custody.starts_at.is_not(None),
                )
            )
        ).scalars()
    )
    out: dict[int, list[int]] = {}
    for kind, score, at, _ticket_id, customer_id, owner_id in rows:
        who = owner_id
        for c in kept:
            assert c.starts_at is not None
            end = c.ended_at or c.until
            if c.customer_id == customer_id and c.starts_at <= at and (end is None or at < end):
                who = c.keeper_id
        if who is None:
            continue
        counts = out.setdefault(who, [0, 0])
        negative = score is not None and score <= NEGATIVE_THRESHOLD
        if kind == TicketEventKind.ABUSE:
            counts[1] += 1
            counts[0] -= negative  # its message was counted as negative too: count it once, as abusive
        elif negative:
            counts[0] += 1
    return out


async def _after_hours(session: AsyncSession, agents: list[Member], since: datetime, now: datetime) -> dict[int, int]:
    by_id = {m.id: m for m in agents}
    rows = (
        await session.execute(
            select(NudgeDelivery.recipient_id, NudgeDelivery.sent_at).where(
                NudgeDelivery.recipient_id.in_(list(by_id)),
                NudgeDelivery.status.in_((DeliveryStatus.SENT, DeliveryStatus.BUNDLED)),
                NudgeDelivery.sent_at >= since,
                NudgeDelivery.sent_at <= now,
            )
        )
    ).all()
    out: dict[int, int] = {}
    for member_id, sent_at in rows:
        if sent_at is not None and not is_working(by_id[member_id], sent_at):
            out[member_id] = out.get(member_id, 0) + 1
    return out


async def _step_outs(session: AsyncSession, workspace_id: int, since: datetime, now: datetime) -> dict[int, int]:
    rows = await session.execute(
        select(Custody.owner_id, func.count())
        .where(
            Custody.workspace_id == workspace_id,
            Custody.kind == CustodyKind.STEP_OUT,
            Custody.starts_at.is_not(None),
            Custody.starts_at >= since,
            Custody.starts_at <= now,
        )
        .group_by(Custody.owner_id)
    )
    return {member_id: int(n) for member_id, n in rows.all()}


async def exposure_report(
    session: AsyncSession,
    *,
    workspace_id: int,
    now: datetime,
    policy: NudgeSettings,
    member_ids: list[int] | None = None,
) -> ExposureReport:
    """Exposure per agent over the last 7 days (all agents of the workspace, or those in `member_ids`), the team
    medians, who is far above them, and rebalancing moves for whoever is."""
    since = now - WINDOW
    agents = await _agents(session, workspace_id, member_ids)
    report = ExposureReport(since, now)
    if not agents:
        return report
    load = await survey(
        session, Survey(), workspace_id=workspace_id, member_ids=None, agents=agents, now=now, policy=policy
    )
    by_member = {a.member.id: a for a in load.load}
    absorbed = await _absorbed(session, workspace_id, since, now)
    evenings = await _after_hours(session, agents, since, now)
    steps = await _step_outs(session, workspace_id, since, now)
    rows: list[Exposure] = []
    for m in agents:
        a = by_member.get(m.id)
        negative, abusive = absorbed.get(m.id, [0, 0])
        rows.append(
            Exposure(
                m.id,
                m.display_name,
                a.open_tickets if a else 0,
                a.overdue if a else 0,
                negative,
                abusive,
                evenings.get(m.id, 0),
                steps.get(m.id, 0),
                a.far_above_median if a else False,
            )
        )
    report.median_score = float(statistics.median(r.score for r in rows))
    report.median_open = float(load.median_open)
    report.agents = [replace(r, far_above_median=far_above(r.score, report.median_score)) for r in rows]
    report.moves = await rebalance(session, report=report, agents=agents)
    return report


async def rebalance(session: AsyncSession, *, report: ExposureReport, agents: list[Member]) -> list[Move]:
    """For each flagged agent: up to three of their customers (most open tickets first) to the least-loaded
    colleagues who are not away (same time zone first), until they are back near the median."""
    by_id = {m.id: m for m in agents}
    loads = {a.member_id: a.open_tickets for a in report.agents}
    moves: list[Move] = []
    for agent in report.flagged:
        person = by_id[agent.member_id]
        rows = (
            await session.execute(
                select(Customer, func.count(Ticket.id))
                .join(Ticket, Ticket.customer_id == Customer.id)
                .where(Customer.owner_id == person.id, Ticket.status.in_((TicketStatus.OPEN, TicketStatus.PENDING)))
                .group_by(Customer.id)
                .order_by(func.count(Ticket.id).desc(), Customer.name_key)
            )
        ).all()
        target = report.median_open + FAR_ABOVE_MARGIN
        most = MAX_MOVES if agent.load_far_above else 1  # exposure alone: one customer off their plate
        for customer, count in rows:
            if len([m for m in moves if m.from_name == person.display_name]) >= most:
                break
            if agent.load_far_above and loads[person.id] <= target:
                break
            others = [m for m in agents if m.id != person.id and not m.away and m.id not in _flagged_ids(report)]
            if not others:
                break
            # Same time zone first among those the move keeps near the median; else simply the least loaded.
            fits = [m for m in others if loads.get(m.id, 0) + int(count) <= target] or others
            to = min(fits, key=lambda m: (m.time_zone != person.time_zone, loads.get(m.id, 0), m.display_name))
            why = (
                f"rebalancing: {person.display_name} carries {agent.open_tickets} open tickets"
                + (" and a hard week of customer messages" if agent.far_above_median else "")
                + f"; {to.display_name} has {loads.get(to.id, 0)}"
            )
            moves.append(
                Move(
                    customer.name,
                    int(count),
                    person.display_name,
                    to.display_name,
                    f"handoff {quote(customer.name)} <@{to.platform_user_id}> {why}",
                    why,
                    customer.id,
                    to.id,
                    to.time_zone == person.time_zone,
                )
            )
            loads[person.id] -= int(count)
            loads[to.id] = loads.get(to.id, 0) + int(count)
    return moves


def _flagged_ids(report: ExposureReport) -> set[int]:
    return {a.member_id for a in report.flagged}


EXPOSURE_COLUMNS: tuple[str, ...] = (
    "Agent",
    "Open",
    "Overdue",
    "Negative",
    "Abusive",
    "After hours",
    "Step-outs",
    "Flag",
)


def exposure_table(report: ExposureReport) -> tuple[tuple[str, ...], list[tuple[str, ...]]]:
    """The dashboard's table: column headings and one row of plain strings per agent (it escapes them)."""
    rows: list[tuple[str, ...]] = []
    for a in report.agents:
        flag = "far above the team median" if a.far_above_median else ("load" if a.load_far_above else "")
        rows.append(
            (
                a.name,
                str(a.open_tickets),
                str(a.overdue),
                str(a.negative_notes),
                str(a.abusive_notes),
                str(a.after_hours_nudges),
                str(a.step_outs),
                flag,
            )
        )
    return EXPOSURE_COLUMNS, rows
