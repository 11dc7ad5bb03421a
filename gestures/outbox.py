"""The messages the bot owes about gestures, written to the one outbox (`db.outbox`) in the same transaction
as the change they report, and sent by its sender (`jobs.outbox_sender`).

Each message is drawn at send time from the proposal as it is then (`render` = "gesture:<id>:<purpose>"), so a
message that waits a while never shows stale counts. Channel messages (the card, the outcome) are posted once;
a later change owes an update in place of the posted message (`touch` -> `db.outbox.owe_update`), which edits
it through the platform message id the sender recorded. When a card can never be posted (the bot is not in the
channel, the channel is gone), the proposer and the team's lead are told once.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db import outbox
from db.models import GestureProposal, Member, OutboxMessage, Team, Workspace

CARD = "card"
OUTCOME = "outcome"
OUTCOME_DM = "outcome-dm"
LEAD_CONFIRM = "lead-confirm"
ASSIGNED = "assigned"
REMINDER = "reminder-"  # + the assignee's local date, so at most one reminder per gesture per day

RENDER_KIND = "gesture"  # what `jobs.outbox_sender` looks up to draw "gesture:<id>:<purpose>"


def outbox_purpose(purpose: str) -> str:
    return {CARD: "gesture-card", OUTCOME: "gesture-outcome"}.get(purpose, "gesture-dm")


def message_key(proposal_id: int, purpose: str, target: str) -> str:
    """The idempotency key: one message per (proposal, purpose, target)."""
    who = target if len(target) <= 120 else hashlib.sha256(target.encode()).hexdigest()
    return f"gesture:{proposal_id}:{purpose}:{who}"


def parse_render(render: str) -> tuple[int, str] | None:
    """ "gesture:12:card" -> (12, "card")."""
    kind, _, rest = render.partition(":")
    number, _, purpose = rest.partition(":")
    if kind != RENDER_KIND or not number.isdigit() or not purpose:
        return None
    return int(number), purpose


async def _user_id(session: AsyncSession, member_id: int | None) -> str | None:
    if member_id is None:
        return None
    return await session.scalar(select(Member.platform_user_id).where(Member.id == member_id))


async def people_to_tell(session: AsyncSession, proposal: GestureProposal) -> list[str]:
    """Who hears when a message about the proposal can never be delivered: its proposer and the team's lead."""
    team = await session.get(Team, proposal.team_id)
    found = [await _user_id(session, proposal.proposer_id), await _user_id(session, team.lead_id if team else None)]
    return [user for user in found if user]


async def enqueue(
    session: AsyncSession,
    *,
    proposal: GestureProposal,
    purpose: str,
    target: str,
    direct: bool,
    now: datetime,
) -> bool:
    """Owe a message once: a second enqueue of the same (proposal, purpose, target) does nothing.
    Returns whether this call created it."""
    workspace = await session.get(Workspace, proposal.workspace_id)
    assert workspace is not None
    made = await outbox.enqueue(
        session,
        key=message_key(proposal.id, purpose, target),
        platform=workspace.platform,
        workspace=workspace.external_id,
        target=target,
        direct=direct,
        purpose=outbox_purpose(purpose),
        render=f"{RENDER_KIND}:{proposal.id}:{purpose}",
        tell_on_failure=await people_to_tell(session, proposal),
        now=now,
    )
    return made is not None


async def touch(session: AsyncSession, *, proposal_id: int, now: datetime, purposes: tuple[str, ...] = (CARD,)) -> int:
    """The proposal changed: the messages about it with these purposes are drawn again and updated in place.
    Returns how many updates were owed (none for a message not sent yet: it will be drawn fresh)."""
    renders = [f"{RENDER_KIND}:{proposal_id}:{purpose}" for purpose in purposes]
    keys = (
        await session.execute(
            select(OutboxMessage.key)
            .where(OutboxMessage.render.in_(renders), OutboxMessage.replaces_id.is_(None))
            .order_by(OutboxMessage.id)
        )
    ).scalars()
    owed = 0
    for key in list(keys):
        if await outbox.owe_update(session, key=key, now=now) is not None:
            owed += 1
    return owed


async def messages_for(session: AsyncSession, *, proposal_id: int) -> list[OutboxMessage]:
    """Every outbox row about the proposal (first messages and their updates), oldest first."""
    prefix = f"{RENDER_KIND}:{proposal_id}:"
    rows = await session.execute(
        select(OutboxMessage).where(OutboxMessage.render.startswith(prefix)).order_by(OutboxMessage.id)
    )
    return list(rows.scalars())


def is_channel_purpose(purpose: str) -> bool:
    return purpose in (CARD, OUTCOME)


__all__ = [
    "ASSIGNED",
    "CARD",
    "LEAD_CONFIRM",
    "OUTCOME",
    "OUTCOME_DM",
    "REMINDER",
    "enqueue",
    "message_key",
    "messages_for",
    "parse_render",
    "people_to_tell",
    "touch",
]
