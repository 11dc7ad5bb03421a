"""Propose a gesture for a customer: checked, costed against the month's budget, and announced as a card.

A proposal belongs to the customer's team, else to the proposer's team; only that team's members (and its lead)
vote. The team's `anonymous`, `hide_results` and `quorum` settings are copied onto the proposal, so changing a
setting never reveals the names on a running vote. The card is owed through `outbox` in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Customer, GestureProposal, GestureStatus, Member, Platform, Team
from ownership.errors import InvalidInput, NotFound
from ownership.numbers import parse_id

from . import outbox
from .amounts import format_amount
from .budget import budget_used, exceeds, settings_for

MIN_GESTURE = 3
MAX_GESTURE = 300
MAX_COST_CENTS = 1_000_000  # 10,000.00: "frugal"
DEFAULT_DEADLINE = timedelta(hours=24)
MIN_DEADLINE = timedelta(minutes=10)
MAX_DEADLINE = timedelta(days=14)


def clean_gesture(text: str) -> str:
    gesture = " ".join(text.split())
    if len(gesture) < MIN_GESTURE:
        raise InvalidInput("Describe the gesture, e.g. `wow acme handwritten thank-you card --cost 15`.")
    if len(gesture) > MAX_GESTURE:
        raise InvalidInput(f"That gesture is {len(gesture)} characters long; keep it under {MAX_GESTURE}.")
    return gesture


async def proposal_team(session: AsyncSession, *, actor: Member, customer: Customer) -> Team:
    team_id = customer.team_id or actor.team_id
    if team_id is None:
        raise InvalidInput(
            f"Neither {customer.name} nor you belong to a team, so nobody could vote. "
            "Ask an admin to add you: `team add <team> @you`."
        )
    team = await session.get(Team, team_id)
    assert team is not None
    return team


@dataclass(frozen=True)
class Proposed:
    proposal: GestureProposal
    team: Team
    over_budget: bool
    used_cents: int
    budget_cents: int | None


async def propose(
    session: AsyncSession,
    *,
    actor: Member,
    customer: Customer,
    gesture: str,
    cost_cents: int = 0,
    deadline_in: timedelta = DEFAULT_DEADLINE,
    platform: Platform,
    channel_id: str | None,
    now: datetime,
) -> Proposed:
    text = clean_gesture(gesture)
    if not 0 <= cost_cents <= MAX_COST_CENTS:
        raise InvalidInput(f"A gesture costs between 0 and {format_amount(MAX_COST_CENTS)}.")
    if not MIN_DEADLINE <= deadline_in <= MAX_DEADLINE:
        raise InvalidInput("Pick a deadline between 10 minutes and 14 days from now.")
    team = await proposal_team(session, actor=actor, customer=customer)
    channel = team.channel_id or channel_id
    if not channel:
        raise InvalidInput(f"Team {team.name} has no channel to vote in; an admin sets one with `team create`.")
    settings = await settings_for(session, team_id=team.id, now=now)
    used = await budget_used(session, team_id=team.id, now=now)
    over = exceeds(settings.monthly_budget_cents, used, cost_cents)
    proposal = GestureProposal(
        workspace_id=customer.workspace_id,
        team_id=team.id,
        customer_id=customer.id,
        proposer_id=actor.id,
        gesture=text,
        cost_cents=cost_cents,
        currency=settings.currency,
        status=GestureStatus.OPEN,
        anonymous=settings.anonymous,
        hide_results=settings.hide_results,
        quorum=settings.quorum,
        over_budget_when_proposed=over,
        platform=platform,
        channel_id=channel,
        created_at=now,
        deadline=now + deadline_in,
        yes_votes=0,
        no_votes=0,
    )
    session.add(proposal)
    await session.flush()
    await outbox.enqueue(session, proposal=proposal, purpose=outbox.CARD, target=channel, direct=False, now=now)
    return Proposed(proposal, team, over, used, settings.monthly_budget_cents)


def parse_proposal_id(text: str) -> int:
    return parse_id(
        text,
        invalid=f'"{text[:40]}" is not a gesture number; see `wow list`.',
        missing=f"There is no gesture #{text.strip()[:20].lstrip('#')}; see `wow list`.",
    )


async def get_proposal(
    session: AsyncSession, *, workspace_id: int, proposal_id: int, for_update: bool = False
) -> GestureProposal:
    query = select(GestureProposal).where(
        GestureProposal.id == proposal_id, GestureProposal.workspace_id == workspace_id
    )
    if for_update:
        query = query.with_for_update()
    found = (await session.execute(query.execution_options(populate_existing=True))).scalar_one_or_none()
    if found is None:
        raise NotFound(f"There is no gesture #{proposal_id}; see `wow list`.")
    return found
