"""The outbox: one road for everything ownerbot says on its own (notices, nudges, digests, gesture cards).

1. `enqueue` writes a row in the caller's transaction, the one that makes the change the message reports: if
   that transaction rolls back, nothing is owed; if it commits, the message is owed for good. The idempotency
   `key` is unique, so a retried change owes it once.
2. `claim_due` (a short transaction of its own) takes due rows under a lease: status `sending`, `claimed_by`,
   `lease_until`. On PostgreSQL the rows are locked `FOR UPDATE SKIP LOCKED`, so several senders take disjoint
   rows; SQLite's `BEGIN IMMEDIATE` transactions serialize. An update in place (`replaces_id`) is due only once
   the message it edits was sent, so it has a platform message id to edit.
3. The sender sends outside any transaction, then `mark_sent` right after the platform answers (recording its
   message id), or `mark_retry` (back-off, or the platform's Retry-After), or `mark_failed` (for good). Each
   mark is fenced by `claimed_by` and status: a sender whose lease was taken over cannot overwrite the result.

The at-most-once-repeat window: a sender that dies after the platform accepted a message but before `mark_sent`
committed (one short UPDATE) leaves the row `sending`; once its lease (`LEASE`) runs out another sender sends it
again. That one message may then arrive twice (an update in place: the same edit twice); nothing is ever lost.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, and_, bindparam, exists, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from .models import OutboxMessage, OutboxStatus, Platform

OWED = "ownerbot.outbox.owed"
LEASE = timedelta(seconds=60)
FIRST_BACKOFF = timedelta(seconds=5)
MAX_BACKOFF = timedelta(hours=1)


@dataclass(frozen=True)
class Claimed:
    """A claimed row, detached from any session: what the sender needs to render and send it."""

    id: int
    key: str
    platform: Platform
    workspace: str
    direct: bool
    target: str
    purpose: str
    content: str | None
    render: str | None
    attempts: int
    tell_on_failure: tuple[str, ...]
    edits_message_id: str | None  # for an update in place: the message to edit, and its channel
    edits_channel: str | None


@functools.cache
def _owe(dialect: str) -> Any:
    """The outbox INSERT, built once per dialect (Core: the values come as parameters at execution)."""
    table = cast(Table, OutboxMessage.__table__)
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(table).on_conflict_do_nothing(index_elements=["key"]).returning(table.c.id)


async def enqueue(
    session: AsyncSession,
    *,
    key: str,
    platform: Platform,
    workspace: str,
    target: str,
    direct: bool,
    purpose: str,
    now: datetime,
    content: str | None = None,
    render: str | None = None,
    replaces_id: int | None = None,
    tell_on_failure: Iterable[str] = (),
    due_at: datetime | None = None,
) -> int | None:
    """Owe one message, in the caller's transaction. Returns the new row's id, or None when `key` was already
    owed (by this change retried, or by a concurrent one)."""
    if (content is None) == (render is None):
        raise ValueError("an outbox message has either content or something to render")
    values = {
        "key": key[:200],
        "platform": platform,
        "workspace": workspace,
        "direct": direct,
        "target": target,
        "purpose": purpose[:40],
        "content": content,
        "render": render,
        "replaces_id": replaces_id,
        "tell_on_failure": " ".join(dict.fromkeys(u for u in tell_on_failure if u and u != target)),
        "status": OutboxStatus.PENDING,
        "due_at": due_at or now,
        "attempts": 0,
        "created_at": now,
    }
    made = (await session.execute(_owe(session.get_bind().dialect.name), values)).scalar_one_or_none()
    if made is not None:
        session.info[OWED] = True  # the caller wakes the sender once this transaction commits
    return made


def owes_messages(session: AsyncSession) -> bool:
    """Whether this session's transaction wrote outbox rows (so the sender is worth waking after commit)."""
    return bool(session.info.pop(OWED, False))


async def owe_update(session: AsyncSession, *, key: str, now: datetime) -> int | None:
    """The thing the message `key` shows changed: owe an update in place of it, drawn again at send time (for a
    direct message, the new version is sent as a new DM after it, so its reader is notified).
    Nothing when the message itself has not gone out yet (it will be drawn fresh) or an update is already
    waiting (it will draw the latest state too). Returns the update's id when one was written."""
    original = await session.scalar(
        select(OutboxMessage)
        .where(OutboxMessage.key == key)
        .with_for_update()  # a sender claiming it right now finishes its claim first: we then see `sending`
        .execution_options(populate_existing=True)
    )
    if original is None or original.render is None:
        return None
    if original.status in (OutboxStatus.PENDING, OutboxStatus.FAILED, OutboxStatus.SKIPPED):
        return None
    # Locked, so a sender cannot claim (and draw) that waiting update before this change commits: its claim skips
    # the locked row until then, and this commit wakes the sender again.
    waiting = await session.scalar(
        select(OutboxMessage.id)
        .where(OutboxMessage.replaces_id == original.id, OutboxMessage.status == OutboxStatus.PENDING)
        .limit(1)
        .with_for_update()
    )
    if waiting is not None:
        return None
    made = await session.scalar(select(func.count()).where(OutboxMessage.replaces_id == original.id))
    return await enqueue(
        session,
        key=f"{key}:update:{(made or 0) + 1}",
        platform=original.platform,
        workspace=original.workspace,
        target=original.target,
        direct=original.direct,
        purpose=original.purpose,
        render=original.render,
        replaces_id=original.id,
        tell_on_failure=original.tell_on_failure.split(),
        now=now,
    )


def claimable(now: datetime):  # type: ignore[no-untyped-def]
    edited = aliased(OutboxMessage)
    return and_(
        or_(
            and_(OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.due_at <= now),
            and_(OutboxMessage.status == OutboxStatus.SENDING, OutboxMessage.lease_until <= now),
        ),
        or_(
            OutboxMessage.replaces_id.is_(None),
            exists().where(edited.id == OutboxMessage.replaces_id, edited.status == OutboxStatus.SENT),
        ),
    )


async def claim_due(
    session: AsyncSession, *, now: datetime, worker: str, limit: int = 100, lease: timedelta = LEASE
) -> list[Claimed]:
    """Take up to `limit` due rows under a lease, oldest first."""
    rows = list(
        (
            await session.execute(
                select(OutboxMessage)
                .where(claimable(now))
                .order_by(OutboxMessage.due_at, OutboxMessage.id)
                .limit(limit)
                .with_for_update(skip_locked=True, of=OutboxMessage)
                .execution_options(populate_existing=True)
            )
        ).scalars()
    )
    if not rows:
        return []
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_([r.id for r in rows]))
        .values(
            status=OutboxStatus.SENDING,
            claimed_by=worker,
            lease_until=now + lease,
            attempts=OutboxMessage.attempts + 1,
        )
        .execution_options(synchronize_session=False)
    )
    edited_ids = {r.replaces_id for r in rows if r.replaces_id is not None}
    edits: dict[int, tuple[str | None, str | None]] = {}
    if edited_ids:
        found = await session.execute(
            select(OutboxMessage.id, OutboxMessage.message_id, OutboxMessage.message_channel).where(
                OutboxMessage.id.in_(edited_ids)
            )
        )
        edits = {row_id: (message_id, channel) for row_id, message_id, channel in found.all()}
    return [
        Claimed(
            id=r.id,
            key=r.key,
            platform=r.platform,
            workspace=r.workspace,
            direct=r.direct,
            target=r.target,
            purpose=r.purpose,
            content=r.content,
            render=r.render,
            attempts=r.attempts + 1,
            tell_on_failure=tuple(r.tell_on_failure.split()),
            # a channel message is edited in place; a direct message's new version is a new DM (people hear it)
            edits_message_id=edits.get(r.replaces_id, (None, None))[0] if r.replaces_id and not r.direct else None,
            edits_channel=edits.get(r.replaces_id, (None, None))[1] if r.replaces_id and not r.direct else None,
        )
        for r in rows
    ]


def _held(message_id: int, worker: str):  # type: ignore[no-untyped-def]
    return and_(
        OutboxMessage.id == message_id,
        OutboxMessage.claimed_by == worker,
        OutboxMessage.status == OutboxStatus.SENDING,
    )


async def mark_sent(
    session: AsyncSession,
    *,
    message_id: int,
    worker: str,
    platform_message_id: str,
    channel: str,
    now: datetime,
) -> bool:
    """The platform took it: record where it lives. False when this worker no longer held the row."""
    result = await session.execute(
        update(OutboxMessage)
        .where(_held(message_id, worker))
        .values(
            status=OutboxStatus.SENT,
            sent_at=now,
            lease_until=None,
            last_error=None,
            message_id=platform_message_id[:256],
            message_channel=channel[:256],
        )
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined,no-any-return]


async def mark_sent_many(
    session: AsyncSession, *, worker: str, now: datetime, sent: list[tuple[int, str, str]]
) -> set[int]:
    """`mark_sent` for several rows at once (row id, platform message id, channel): one UPDATE executed for all,
    fenced the same way. Returns the ids this worker still held (now marked sent)."""
    if not sent:
        return set()
    table = OutboxMessage.__table__
    assert isinstance(table, Table)
    await session.execute(
        update(table)
        .where(
            table.c.id == bindparam("row_id"),
            table.c.claimed_by == worker,
            table.c.status == OutboxStatus.SENDING.value,
        )
        .values(
            status=OutboxStatus.SENT.value,
            sent_at=now,
            lease_until=None,
            last_error=None,
            message_id=bindparam("platform_id"),
            message_channel=bindparam("channel"),
        ),
        [{"row_id": i, "platform_id": m[:256], "channel": c[:256]} for i, m, c in sent],
    )
    ours = {i: m[:256] for i, m, _ in sent}
    found = await session.execute(
        select(OutboxMessage.id, OutboxMessage.message_id).where(
            OutboxMessage.id.in_(list(ours)),
            OutboxMessage.status == OutboxStatus.SENT,
            OutboxMessage.claimed_by == worker,
        )
    )
    return {i for i, message_id in found.all() if ours.get(i) == message_id}


def backoff(attempts: int, retry_after: float | None) -> timedelta:
    """The platform's Retry-After when it gave one, else 5 s doubling per attempt, at most an hour."""
    if retry_after:
        return timedelta(seconds=max(1.0, retry_after))
    doubled: timedelta = FIRST_BACKOFF * (2 ** min(max(attempts - 1, 0), 12))
    return min(MAX_BACKOFF, doubled)


async def mark_retry(
    session: AsyncSession, *, message_id: int, worker: str, now: datetime, wait: timedelta, error: str
) -> bool:
    """Not now: due again after `wait`."""
    result = await session.execute(
        update(OutboxMessage)
        .where(_held(message_id, worker))
        .values(
            status=OutboxStatus.PENDING,
            due_at=now + wait,
            claimed_by=None,
            lease_until=None,
            last_error=error[:1000],
        )
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined,no-any-return]


async def mark_failed(
    session: AsyncSession, *, message_id: int, worker: str, now: datetime, error: str, skipped: bool = False
) -> bool:
    """For good (`skipped`: there is nothing to say any more). Updates waiting to edit it are dropped too.
    Returns whether this worker still held the row (so the people to tell are told once)."""
    result = await session.execute(
        update(OutboxMessage)
        .where(_held(message_id, worker))
        .values(
            status=OutboxStatus.SKIPPED if skipped else OutboxStatus.FAILED,
            lease_until=None,
            last_error=error[:1000],
            sent_at=None,
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return False
    await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.replaces_id == message_id, OutboxMessage.status == OutboxStatus.PENDING)
        .values(status=OutboxStatus.SKIPPED, last_error="the message it updates never went out")
        .execution_options(synchronize_session=False)
    )
    return True


@dataclass(frozen=True)
class FailedDelivery:
    id: int
    platform: Platform
    workspace: str
    direct: bool
    target: str
    purpose: str
    error: str
    attempts: int
    created_at: datetime


async def failed_deliveries(
    session: AsyncSession, *, platform: Platform | None = None, workspace: str | None = None, limit: int = 50
) -> list[FailedDelivery]:
    """The messages no platform would take (in one workspace, or all), newest first: for the dashboard."""
    query = select(OutboxMessage).where(OutboxMessage.status == OutboxStatus.FAILED)
    if platform is not None:
        query = query.where(OutboxMessage.platform == platform)
    if workspace is not None:
        query = query.where(OutboxMessage.workspace == workspace)
    rows = await session.execute(query.order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc()).limit(limit))
    return [
        FailedDelivery(
            r.id, r.platform, r.workspace, r.direct, r.target, r.purpose, r.last_error or "", r.attempts, r.created_at
        )
        for r in rows.scalars()
    ]


async def counts(session: AsyncSession) -> dict[str, int]:
    rows = await session.execute(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status))
    return {status.value: count for status, count in rows.all()}


async def skip_workspace(session: AsyncSession, *, platform: Platform, workspace: str, why: str) -> int:
    """The app left a workspace (uninstalled, tokens revoked): its pending messages will never go out."""
    skipped = await session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.platform == platform,
            OutboxMessage.workspace == workspace,
            OutboxMessage.status == OutboxStatus.PENDING,
        )
        .values(status=OutboxStatus.SKIPPED, last_error=why)
    )
    return int(getattr(skipped, "rowcount", 0) or 0)
