"""The messages the bot owes about gestures, as rows (`GestureMessage`), delivered after commit.

A change and the message that reports it are written in one transaction (`enqueue`, `touch`). Whoever
delivers (the request that made the change, right after commit, or the scheduler ticker later) first `claim`s
the row with a conditional UPDATE that sets a short lease, so two replicas never send the same message, and a
crash between commit and send only delays it until the lease runs out. Channel messages (the card, the
outcome) are posted once and then updated in place: `want_version` counts changes, `sent_version` what the
channel shows.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import case, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import GestureMessage, GestureProposal, Workspace
from db.upsert import insert_or_ignore

LEASE = timedelta(seconds=60)
MAX_BACKOFF = timedelta(hours=1)

CARD = "card"
OUTCOME = "outcome"
OUTCOME_DM = "outcome-dm"
LEAD_CONFIRM = "lead-confirm"
ASSIGNED = "assigned"
REMINDER = "reminder-"  # + the assignee's local date, so at most one reminder per gesture per day


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
    values = {
        "proposal_id": proposal.id,
        "purpose": purpose,
        "target": target,
        "direct": direct,
        "platform": workspace.platform,
        "workspace": workspace.external_id,
        "want_version": 1,
        "sent_version": 0,
        "dirty": True,
        "attempts": 0,
        "created_at": now,
    }
    before = await session.scalar(
        select(GestureMessage.id).where(
            GestureMessage.proposal_id == proposal.id,
            GestureMessage.purpose == purpose,
            GestureMessage.target == target,
        )
    )
    if before is not None:
        return False
    await insert_or_ignore(session, GestureMessage, values, ["proposal_id", "purpose", "target"])
    return True


async def touch(session: AsyncSession, *, proposal_id: int, purposes: tuple[str, ...] = (CARD,)) -> None:
    """The proposal changed: the channel messages about it must be re-rendered and updated in place."""
    await session.execute(
        update(GestureMessage)
        .where(GestureMessage.proposal_id == proposal_id, GestureMessage.purpose.in_(purposes))
        .values(want_version=GestureMessage.want_version + 1, dirty=True)
        .execution_options(synchronize_session=False)
    )


async def undelivered(
    session: AsyncSession, *, now: datetime, proposal_id: int | None = None, limit: int = 200
) -> list[int]:
    """Rows out of date and not leased by anyone right now, oldest first."""
    query = select(GestureMessage.id).where(
        GestureMessage.dirty.is_(True),
        or_(GestureMessage.claimed_until.is_(None), GestureMessage.claimed_until <= now),
    )
    if proposal_id is not None:
        query = query.where(GestureMessage.proposal_id == proposal_id)
    return list((await session.execute(query.order_by(GestureMessage.id).limit(limit))).scalars())


async def claim(session: AsyncSession, *, message_id: int, now: datetime) -> GestureMessage | None:
    """Take the lease on one row; None when it is up to date or someone else holds it."""
    result = await session.execute(
        update(GestureMessage)
        .where(
            GestureMessage.id == message_id,
            GestureMessage.dirty.is_(True),
            or_(GestureMessage.claimed_until.is_(None), GestureMessage.claimed_until <= now),
        )
        .values(claimed_until=now + LEASE, attempts=GestureMessage.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return None
    return await session.get(GestureMessage, message_id, populate_existing=True)


async def record_sent(
    session: AsyncSession,
    *,
    message_id: int,
    version: int,
    platform_message_id: str,
    ref_channel_id: str,
    now: datetime,
) -> bool:
    """Note that `version` is what the platform shows now. Keeps the lease if a newer version is wanted (the
    sender goes round again) and releases it otherwise. Returns whether the row is still out of date."""
    newer = GestureMessage.want_version > version
    await session.execute(
        update(GestureMessage)
        .where(GestureMessage.id == message_id)
        .values(
            sent_version=version,
            message_id=platform_message_id,
            ref_channel_id=ref_channel_id,
            dirty=newer,
            claimed_until=case((newer, GestureMessage.claimed_until), else_=None),
            sent_at=now,
            attempts=0,
            last_error=None,
        )
        .execution_options(synchronize_session=False)
    )
    still = await session.scalar(select(GestureMessage.dirty).where(GestureMessage.id == message_id))
    return bool(still)


async def release(session: AsyncSession, *, message_id: int) -> None:
    """Give the lease back without sending (e.g. the sender's loop budget ran out); the ticker goes on."""
    await session.execute(
        update(GestureMessage)
        .where(GestureMessage.id == message_id)
        .values(claimed_until=None)
        .execution_options(synchronize_session=False)
    )


async def record_failure(
    session: AsyncSession,
    *,
    message_id: int,
    error: str,
    retry_after: float | None,
    permanent: bool,
    attempts: int,
    now: datetime,
) -> None:
    """A permanent failure stops trying (the error stays on the row); anything else retries after the
    platform's `retry_after`, or with a doubling back-off capped at an hour."""
    if permanent:
        values: dict[str, object] = {"dirty": False, "claimed_until": None, "last_error": error[:1000]}
    else:
        wait = (
            timedelta(seconds=retry_after)
            if retry_after
            else min(MAX_BACKOFF, timedelta(seconds=30 * 2 ** min(attempts, 10)))
        )
        values = {"claimed_until": now + wait, "last_error": error[:1000]}
    await session.execute(
        update(GestureMessage)
        .where(GestureMessage.id == message_id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )


async def messages_for(session: AsyncSession, *, proposal_id: int) -> list[GestureMessage]:
    return list(
        (
            await session.execute(
                select(GestureMessage).where(GestureMessage.proposal_id == proposal_id).order_by(GestureMessage.id)
            )
        ).scalars()
    )


def is_channel_purpose(purpose: str) -> bool:
    return purpose in (CARD, OUTCOME)


__all__ = [
    "ASSIGNED",
    "CARD",
    "LEAD_CONFIRM",
    "OUTCOME",
    "OUTCOME_DM",
    "REMINDER",
    "claim",
    "enqueue",
    "messages_for",
    "record_failure",
    "record_sent",
    "release",
    "touch",
    "undelivered",
]
