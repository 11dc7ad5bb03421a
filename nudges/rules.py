"""Which nudges a subject needs right now, and when to look at it again: pure reads, no writes.

Each rule turns a ticket, customer, handoff or lead into `Need`s (one per problem, keyed by an `episode`
string that changes when a new occurrence of the problem starts) and the earliest future moment at which a
new need could appear (`next_check`). The planner writes needs as episodes; the sender re-runs the same
rules before sending, so a nudge whose problem went away is cancelled instead of sent.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import (
    Customer,
    HandoffRequest,
    HandoffStatus,
    Member,
    Mood,
    NudgeEpisode,
    NudgeKind,
    OwnershipEvent,
    Priority,
    Role,
    SubjectKind,
    Team,
    Ticket,
    TicketStatus,
    Tier,
)
from ownership.claim_views import REASSIGN_KINDS

from .business_time import BusinessCalendar
from .clocks import Clock, Pauses, pauses_of, show_due, ticket_clocks
from .hours import today_window
from .levels import ServiceLevels, Targets
from .preload import customer_facts, handoff_with_customer, ticket_with_customer
from .settings import NudgeSettings

# Who hears about each kind, step by step. "owner" falls back to the lead when nobody owns the subject.
LADDERS: dict[NudgeKind, tuple[str, ...]] = {
    NudgeKind.STALE: ("owner", "lead", "admins"),
    NudgeKind.SLA_WARNING: ("owner", "lead"),
    NudgeKind.SLA_BREACH: ("owner", "lead", "admins"),
    NudgeKind.UNHAPPY: ("owner", "lead", "admins"),
    NudgeKind.CHECK_IN: ("owner", "lead"),
    NudgeKind.HANDOFF_NOT_ACCEPTED: ("receiver", "lead", "admins"),
    NudgeKind.UNOWNED_CUSTOMER: ("lead", "admins"),
    NudgeKind.HOT_POTATO: ("lead", "admins"),
    NudgeKind.DIGEST: ("self",),
}
BAD_CSAT = {"1", "2", "bad", "unhappy", "negative", "-1", "👎", "dissatisfied"}
GOOD_CSAT = {"4", "5", "good", "great", "happy", "positive", "+1", "👍", "satisfied", "😀", "🙂"}
CHECK_IN_ONCE_PER = timedelta(days=7)  # a customer is asked about at most once a week


@dataclass(frozen=True)
class Need:
    kind: NudgeKind
    episode: str
    starts_at: datetime  # when the problem became due; for problems found "now" the first sighting wins
    detail: str
    urgent: bool = False  # premium + urgent breach: ignores working hours and the daily cap


@dataclass
class Evaluation:
    workspace_id: int | None
    needs: list[Need] = field(default_factory=list)
    next_check: datetime | None = None
    tier: Tier = Tier.STANDARD
    ticket: Ticket | None = None
    customer: Customer | None = None
    handoff: HandoffRequest | None = None
    member: Member | None = None
    gone: bool = False  # the subject no longer exists

    def later(self, moment: datetime | None) -> None:
        if moment is not None and (self.next_check is None or moment < self.next_check):
            self.next_check = moment


def bad_csat(value: str | None) -> bool:
    return value is not None and value.strip().lower() in BAD_CSAT


def good_csat(value: str | None) -> bool:
    return value is not None and value.strip().lower() in GOOD_CSAT


def short_hash(*parts: object) -> str:
    return hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).hexdigest()[:16]


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S")


def _target_rule(
    out: Evaluation,
    clock: Clock,
    *,
    calendar: BusinessCalendar,
    now: datetime,
    urgent_breach: bool,
) -> None:
    label = clock.name.replace("-", " ")
    kind_of_time = "24/7" if calendar.always else "business time"
    if clock.overdue is not None:
        out.needs.append(
            Need(
                NudgeKind.SLA_BREACH,
                clock.name,
                clock.due_at,
                f"{label} target of {_words(clock.target)} ({kind_of_time}) breached at "
                f"{show_due(clock.due_at, calendar)}",
                urgent=urgent_breach,
            )
        )
    elif now >= clock.warn_at:
        out.needs.append(
            Need(
                NudgeKind.SLA_WARNING,
                clock.name,
                clock.warn_at,
                f"{label} target of {_words(clock.target)} ({kind_of_time}) is due {show_due(clock.due_at, calendar)}",
            )
        )
        out.later(clock.due_at)
    else:
        out.later(clock.warn_at)


def _words(delta: timedelta) -> str:
    from .levels import timedelta_words

    return timedelta_words(delta)


async def evaluate_ticket(
    session: AsyncSession, ticket_id: int, *, now: datetime, policy: NudgeSettings, levels: ServiceLevels
) -> Evaluation:
    row = await ticket_with_customer(session, ticket_id)
    if row is None:
        return Evaluation(None, gone=True)
    ticket, customer = row
    out = Evaluation(ticket.workspace_id, tier=customer.tier, ticket=ticket, customer=customer)
    await needs_on_its_calendar(session, levels, out, ticket, customer, policy=policy, now=now)
    await follow_up_rules(session, out, ticket, customer, policy=policy, now=now)
    return out


async def needs_on_its_calendar(
    session: AsyncSession,
    levels: ServiceLevels,
    out: Evaluation,
    ticket: Ticket,
    customer: Customer,
    *,
    policy: NudgeSettings,
    now: datetime,
) -> BusinessCalendar:
    """`ticket_needs` on the ticket's own calendar and targets, its pauses read from the timeline; returns that
    calendar (callers show due times on it)."""
    calendar = await levels.ticket_calendar(ticket, customer)
    targets = await levels.get(ticket.workspace_id, customer.tier)
    pauses = await pauses_of(session, ticket)
    ticket_needs(out, ticket, customer, targets, calendar=calendar, pauses=pauses, policy=policy, now=now)
    return calendar


def ticket_needs(
    out: Evaluation,
    ticket: Ticket,
    customer: Customer,
    targets: Targets,
    *,
    calendar: BusinessCalendar,
    pauses: Pauses | None = None,
    policy: NudgeSettings,
    now: datetime,
) -> Evaluation:
    """The ticket rules, on rows already loaded (the digest uses them for many tickets at once)."""
    if ticket.status in (TicketStatus.OPEN, TicketStatus.PENDING):
        urgent = customer.tier == Tier.PREMIUM and ticket.priority == Priority.URGENT
        for clock in ticket_clocks(ticket, targets, calendar=calendar, pauses=pauses, policy=policy, now=now):
            _target_rule(out, clock, calendar=calendar, now=now, urgent_breach=urgent)
        if ticket.status == TicketStatus.OPEN:
            stale_at = calendar.add(ticket.last_activity_at, targets.scaled(targets.update, ticket.priority))
            if now >= stale_at:
                out.needs.append(
                    Need(
                        NudgeKind.STALE,
                        iso(ticket.last_activity_at),
                        stale_at,
                        f"no update since {show_due(ticket.last_activity_at, calendar)}",
                    )
                )
            else:
                out.later(stale_at)
        if ticket.reassign_count > policy.hot_potato_after:
            out.needs.append(
                Need(
                    NudgeKind.HOT_POTATO,
                    f"reassigned>{policy.hot_potato_after}",
                    now,
                    f"ticket re-assigned {ticket.reassign_count} times",
                )
            )
    if ticket.status != TicketStatus.CLOSED and (ticket.mood == Mood.UNHAPPY or bad_csat(ticket.csat)):
        why = ticket.mood_reason or (f"CSAT {ticket.csat}" if bad_csat(ticket.csat) else "marked unhappy")
        out.needs.append(
            Need(NudgeKind.UNHAPPY, short_hash(ticket.mood.value, ticket.mood_reason, ticket.csat), now, why)
        )
    if (
        ticket.status == TicketStatus.RESOLVED
        and ticket.resolved_at is not None
        and ticket.mood != Mood.UNHAPPY
        and not good_csat(ticket.csat)  # the customer already said they are happy: no need to ask
    ):
        check_at = ticket.resolved_at + timedelta(days=policy.check_in_days)
        too_old = ticket.resolved_at + timedelta(days=policy.check_in_days + policy.check_in_window_days)
        if now < check_at:
            out.later(check_at)
        elif now < too_old:
            out.needs.append(
                Need(
                    NudgeKind.CHECK_IN,
                    iso(ticket.resolved_at),
                    check_at,
                    f"resolved {ticket.resolved_at:%Y-%m-%d}; is the customer really happy?",
                )
            )
    return out


async def customer_moves(session: AsyncSession, customer_id: int) -> int:
    return (
        await session.scalar(
            select(func.count())
            .select_from(OwnershipEvent)
            .where(OwnershipEvent.customer_id == customer_id, OwnershipEvent.kind.in_(REASSIGN_KINDS))
        )
        or 0
    )


async def follow_up_rules(
    session: AsyncSession, out: Evaluation, ticket: Ticket, customer: Customer, *, policy: NudgeSettings, now: datetime
) -> None:
    """What the customer-level rules already cover: a hot-potato customer's own nudge speaks for its tickets,
    and a customer hears a check-in at most once a week, whichever ticket it is about."""
    kinds = {need.kind for need in out.needs}
    drop: set[NudgeKind] = set()
    if NudgeKind.HOT_POTATO in kinds and await customer_moves(session, customer.id) > policy.hot_potato_after:
        drop.add(NudgeKind.HOT_POTATO)
    if NudgeKind.CHECK_IN in kinds:
        check = next(n for n in out.needs if n.kind == NudgeKind.CHECK_IN)
        other = await session.scalar(
            select(NudgeEpisode.id)
            .where(
                NudgeEpisode.customer_id == customer.id,
                NudgeEpisode.kind == NudgeKind.CHECK_IN,
                NudgeEpisode.ticket_id != ticket.id,
                NudgeEpisode.started_at > check.starts_at - CHECK_IN_ONCE_PER,
            )
            .limit(1)
        )
        if other is not None:
            drop.add(NudgeKind.CHECK_IN)
    if drop:
        out.needs = [need for need in out.needs if need.kind not in drop]


async def evaluate_customer(
    session: AsyncSession, customer_id: int, *, now: datetime, policy: NudgeSettings
) -> Evaluation:
    facts = await customer_facts(session, customer_id)
    if facts is None:
        return Evaluation(None, gone=True)
    customer = facts.customer
    out = Evaluation(customer.workspace_id, tier=customer.tier, customer=customer)
    if customer.owner_id is None:
        since = facts.released or customer.created_at
        due = since + timedelta(minutes=policy.unowned_grace_minutes)
        if now >= due:
            out.needs.append(
                Need(
                    NudgeKind.UNOWNED_CUSTOMER, iso(since), due, f"nobody has owned it since {since:%Y-%m-%d %H:%M} UTC"
                )
            )
        else:
            out.later(due)
    if facts.moves > policy.hot_potato_after:
        out.needs.append(
            Need(
                NudgeKind.HOT_POTATO,
                f"reassigned>{policy.hot_potato_after}",
                now,
                f"customer changed hands {facts.moves} times",
            )
        )
    return out


async def evaluate_handoff(
    session: AsyncSession, handoff_id: int, *, now: datetime, policy: NudgeSettings
) -> Evaluation:
    found = await handoff_with_customer(session, handoff_id)
    if found is None:
        return Evaluation(None, gone=True)
    handoff, customer = found
    out = Evaluation(handoff.workspace_id, tier=customer.tier, handoff=handoff, customer=customer)
    if handoff.status == HandoffStatus.PENDING:
        due = handoff.requested_at + timedelta(minutes=policy.handoff_accept_minutes)
        if now >= due:
            out.needs.append(
                Need(
                    NudgeKind.HANDOFF_NOT_ACCEPTED,
                    "pending",
                    due,
                    f"offered {handoff.requested_at:%Y-%m-%d %H:%M} UTC, not answered: {handoff.reason}",
                )
            )
        else:
            out.later(due)
    return out


async def leads_a_team(session: AsyncSession, member: Member) -> bool:
    return (await session.scalar(select(Team.id).where(Team.lead_id == member.id).limit(1))) is not None


async def evaluate_member(session: AsyncSession, member_id: int, *, now: datetime) -> Evaluation:
    """A lead's daily digest, at the start of their working day."""
    member = await session.get(Member, member_id, populate_existing=True)
    if member is None:
        return Evaluation(None, gone=True)
    out = Evaluation(member.workspace_id, member=member)
    if member.role != Role.LEAD and not await leads_a_team(session, member):
        return out
    from .hours import local_day, next_work_start

    window = today_window(member, now)
    if window is not None and window[0] <= now < window[1]:
        day = local_day(member, window[0])  # an overnight shift's digest belongs to the evening it started
        out.needs.append(Need(NudgeKind.DIGEST, day.isoformat(), window[0], "daily digest"))
    out.later(next_work_start(member, now))
    return out


async def evaluate(
    session: AsyncSession,
    kind: SubjectKind,
    subject_id: int,
    *,
    now: datetime,
    policy: NudgeSettings,
    levels: ServiceLevels,
) -> Evaluation:
    if kind == SubjectKind.TICKET:
        return await evaluate_ticket(session, subject_id, now=now, policy=policy, levels=levels)
    if kind == SubjectKind.CUSTOMER:
        return await evaluate_customer(session, subject_id, now=now, policy=policy)
    if kind == SubjectKind.HANDOFF:
        return await evaluate_handoff(session, subject_id, now=now, policy=policy)
    return await evaluate_member(session, subject_id, now=now)
