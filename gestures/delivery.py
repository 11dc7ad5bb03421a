"""After approval: assign the gesture, mark it delivered, remind the assignee, and what still waits for delivery.

A reminder is owed once per local day during the assignee's working hours, starting a day after approval.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Customer, GestureProposal, GestureStatus, Member, Team
from ownership.errors import Conflict, NotFound, NotPermitted

from . import outbox
from .budget import leads_team
from .proposing import get_proposal

REMIND_AFTER = timedelta(days=1)  # the first delivery reminder, then at most one a day


async def mark_delivered(
    session: AsyncSession, *, actor: Member, workspace_id: int, proposal_id: int, now: datetime
) -> GestureProposal:
    proposal = await get_proposal(session, workspace_id=workspace_id, proposal_id=proposal_id)
    if proposal.status == GestureStatus.DELIVERED:
        raise Conflict(f"Gesture #{proposal.id} was already marked delivered.")
    if proposal.status != GestureStatus.APPROVED:
        raise Conflict(f"Gesture #{proposal.id} is {proposal.status.value}, not approved, so it can't be delivered.")
    team = await session.get(Team, proposal.team_id)
    customer = await session.get(Customer, proposal.customer_id)
    assert team is not None and customer is not None
    if actor.id not in (proposal.assignee_id, proposal.proposer_id, customer.owner_id) and not leads_team(actor, team):
        raise NotPermitted(f"Only the assignee, the proposer, {customer.name}'s owner or a lead can mark it delivered.")
    result = await session.execute(
        update(GestureProposal)
        .where(GestureProposal.id == proposal.id, GestureProposal.status == GestureStatus.APPROVED)
        .values(status=GestureStatus.DELIVERED, delivered_at=now, delivered_by_id=actor.id)
        .execution_options(synchronize_session=False)
    )
    await session.refresh(proposal)
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(f"Gesture #{proposal.id} was already marked delivered.")
    await outbox.touch(session, proposal_id=proposal.id, now=now)
    return proposal


async def assign(
    session: AsyncSession, *, actor: Member, workspace_id: int, proposal_id: int, to: Member, now: datetime
) -> GestureProposal:
    proposal = await get_proposal(session, workspace_id=workspace_id, proposal_id=proposal_id, for_update=True)
    if proposal.status not in (GestureStatus.APPROVED, GestureStatus.AWAITING_LEAD):
        raise Conflict(f"Gesture #{proposal.id} is {proposal.status.value}; only approved gestures get an assignee.")
    team = await session.get(Team, proposal.team_id)
    assert team is not None
    if actor.id not in (proposal.assignee_id, proposal.proposer_id) and not leads_team(actor, team):
        raise NotPermitted("Only the assignee, the proposer or a lead can hand a gesture to someone else.")
    if to.workspace_id != proposal.workspace_id:
        raise NotFound("That person is not in this workspace.")
    if to.id == proposal.assignee_id:
        return proposal
    proposal.assignee_id = to.id
    await session.flush()
    await outbox.touch(session, proposal_id=proposal.id, now=now)
    await outbox.enqueue(
        session, proposal=proposal, purpose=outbox.ASSIGNED, target=to.platform_user_id, direct=True, now=now
    )
    return proposal


def at_work(member: Member, now: datetime) -> bool:
    """Inside the member's working hours on a working day, in their time zone."""
    try:
        zone = ZoneInfo(member.time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    local = now.astimezone(zone)
    if member.away or str(local.isoweekday()) not in member.work_days:
        return False
    try:
        start, end = time.fromisoformat(member.work_start), time.fromisoformat(member.work_end)
    except ValueError:
        return True
    return start <= local.time() < end


async def enqueue_delivery_reminders(session: AsyncSession, *, now: datetime) -> int:
    """Owe each assignee of an approved, undelivered gesture (approved a day ago or more) one reminder per
    local day, during their working hours. The (proposal, reminder-<date>, user) key makes it once a day."""
    rows = (
        await session.execute(
            select(GestureProposal, Member)
            .join(Member, Member.id == GestureProposal.assignee_id)
            .where(GestureProposal.status == GestureStatus.APPROVED, GestureProposal.approved_at <= now - REMIND_AFTER)
            .order_by(GestureProposal.id)
        )
    ).all()
    created = 0
    for proposal, member in rows:
        if not at_work(member, now):
            continue
        try:
            local_day = now.astimezone(ZoneInfo(member.time_zone)).date()
        except (ZoneInfoNotFoundError, ValueError):
            local_day = now.date()
        if await outbox.enqueue(
            session,
            proposal=proposal,
            purpose=f"{outbox.REMINDER}{local_day.isoformat()}",
            target=member.platform_user_id,
            direct=True,
            now=now,
        ):
            created += 1
    return created


@dataclass(frozen=True)
class PendingDelivery:
    proposal_id: int
    team_id: int
    customer_name: str
    gesture: str
    cost_cents: int
    currency: str
    approved_at: datetime
    assignee_id: int | None
    assignee_name: str | None
    assignee_user_id: str | None


async def pending_deliveries(
    session: AsyncSession,
    *,
    workspace_id: int | None = None,
    team_id: int | None = None,
    assignee_id: int | None = None,
) -> list[PendingDelivery]:
    """Approved gestures not yet delivered: for someone's nudges (`assignee_id`) or a lead's digest (`team_id`)."""
    query = (
        select(GestureProposal, Customer.name, Member.display_name, Member.platform_user_id)
        .join(Customer, Customer.id == GestureProposal.customer_id)
        .outerjoin(Member, Member.id == GestureProposal.assignee_id)
        .where(GestureProposal.status == GestureStatus.APPROVED)
        .order_by(GestureProposal.approved_at, GestureProposal.id)
    )
    if workspace_id is not None:
        query = query.where(GestureProposal.workspace_id == workspace_id)
    if team_id is not None:
        query = query.where(GestureProposal.team_id == team_id)
    if assignee_id is not None:
        query = query.where(GestureProposal.assignee_id == assignee_id)
    return [
        PendingDelivery(
            p.id,
            p.team_id,
            customer,
            p.gesture,
            p.cost_cents,
            p.currency,
            p.approved_at or p.closed_at or p.created_at,
            p.assignee_id,
            name,
            user_id,
        )
        for p, customer, name, user_id in (await session.execute(query)).all()
    ]
