"""Close proposals at their deadline, and a lead's decision on an approval that would exceed the budget.

Quorum = votes cast (yes + no); approved needs more yes than no (a tie is rejected). Closing is a conditional
UPDATE (`... WHERE status = 'open'`) under `FOR UPDATE SKIP LOCKED`, so exactly one closer (of two replicas,
or a retry after a restart) writes the outcome and owes its messages (see `outbox`).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Customer, GestureProposal, GestureStatus, Member, Team
from ownership.errors import Conflict

from . import outbox
from .budget import budget_used, exceeds, require_team_lead, settings_for
from .proposing import get_proposal
from .views import platform_user_id
from .voting import tally

CLOSED = (
    GestureStatus.APPROVED,
    GestureStatus.DELIVERED,
    GestureStatus.REJECTED,
    GestureStatus.NO_QUORUM,
    GestureStatus.DECLINED,
    GestureStatus.AWAITING_LEAD,
    GestureStatus.WITHDRAWN,
)


async def due_proposals(session: AsyncSession, *, now: datetime, limit: int = 100) -> list[int]:
    return list(
        (
            await session.execute(
                select(GestureProposal.id)
                .where(GestureProposal.status == GestureStatus.OPEN, GestureProposal.deadline <= now)
                .order_by(GestureProposal.deadline)
                .limit(limit)
            )
        ).scalars()
    )


def outcome(yes: int, no: int, quorum: int) -> GestureStatus:
    if yes + no < quorum:
        return GestureStatus.NO_QUORUM
    return GestureStatus.APPROVED if yes > no else GestureStatus.REJECTED


async def close_proposal(session: AsyncSession, *, proposal_id: int, now: datetime) -> GestureProposal | None:
    """Close one proposal whose deadline has passed. Exactly one caller gets it back; everyone else (a second
    replica, a retry after a restart) gets None and writes nothing."""
    query = (
        select(GestureProposal)
        .where(
            GestureProposal.id == proposal_id,
            GestureProposal.status == GestureStatus.OPEN,
            GestureProposal.deadline <= now,
        )
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    )
    proposal = (await session.execute(query)).scalar_one_or_none()
    if proposal is None:
        return None
    counts = await tally(session, proposal=proposal)
    status = outcome(counts.yes, counts.no, proposal.quorum)
    values: dict[str, object] = {"status": status, "closed_at": now, "yes_votes": counts.yes, "no_votes": counts.no}
    customer = await session.get(Customer, proposal.customer_id)
    assert customer is not None
    if status == GestureStatus.APPROVED:
        settings = await settings_for(session, team_id=proposal.team_id, now=now)
        used = await budget_used(session, team_id=proposal.team_id, now=now)
        values["assignee_id"] = customer.owner_id or proposal.proposer_id
        if exceeds(settings.monthly_budget_cents, used, proposal.cost_cents):
            values["status"] = GestureStatus.AWAITING_LEAD
        else:
            values["approved_at"] = now
    result = await session.execute(
        update(GestureProposal)
        .where(GestureProposal.id == proposal.id, GestureProposal.status == GestureStatus.OPEN)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return None
    await session.refresh(proposal)
    await outbox.touch(session, proposal_id=proposal.id, now=now)
    await outbox.enqueue(
        session, proposal=proposal, purpose=outbox.OUTCOME, target=proposal.channel_id, direct=False, now=now
    )
    told = {await platform_user_id(session, proposal.proposer_id), await platform_user_id(session, customer.owner_id)}
    for user_id in sorted(uid for uid in told if uid):
        await outbox.enqueue(
            session, proposal=proposal, purpose=outbox.OUTCOME_DM, target=user_id, direct=True, now=now
        )
    if proposal.status == GestureStatus.AWAITING_LEAD:
        team = await session.get(Team, proposal.team_id)
        lead_user = await platform_user_id(session, team.lead_id if team else None)
        if lead_user:
            await outbox.enqueue(
                session, proposal=proposal, purpose=outbox.LEAD_CONFIRM, target=lead_user, direct=True, now=now
            )
    return proposal


async def decide_over_budget(
    session: AsyncSession, *, actor: Member, workspace_id: int, proposal_id: int, confirm: bool, now: datetime
) -> GestureProposal:
    """A lead confirms (it is approved and counts against this month's budget) or declines an approval that
    would exceed the budget. Only one decision wins."""
    proposal = await get_proposal(session, workspace_id=workspace_id, proposal_id=proposal_id)
    team = await session.get(Team, proposal.team_id)
    assert team is not None
    require_team_lead(actor, team, "confirm gestures over its budget")
    values: dict[str, object] = {"decided_by_id": actor.id}
    if confirm:
        values |= {"status": GestureStatus.APPROVED, "approved_at": now}
    else:
        values |= {"status": GestureStatus.DECLINED}
    result = await session.execute(
        update(GestureProposal)
        .where(GestureProposal.id == proposal.id, GestureProposal.status == GestureStatus.AWAITING_LEAD)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    await session.refresh(proposal)
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(f"Gesture #{proposal.id} is not waiting for a lead; it is {proposal.status.value}.")
    # The proposer and the owner were told it waits for a lead: tell them what became of it.
    await outbox.touch(
        session, proposal_id=proposal.id, now=now, purposes=(outbox.CARD, outbox.OUTCOME, outbox.OUTCOME_DM)
    )
    return proposal
