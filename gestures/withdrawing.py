"""Withdraw a proposal while its vote runs: its proposer, or its team's lead. The vote stops (the card shows it
withdrawn, without buttons), nothing is spent from the budget, and whoever voted is told."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import GestureProposal, GestureStatus, GestureVote, Member, Team
from ownership.errors import Conflict, NotPermitted

from . import outbox
from .budget import leads_team
from .proposing import get_proposal


@dataclass(frozen=True)
class Withdrawn:
    proposal: GestureProposal
    voter_user_ids: list[str]  # platform user ids of everyone who had voted on it


async def withdraw_proposal(
    session: AsyncSession, *, actor: Member, workspace_id: int, proposal_id: int, now: datetime
) -> Withdrawn:
    proposal = await get_proposal(session, workspace_id=workspace_id, proposal_id=proposal_id, for_update=True)
    team = await session.get(Team, proposal.team_id)
    assert team is not None
    if actor.id != proposal.proposer_id and not leads_team(actor, team):
        raise NotPermitted(f"Only whoever proposed gesture #{proposal.id}, or {team.name}'s lead, can withdraw it.")
    if proposal.status != GestureStatus.OPEN or now >= proposal.deadline:
        raise Conflict(f"Voting on gesture #{proposal.id} has closed, so it can no longer be withdrawn.")
    result = await session.execute(
        update(GestureProposal)
        .where(GestureProposal.id == proposal.id, GestureProposal.status == GestureStatus.OPEN)
        .values(status=GestureStatus.WITHDRAWN, closed_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(f"Voting on gesture #{proposal.id} has closed, so it can no longer be withdrawn.")
    await session.refresh(proposal)
    await outbox.touch(session, proposal_id=proposal.id, now=now)  # the card in the channel shows it withdrawn
    voters = (
        await session.execute(
            select(Member.platform_user_id)
            .join(GestureVote, GestureVote.member_id == Member.id)
            .where(GestureVote.proposal_id == proposal.id)
            .order_by(Member.platform_user_id)
        )
    ).scalars()
    return Withdrawn(proposal, list(voters))
