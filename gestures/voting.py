"""Vote on an open proposal (one vote per member, changeable until the deadline), count the votes, comment.

Votes are a unique-keyed upsert on (proposal, member) under a lock on the proposal row, so double clicks,
platform retries, two devices and two replicas resolve to one vote, and a vote never crosses the close.
The proposer's own vote is not implied: they vote like everyone else.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import GestureComment, GestureProposal, GestureStatus, GestureVote, Member, Platform, Team, VoteChoice
from ownership.errors import Conflict, InvalidInput, NotPermitted

from . import outbox
from .proposing import get_proposal

MAX_COMMENT = 280


@dataclass(frozen=True)
class VoteResult:
    proposal: GestureProposal
    choice: VoteChoice
    previous: VoteChoice | None

    @property
    def changed(self) -> bool:
        return self.previous != self.choice


async def may_vote(session: AsyncSession, *, actor: Member, proposal: GestureProposal) -> Team:
    team = await session.get(Team, proposal.team_id)
    assert team is not None
    if actor.team_id != team.id and team.lead_id != actor.id:
        raise NotPermitted(f"Only members of {team.name} vote on its gestures.")
    return team


async def cast_vote(
    session: AsyncSession,
    *,
    actor: Member,
    workspace_id: int,
    proposal_id: int,
    choice: VoteChoice,
    platform: Platform,
    now: datetime,
) -> VoteResult:
    """One vote per member, changeable until the deadline. The proposal row is locked while voting, so a
    vote and the close never cross; the (proposal, member) key makes repeats update, never add."""
    proposal = await get_proposal(session, workspace_id=workspace_id, proposal_id=proposal_id, for_update=True)
    if proposal.status != GestureStatus.OPEN or now >= proposal.deadline:
        raise Conflict(f"Voting on gesture #{proposal.id} has closed.")
    await may_vote(session, actor=actor, proposal=proposal)
    previous = await session.scalar(
        select(GestureVote.choice).where(GestureVote.proposal_id == proposal.id, GestureVote.member_id == actor.id)
    )
    if previous == choice:
        return VoteResult(proposal, choice, previous)
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(GestureVote).values(
        proposal_id=proposal.id, member_id=actor.id, choice=choice, platform=platform, voted_at=now, changed_at=now
    )
    statement = statement.on_conflict_do_update(
        index_elements=["proposal_id", "member_id"],
        set_={
            "choice": statement.excluded.choice,
            "platform": statement.excluded.platform,
            "changed_at": statement.excluded.changed_at,
        },
    )
    await session.execute(statement)
    await outbox.touch(session, proposal_id=proposal.id, now=now)
    return VoteResult(proposal, choice, previous)


@dataclass(frozen=True)
class Tally:
    yes: int
    no: int
    yes_names: list[str] = field(default_factory=list)  # empty when the vote is anonymous
    no_names: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.yes + self.no


async def tally(session: AsyncSession, *, proposal: GestureProposal) -> Tally:
    rows = (
        await session.execute(
            select(GestureVote.choice, Member.display_name)
            .join(Member, Member.id == GestureVote.member_id)
            .where(GestureVote.proposal_id == proposal.id)
            .order_by(GestureVote.voted_at, GestureVote.id)
        )
    ).all()
    yes = [name for choice, name in rows if choice == VoteChoice.YES]
    no = [name for choice, name in rows if choice == VoteChoice.NO]
    if proposal.anonymous:
        return Tally(len(yes), len(no))
    return Tally(len(yes), len(no), yes, no)


async def add_comment(
    session: AsyncSession,
    *,
    actor: Member,
    workspace_id: int,
    proposal_id: int,
    body: str | None,
    platform: Platform,
    now: datetime,
) -> GestureComment:
    proposal = await get_proposal(session, workspace_id=workspace_id, proposal_id=proposal_id)
    text = " ".join((body or "").split())
    if not text:
        raise InvalidInput("Write a short comment, e.g. `wow comment 12 they loved the last one`.")
    if len(text) > MAX_COMMENT:
        raise InvalidInput(f"That comment is {len(text)} characters long; keep it under {MAX_COMMENT}.")
    await may_vote(session, actor=actor, proposal=proposal)
    comment = GestureComment(proposal_id=proposal.id, member_id=actor.id, body=text, platform=platform, at=now)
    session.add(comment)
    await session.flush()
    await outbox.touch(session, proposal_id=proposal.id, now=now)
    return comment
