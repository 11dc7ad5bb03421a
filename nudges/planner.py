"""The planner: look at the subjects whose check is due, write their episodes and the ladder's due deliveries.

Cost: one indexed range read of `nudge_checks` (check_at <= now), then a handful of primary-key reads per due
subject. Subjects whose next moment lies in the future are not touched; subjects with nothing left to watch
leave the schedule until a write puts them back (see the ORM hooks in ownerbot/db/models/nudges.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import (
    Customer,
    DeliveryStatus,
    Member,
    NudgeCheck,
    NudgeDelivery,
    NudgeEpisode,
    Role,
    SubjectKind,
    Team,
    Ticket,
    TicketStatus,
    Tier,
)
from db.models.nudges import EPOCH
from ownership.custody import acting_owner

from .availability import is_away
from .business_time import BusinessCalendar
from .escalation import away_words, why_it_came
from .hours import next_working_moment
from .levels import ServiceLevels
from .preload import preload
from .rules import LADDERS, Evaluation, Need, evaluate
from .settings import NudgeSettings
from .statements import new_delivery


@dataclass(frozen=True)
class PlanResult:
    checked: int
    deliveries: int


async def plan_due(session: AsyncSession, *, now: datetime, policy: NudgeSettings) -> PlanResult:
    """Plan the subjects whose check is due. Rows are locked (SKIP LOCKED on PostgreSQL), so replicas split
    the work and never plan one subject twice at once; on SQLite the IMMEDIATE transaction serializes."""
    checks = (
        (
            await session.execute(
                select(NudgeCheck)
                .where(NudgeCheck.check_at <= now)
                .order_by(NudgeCheck.check_at)
                .limit(policy.batch_size)
                .with_for_update(skip_locked=True)
            )
        )
        .scalars()
        .all()
    )
    levels = ServiceLevels(session)
    await preload(session, [(c.subject_kind, c.subject_id) for c in checks])
    planned = 0
    for check in checks:
        evaluation = await evaluate(
            session, check.subject_kind, check.subject_id, now=now, policy=policy, levels=levels
        )
        if not evaluation.gone:
            for need in evaluation.needs:
                episode, new = await open_episode(session, check.subject_kind, check.subject_id, evaluation, need)
                if episode.done_at is None:
                    count, next_step = await climb(
                        session, episode, evaluation, now=now, policy=policy, levels=levels, new=new
                    )
                    planned += count
                    evaluation.later(next_step)
        if evaluation.gone or evaluation.next_check is None:
            await session.delete(check)
        else:
            check.check_at = evaluation.next_check
    await session.flush()
    return PlanResult(len(checks), planned)


async def open_episode(
    session: AsyncSession, subject_kind: SubjectKind, subject_id: int, evaluation: Evaluation, need: Need
) -> tuple[NudgeEpisode, bool]:
    """The episode for this need and whether this call created it: a new one (INSERT … RETURNING, one
    statement), else the one already open."""
    ticket, customer = evaluation.ticket, evaluation.customer
    values = {
        "workspace_id": evaluation.workspace_id,
        "subject_kind": subject_kind,
        "subject_id": subject_id,
        "kind": need.kind,
        "episode": need.episode,
        "ticket_id": ticket.id if ticket else None,
        "customer_id": customer.id if customer else None,
        "detail": need.detail,
        "started_at": need.starts_at,
        "snoozes": 0,
    }
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    created = await session.scalar(
        insert(NudgeEpisode)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["subject_kind", "subject_id", "kind", "episode"])
        .returning(NudgeEpisode)
    )
    if created is not None:
        return created, True
    found = (
        await session.execute(
            select(NudgeEpisode)
            .where(
                NudgeEpisode.subject_kind == subject_kind,
                NudgeEpisode.subject_id == subject_id,
                NudgeEpisode.kind == need.kind,
                NudgeEpisode.episode == need.episode,
            )
            .execution_options(populate_existing=True)
        )
    ).scalar_one()
    return found, False


def escalation_time(base: datetime, episode: NudgeEpisode, policy: NudgeSettings) -> datetime:
    """A snooze pushes the next step back, but never more than the snooze limit past its own time."""
    if episode.snoozed_until is not None and episode.snoozed_until > base:
        return min(episode.snoozed_until, base + timedelta(minutes=policy.snooze_limit_minutes))
    return base


async def planned_steps(session: AsyncSession, episode_id: int) -> set[int]:
    rows = await session.execute(
        select(NudgeDelivery.step).where(NudgeDelivery.episode_id == episode_id, NudgeDelivery.round == 0).distinct()
    )
    return set(rows.scalars())


async def escalation_clock(levels: ServiceLevels, evaluation: Evaluation) -> BusinessCalendar:
    """A ticket's ladder runs on the ticket's own clock (business hours, or 24/7); anything else on wall time."""
    ticket, customer = evaluation.ticket, evaluation.customer
    if ticket is None or customer is None:
        return BusinessCalendar(always=True)
    return await levels.ticket_calendar(ticket, customer)


async def next_step_time(
    session: AsyncSession,
    episode: NudgeEpisode,
    *,
    policy: NudgeSettings,
    levels: ServiceLevels,
    evaluation: Evaluation,
    planned: set[int] | None = None,
) -> tuple[int, datetime] | None:
    """The next ladder step not yet planned and when it is due, or None when the ladder is complete.

    Every step is timed from the problem's start (the breach) by its own delay: what happened to the previous
    step's message (held for working hours, capped, undeliverable) never moves the next step."""
    ladder = LADDERS[episode.kind]
    if planned is None:
        planned = await planned_steps(session, episode.id)
    targets = await levels.get(episode.workspace_id, evaluation.tier)
    for step in range(len(ladder)):
        if step in planned:
            continue
        if step == 0:
            return 0, episode.started_at
        minutes = targets.lead_after if step == 1 else targets.lead_after + targets.admins_after
        delay = timedelta(minutes=minutes)
        calendar = await escalation_clock(levels, evaluation)
        return step, escalation_time(calendar.add(episode.started_at, delay), episode, policy)
    return None


async def climb(
    session: AsyncSession,
    episode: NudgeEpisode,
    evaluation: Evaluation,
    *,
    now: datetime,
    policy: NudgeSettings,
    levels: ServiceLevels,
    new: bool = False,
) -> tuple[int, datetime | None]:
    """Plan every ladder step that is due by now; return how many deliveries and when the next step is due.
    `new`: the episode was created in this transaction, so none of its steps is planned yet."""
    planned = 0
    urgent = any(n.urgent for n in evaluation.needs if n.kind == episode.kind and n.episode == episode.episode)
    # the steps planned so far: read once (none for an episode this transaction created), then kept up to date
    steps: set[int] = set() if new else await planned_steps(session, episode.id)
    while True:
        nxt = await next_step_time(session, episode, policy=policy, levels=levels, evaluation=evaluation, planned=steps)
        if nxt is None:
            return planned, None
        step, at = nxt
        if at > now:
            return planned, at
        audience = LADDERS[episode.kind][step]
        people = await recipients(session, audience, evaluation, now=now)
        if not people:
            return planned, None  # nobody to tell (no lead, no admin): the history still shows the episode
        why = await why_it_came(session, episode, step, now=now)
        if step == 0 and any(role != audience for _, role in people):
            why = await stand_in_reason(session, audience, evaluation, now=now)
        for person, role in people:
            due = at if urgent else next_working_moment(person, max(at, now))
            await session.execute(
                new_delivery(session),
                {
                    "workspace_id": episode.workspace_id,
                    "episode_id": episode.id,
                    "kind": episode.kind,
                    "step": step,
                    "round": 0,
                    "recipient_id": person.id,
                    "audience": role,
                    "urgent": urgent,
                    "status": DeliveryStatus.PLANNED,
                    "planned_at": now,
                    "due_at": due,
                    "attempts": 0,
                    "why": why,
                },
            )
            planned += 1
        steps.add(step)


DONE = (TicketStatus.RESOLVED, TicketStatus.CLOSED)


# --- who hears it ---------------------------------------------------------------------------------------


async def admins_of(session: AsyncSession, workspace_id: int) -> list[Member]:
    return list(
        (
            await session.execute(
                select(Member).where(Member.workspace_id == workspace_id, Member.role == Role.ADMIN).order_by(Member.id)
            )
        ).scalars()
    )


async def lead_of(
    session: AsyncSession,
    workspace_id: int,
    anchor: Member | None,
    customer: Customer | None,
    *,
    now: datetime | None = None,
) -> list[tuple[Member, str]]:
    """The anchor's team lead (or the customer's team's), else the workspace's first lead, else the admins.
    An away lead's nudges go to their delegate."""
    team_id = anchor.team_id if anchor is not None else (customer.team_id if customer is not None else None)
    lead: Member | None = None
    if team_id is not None:
        lead_id = await session.scalar(select(Team.lead_id).where(Team.id == team_id))
        lead = await session.get(Member, lead_id) if lead_id else None
    if lead is None:
        lead = (
            await session.execute(
                select(Member)
                .where(Member.workspace_id == workspace_id, Member.role == Role.LEAD)
                .order_by(Member.id)
                .limit(1)
            )
        ).scalar_one_or_none()
    if lead is not None and anchor is not None and lead.id == anchor.id:
        lead = None
    if lead is not None and is_away(lead, now):
        stand_in = await session.get(Member, lead.delegate_id) if lead.delegate_id else None
        if stand_in is not None and not is_away(stand_in, now) and (anchor is None or stand_in.id != anchor.id):
            return [(stand_in, "delegate")]
        lead = None
    if lead is None:
        return [(m, "admin") for m in await admins_of(session, workspace_id) if anchor is None or m.id != anchor.id]
    return [(lead, "lead")]


async def person_or_stand_in(
    session: AsyncSession, workspace_id: int, person: Member, role: str, customer: Customer | None, *, now: datetime
) -> list[tuple[Member, str]]:
    """An away person's nudges go to their delegate or, without one, their lead, at once."""
    if not is_away(person, now):
        return [(person, role)]
    stand_in = await session.get(Member, person.delegate_id) if person.delegate_id else None
    if stand_in is not None and not is_away(stand_in, now):
        return [(stand_in, "delegate")]
    return await lead_of(session, workspace_id, person, customer, now=now)


async def stand_in_reason(session: AsyncSession, audience: str, evaluation: Evaluation, *, now: datetime) -> str | None:
    """Why the first step went to someone else: "Sam is away until Wed 25 Nov, so it came to you." """
    person_id = None
    if audience == "receiver" and evaluation.handoff is not None:
        person_id = evaluation.handoff.to_member_id
    elif audience == "owner":
        ticket, customer = evaluation.ticket, evaluation.customer
        if ticket is not None and ticket.status not in DONE:
            person_id = ticket.owner_id
        elif evaluation.handoff is not None:
            person_id = evaluation.handoff.from_member_id
        elif customer is not None:
            person_id = customer.owner_id
    person = await session.get(Member, person_id) if person_id else None
    if person is None or not is_away(person, now):
        return None
    return f"{away_words(person)}, so it came to you."


async def recipients(
    session: AsyncSession, audience: str, evaluation: Evaluation, *, now: datetime
) -> list[tuple[Member, str]]:
    workspace_id = evaluation.workspace_id
    assert workspace_id is not None
    customer = evaluation.customer
    if audience == "self":
        return [(evaluation.member, "lead")] if evaluation.member is not None else []
    owner_id = None
    if evaluation.ticket is not None and customer is not None and evaluation.ticket.status in DONE:
        owner_id = customer.owner_id  # a resolved ticket's follow-up goes to whoever owns the customer now
    elif evaluation.ticket is not None:
        owner_id = evaluation.ticket.owner_id
    elif evaluation.handoff is not None:
        owner_id = evaluation.handoff.from_member_id
    elif customer is not None:
        owner_id = customer.owner_id
    owner = await session.get(Member, owner_id) if owner_id else None
    if audience == "admins":
        return [(m, "admin") for m in await admins_of(session, workspace_id)]
    if audience == "lead":
        return await lead_of(session, workspace_id, owner, customer, now=now)
    if audience == "receiver" and evaluation.handoff is not None:
        receiver = await session.get(Member, evaluation.handoff.to_member_id)
        if receiver is not None:
            return await person_or_stand_in(session, workspace_id, receiver, "receiver", customer, now=now)
    if audience == "owner" and owner is not None:
        acting = await acting_owner(session, owner_id=owner.id, customer_id=customer.id if customer else None, now=now)
        role = "owner" if acting is None or acting.id == owner.id else "cover"  # a step-out or away cover
        return await person_or_stand_in(session, workspace_id, acting or owner, role, customer, now=now)
    return await lead_of(session, workspace_id, None, customer, now=now)


# --- putting subjects back on the schedule from code (e.g. after bulk UPDATEs the ORM hooks cannot see) ---


async def recheck(session: AsyncSession, kind: SubjectKind, subject_id: int) -> None:
    """Ask the planner to look at this subject at the next tick."""
    connection = await session.connection()
    from db.models.nudges import recheck as mark

    await connection.run_sync(lambda sync: mark(sync, kind, subject_id))


async def recheck_tier(session: AsyncSession, *, workspace_id: int, tier: Tier) -> int:
    """After a service level changes: every active ticket of that tier gets re-planned."""
    ids = list(
        (
            await session.execute(
                select(Ticket.id)
                .join(Customer, Customer.id == Ticket.customer_id)
                .where(
                    Ticket.workspace_id == workspace_id,
                    Customer.tier == tier,
                    Ticket.status.in_((TicketStatus.OPEN, TicketStatus.PENDING)),
                )
            )
        ).scalars()
    )
    for ticket_id in ids:
        await recheck(session, SubjectKind.TICKET, ticket_id)
    return len(ids)


async def recheck_open_tickets(session: AsyncSession, *, workspace_id: int) -> None:
    """After support hours or holidays change: every open ticket's clocks are counted again at the next tick."""
    connection = await session.connection()
    from db.models.nudges import recheck_workspace_tickets

    await connection.run_sync(lambda sync: recheck_workspace_tickets(sync, workspace_id))


async def forget_subject(session: AsyncSession, kind: SubjectKind, subject_id: int) -> None:
    await session.execute(
        delete(NudgeCheck).where(NudgeCheck.subject_kind == kind, NudgeCheck.subject_id == subject_id)
    )


__all__ = ["EPOCH", "PlanResult", "plan_due", "recheck", "recheck_tier", "recipients"]
