"""What cards, lists and digests show about gestures: one proposal, a list, a customer's history, a team's month."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Customer, GestureComment, GestureProposal, GestureStatus, Member, Team
from ownership.errors import NotFound

from .budget import budget_used, exceeds, settings_for
from .delivery import PendingDelivery, pending_deliveries
from .voting import Tally, tally


@dataclass(frozen=True)
class ProposalView:
    """Everything a card or a message about one proposal shows."""

    proposal: GestureProposal
    customer_name: str
    team_name: str
    proposer_name: str
    assignee_name: str | None
    assignee_user_id: str | None
    decided_by_name: str | None
    delivered_by_name: str | None
    tally: Tally
    comments: list[tuple[str, str]]
    budget_cents: int | None
    used_cents: int

    @property
    def over_budget(self) -> bool:
        if self.proposal.status == GestureStatus.AWAITING_LEAD:
            return True
        if self.proposal.status == GestureStatus.OPEN:
            return exceeds(self.budget_cents, self.used_cents, self.proposal.cost_cents)
        return False


async def display_name(session: AsyncSession, member_id: int | None) -> str | None:
    if member_id is None:
        return None
    return await session.scalar(select(Member.display_name).where(Member.id == member_id))


async def platform_user_id(session: AsyncSession, member_id: int | None) -> str | None:
    if member_id is None:
        return None
    return await session.scalar(select(Member.platform_user_id).where(Member.id == member_id))


async def view_proposal(session: AsyncSession, *, proposal_id: int, now: datetime, comments: int = 3) -> ProposalView:
    proposal = await session.get(GestureProposal, proposal_id, populate_existing=True)
    if proposal is None:
        raise NotFound(f"There is no gesture #{proposal_id}.")
    customer = await session.get(Customer, proposal.customer_id)
    team = await session.get(Team, proposal.team_id)
    assert customer is not None and team is not None
    settings = await settings_for(session, team_id=team.id, now=now)
    recent = (
        await session.execute(
            select(Member.display_name, GestureComment.body)
            .join(Member, Member.id == GestureComment.member_id)
            .where(GestureComment.proposal_id == proposal.id)
            .order_by(GestureComment.at.desc(), GestureComment.id.desc())
            .limit(comments)
        )
    ).all()
    return ProposalView(
        proposal=proposal,
        customer_name=customer.name,
        team_name=team.name,
        proposer_name=await display_name(session, proposal.proposer_id) or "someone",
        assignee_name=await display_name(session, proposal.assignee_id),
        assignee_user_id=await platform_user_id(session, proposal.assignee_id),
        decided_by_name=await display_name(session, proposal.decided_by_id),
        delivered_by_name=await display_name(session, proposal.delivered_by_id),
        tally=await tally(session, proposal=proposal),
        comments=[(name, body) for name, body in reversed(recent)],
        budget_cents=settings.monthly_budget_cents,
        used_cents=await budget_used(session, team_id=team.id, now=now),
    )


@dataclass(frozen=True)
class GestureLine:
    proposal: GestureProposal
    customer_name: str
    assignee_name: str | None


async def list_gestures(
    session: AsyncSession, *, workspace_id: int, team_id: int | None, statuses: tuple[GestureStatus, ...]
) -> list[GestureLine]:
    assignee = Member
    query = (
        select(GestureProposal, Customer.name, assignee.display_name)
        .join(Customer, Customer.id == GestureProposal.customer_id)
        .outerjoin(assignee, assignee.id == GestureProposal.assignee_id)
        .where(GestureProposal.workspace_id == workspace_id, GestureProposal.status.in_(statuses))
        .order_by(GestureProposal.id)
    )
    if team_id is not None:
        query = query.where(GestureProposal.team_id == team_id)
    return [GestureLine(p, c, a) for p, c, a in (await session.execute(query)).all()]


async def customer_gestures(session: AsyncSession, *, customer: Customer, limit: int = 50) -> list[GestureLine]:
    rows = await session.execute(
        select(GestureProposal, Member.display_name)
        .outerjoin(Member, Member.id == GestureProposal.assignee_id)
        .where(GestureProposal.customer_id == customer.id)
        .order_by(GestureProposal.created_at.desc(), GestureProposal.id.desc())
        .limit(limit)
    )
    return [GestureLine(p, customer.name, a) for p, a in rows.all()]


@dataclass(frozen=True)
class GestureDigest:
    """For the leads' digest: the month's budget, what was spent, and what still waits for delivery."""

    team_id: int
    team_name: str
    currency: str
    budget_cents: int | None
    used_cents: int
    open_proposals: int
    awaiting_lead: list[int]
    pending: list[PendingDelivery]

    @property
    def remaining_cents(self) -> int | None:
        return None if self.budget_cents is None else self.budget_cents - self.used_cents


async def gesture_digest(session: AsyncSession, *, team_id: int, now: datetime) -> GestureDigest:
    team = await session.get(Team, team_id)
    if team is None:
        raise NotFound("That team no longer exists.")
    settings = await settings_for(session, team_id=team_id, now=now)
    open_count = await session.scalar(
        select(func.count())
        .select_from(GestureProposal)
        .where(GestureProposal.team_id == team_id, GestureProposal.status == GestureStatus.OPEN)
    )
    awaiting = list(
        (
            await session.execute(
                select(GestureProposal.id)
                .where(GestureProposal.team_id == team_id, GestureProposal.status == GestureStatus.AWAITING_LEAD)
                .order_by(GestureProposal.id)
            )
        ).scalars()
    )
    return GestureDigest(
        team_id=team_id,
        team_name=team.name,
        currency=settings.currency,
        budget_cents=settings.monthly_budget_cents,
        used_cents=await budget_used(session, team_id=team_id, now=now),
        open_proposals=int(open_count or 0),
        awaiting_lead=awaiting,
        pending=await pending_deliveries(session, team_id=team_id),
    )
