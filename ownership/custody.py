"""Custody: a colleague looks after a customer for a while; the owner stays the named owner.

- A **step-out** is the escape route from an abusive customer: the owner (or their lead, or an admin) moves the
  customer's custody to the lead, or to a named colleague who accepts, for a period (default 7 days).
- **Cover** is for an away owner: custody of each of their customers goes to the cover (or their delegate, or
  their lead) until they are back.

The keeper gets the customer's nudges and notices (`acting_owner` is the one place that decides). The audit
trail records STEP_OUT / STEP_BACK / COVER / COVER_END events, which are not re-assigns: hot potatoes and
re-assign rates do not count them. Custody ends by itself at `until` (`return_due_custodies`, run by the
ticker; `acting_owner` already ignores an expired row) or when the owner steps back or comes back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import (
    Custody,
    CustodyKind,
    CustodyStatus,
    Customer,
    EventKind,
    Member,
    OwnershipEvent,
    Platform,
    Role,
    Team,
)

from .claims import require_reason
from .errors import Conflict, InvalidInput, NotFound, NotPermitted
from .people import is_lead

STEP_OUT_PERIOD = timedelta(days=7)
MAX_PERIOD = timedelta(days=90)
OPEN = (CustodyStatus.OFFERED, CustodyStatus.ACTIVE)


# --- who looks after a customer right now ------------------------------------------------------------------


def _in_force(custody: Custody, now: datetime) -> bool:
    return (
        custody.status == CustodyStatus.ACTIVE
        and (custody.starts_at is None or custody.starts_at <= now)
        and (custody.until is None or now < custody.until)
    )


async def custody_of(session: AsyncSession, *, customer_id: int, now: datetime) -> Custody | None:
    """The customer's custody in force at `now` (active, started, not past its end), if any."""
    found = (
        await session.execute(
            select(Custody).where(Custody.customer_id == customer_id, Custody.status == CustodyStatus.ACTIVE)
        )
    ).scalar_one_or_none()
    return found if found is not None and _in_force(found, now) else None


async def acting_owner(
    session: AsyncSession, *, owner_id: int | None, customer_id: int | None, now: datetime
) -> Member | None:
    """Who hears about a customer's tickets and nudges: its keeper while a custody is in force, else its owner.
    The one place nudges and notices pick the person who acts for the owner."""
    if customer_id is not None:
        found = await custody_of(session, customer_id=customer_id, now=now)
        if found is not None and (owner_id is None or found.owner_id == owner_id):
            return await session.get(Member, found.keeper_id)
    return await session.get(Member, owner_id) if owner_id else None


async def lead_for(session: AsyncSession, *, member: Member, customer: Customer | None = None) -> Member | None:
    """The member's team lead (or the customer's team's), else the workspace's first lead, else its first admin;
    never the member themselves."""
    for team_id in (member.team_id, customer.team_id if customer else None):
        if team_id is None:
            continue
        lead_id = await session.scalar(select(Team.lead_id).where(Team.id == team_id))
        if lead_id is not None and lead_id != member.id:
            return await session.get(Member, lead_id)
    for role in (Role.LEAD, Role.ADMIN):
        found = (
            await session.execute(
                select(Member)
                .where(Member.workspace_id == member.workspace_id, Member.role == role, Member.id != member.id)
                .order_by(Member.id)
                .limit(1)
            )
        ).scalar_one_or_none()
        if found is not None:
            return found
    return None


# --- writing ------------------------------------------------------------------------------------------------


def ownership_event(
    custody: Custody, kind: EventKind, *, actor: Member | None, reason: str, at: datetime
) -> OwnershipEvent:
    return OwnershipEvent(
        workspace_id=custody.workspace_id,
        kind=kind,
        customer_id=custody.customer_id,
        ticket_id=custody.ticket_id,
        from_member_id=custody.owner_id,
        to_member_id=custody.keeper_id,
        actor_id=actor.id if actor else None,
        reason=reason,
        platform=custody.platform,
        at=at,
    )


def _start_kind(custody: Custody) -> EventKind:
    return EventKind.STEP_OUT if custody.kind == CustodyKind.STEP_OUT else EventKind.COVER


def _end_kind(custody: Custody) -> EventKind:
    return EventKind.STEP_BACK if custody.kind == CustodyKind.STEP_OUT else EventKind.COVER_END


def require_owner_lead_or_admin(actor: Member, owner_id: int | None, what: str) -> None:
    if actor.id != owner_id and not is_lead(actor):
        raise NotPermitted(f"Only the owner, a lead or an admin can {what}.")


async def insert_custody(session: AsyncSession, custody: Custody, customer: Customer) -> Custody:
    try:
        async with session.begin_nested():
            session.add(custody)
            await session.flush()
    except IntegrityError:
        raise Conflict(f"{customer.name} is already being looked after by someone else; `stepback` first.") from None
    return custody


async def open_custody(session: AsyncSession, customer_id: int) -> Custody | None:
    return (
        await session.execute(select(Custody).where(Custody.customer_id == customer_id, Custody.status.in_(OPEN)))
    ).scalar_one_or_none()


@dataclass(frozen=True)
class StepOut:
    custody: Custody
    keeper: Member
    needs_acceptance: bool  # a named colleague was asked: custody moves when they accept


async def step_out(
    session: AsyncSession,
    *,
    actor: Member,
    customer: Customer,
    reason: str | None,
    to: Member | None = None,
    period: timedelta | None = None,
    ticket_id: int | None = None,
    platform: Platform,
    now: datetime,
) -> StepOut:
    """Move the customer's custody away from its owner for `period` (default 7 days). To the lead at once; to a
    named colleague when they accept (at once when the actor names themselves)."""
    why = require_reason(reason, "A step-out")
    if customer.owner_id is None:
        raise Conflict(f"Nobody owns {customer.name}, so there is nobody to step out.")
    require_owner_lead_or_admin(actor, customer.owner_id, f"step out of {customer.name}")
    span = period or STEP_OUT_PERIOD
    if span <= timedelta(0) or span > MAX_PERIOD:
        raise InvalidInput("A step-out lasts between a minute and 90 days (e.g. `--for 3d`).")
    owner = await session.get(Member, customer.owner_id)
    assert owner is not None
    keeper = to or await lead_for(session, member=owner, customer=customer)
    if keeper is None:
        raise Conflict("There is no lead or admin to step out to; name a colleague with `--to @person`.")
    if keeper.workspace_id != customer.workspace_id:
        raise NotFound("That person is not in this workspace.")
    if keeper.id == owner.id:
        raise InvalidInput(f"{owner.display_name} owns {customer.name}: name someone else to step out to.")
    if await open_custody(session, customer.id) is not None:
        raise Conflict(f"{customer.name} is already being looked after by someone else; `stepback` first.")
    lead = await lead_for(session, member=owner, customer=customer)
    asked = to is not None and to.id != actor.id and (lead is None or to.id != lead.id)
    custody = Custody(
        workspace_id=customer.workspace_id,
        customer_id=customer.id,
        ticket_id=ticket_id,
        kind=CustodyKind.STEP_OUT,
        status=CustodyStatus.OFFERED if asked else CustodyStatus.ACTIVE,
        owner_id=owner.id,
        keeper_id=keeper.id,
        requested_by_id=actor.id,
        reason=why,
        platform=platform,
        requested_at=now,
        starts_at=None if asked else now,
        until=now + span,
    )
    await insert_custody(session, custody, customer)
    if not asked:
        session.add(ownership_event(custody, EventKind.STEP_OUT, actor=actor, reason=why, at=now))
        await session.flush()
    return StepOut(custody, keeper, asked)


async def get_custody(session: AsyncSession, *, workspace_id: int, custody_id: int) -> Custody:
    found = await session.get(Custody, custody_id)
    if found is None or found.workspace_id != workspace_id:
        raise NotFound(f"There is no step-out #{custody_id}.")
    return found


async def answer_step_out(
    session: AsyncSession, *, actor: Member, custody: Custody, accept: bool, now: datetime
) -> Custody:
    """The named colleague accepts (custody moves now, for the rest of the period) or declines."""
    if custody.keeper_id != actor.id:
        raise NotPermitted("Only the colleague who was asked can answer this step-out.")
    if custody.status != CustodyStatus.OFFERED:
        raise Conflict(f"This step-out was already {custody.status.value}.")
    if custody.until is not None and custody.until <= now:
        raise Conflict("This step-out's period is already over.")
    if not accept:
        custody.status, custody.ended_at, custody.ended_by_id = CustodyStatus.DECLINED, now, actor.id
        await session.flush()
        return custody
    custody.status, custody.starts_at = CustodyStatus.ACTIVE, now
    session.add(ownership_event(custody, EventKind.STEP_OUT, actor=actor, reason=custody.reason, at=now))
    await session.flush()
    return custody


async def end_custody(session: AsyncSession, custody: Custody, *, actor: Member | None, why: str, at: datetime) -> None:
    was_active = custody.status == CustodyStatus.ACTIVE
    custody.status, custody.ended_at = CustodyStatus.ENDED, at
    custody.ended_by_id, custody.end_reason = (actor.id if actor else None), why
    if was_active:
        session.add(ownership_event(custody, _end_kind(custody), actor=actor, reason=why, at=at))


async def step_back(session: AsyncSession, *, actor: Member, customer: Customer, now: datetime) -> Custody:
    """End a customer's step-out now: the owner (or a lead or admin) takes custody back."""
    custody = await open_custody(session, customer.id)
    if custody is None or custody.kind != CustodyKind.STEP_OUT:
        raise Conflict(f"Nobody has stepped out of {customer.name}.")
    require_owner_lead_or_admin(actor, custody.owner_id, f"step back into {customer.name}")
    await end_custody(session, custody, actor=actor, why=f"{actor.display_name} stepped back", at=now)
    await session.flush()
    return custody


# --- returning by itself ------------------------------------------------------------------------------------


async def return_due_custodies(session: AsyncSession, *, now: datetime, limit: int = 500) -> int:
    """End what is over: custodies past their `until` (recorded at that moment), and cover for an owner who is
    no longer away. Idempotent: rows are locked (SKIP LOCKED on PostgreSQL) and each ends once."""
    due = list(
        (
            await session.execute(
                select(Custody)
                .where(Custody.status.in_(OPEN), Custody.until.is_not(None), Custody.until <= now)
                .order_by(Custody.until)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        ).scalars()
    )
    for custody in due:
        assert custody.until is not None
        await end_custody(session, custody, actor=None, why="the period ended", at=custody.until)
    back = list(
        (
            await session.execute(
                select(Custody)
                .join(Member, Member.id == Custody.owner_id)
                .where(
                    Custody.status == CustodyStatus.ACTIVE,
                    Custody.kind == CustodyKind.AWAY_COVER,
                    or_(  # back: `away off`, or an `away until` day has begun
                        Member.away.is_(False), and_(Member.away_until.is_not(None), Member.away_until <= now)
                    ),
                )
                .limit(limit)
                .with_for_update(of=Custody, skip_locked=True)
            )
        ).scalars()
    )
    for custody in back:
        await end_custody(session, custody, actor=None, why="the owner is back", at=now)
    await session.flush()
    return len(due) + len(back)


@dataclass(frozen=True)
class CustodyLine:
    custody: Custody
    customer: str
    owner: str
    keeper: str


async def custodies(
    session: AsyncSession, *, workspace_id: int, member: Member | None = None, now: datetime
) -> list[CustodyLine]:
    """Open custodies (in the workspace, or those a member gives or keeps), soonest end first."""
    query = select(Custody, Customer.name).join(Customer, Customer.id == Custody.customer_id)
    query = query.where(Custody.workspace_id == workspace_id, Custody.status.in_(OPEN))
    if member is not None:
        query = query.where((Custody.owner_id == member.id) | (Custody.keeper_id == member.id))
    rows = list((await session.execute(query.order_by(Custody.until, Custody.id))).all())
    names = dict(
        (await session.execute(select(Member.id, Member.display_name).where(Member.workspace_id == workspace_id))).all()
    )
    return [
        CustodyLine(c, name, names.get(c.owner_id, "?"), names.get(c.keeper_id, "?"))
        for c, name in rows
        if c.until is None or c.until > now
    ]
