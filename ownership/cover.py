"""Cover that returns: while a member is away, a colleague has custody of each of their customers
(ownership.custody explains custody); it ends when they are back."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Custody, CustodyKind, CustodyStatus, Customer, EventKind, Member, Platform

from .custody import (
    OPEN,
    end_custody,
    insert_custody,
    lead_for,
    open_custody,
    ownership_event,
    require_owner_lead_or_admin,
)
from .errors import Conflict, InvalidInput, NotFound
from .people import is_away


async def cover_for(session: AsyncSession, *, member: Member, now: datetime | None = None) -> Member | None:
    """Who covers an away member: the keeper of their covered customers, else their delegate, else their lead."""
    keeper_id = await session.scalar(
        select(Custody.keeper_id)
        .where(
            Custody.owner_id == member.id,
            Custody.kind == CustodyKind.AWAY_COVER,
            Custody.status == CustodyStatus.ACTIVE,
        )
        .limit(1)
    )
    if keeper_id is not None:
        return await session.get(Member, keeper_id)
    if member.delegate_id is not None:
        delegate = await session.get(Member, member.delegate_id)
        if delegate is not None and not is_away(delegate, now):
            return delegate
    return await lead_for(session, member=member)


@dataclass(frozen=True)
class Cover:
    keeper: Member
    covered: list[Customer]
    skipped: list[Customer]  # already in someone's custody (a step-out)


async def start_cover(
    session: AsyncSession,
    *,
    actor: Member,
    member: Member,
    cover: Member | None,
    until: datetime | None = None,
    platform: Platform,
    now: datetime,
) -> Cover:
    """Hand custody of an away member's customers to `cover` (or their delegate, or their lead) until they are
    back (or until `until`). Only the member themselves, a lead or an admin may."""
    require_owner_lead_or_admin(actor, member.id, f"arrange cover for {member.display_name}")
    if cover is not None and cover.id == member.id:
        raise InvalidInput("You can't cover yourself; name a colleague.")
    if cover is not None and cover.workspace_id != member.workspace_id:
        raise NotFound("That person is not in this workspace.")
    await end_cover(session, actor=actor, member=member, now=now, why="new cover arranged")
    keeper = cover or await cover_for(session, member=member, now=now)
    if keeper is None:
        raise Conflict("There is nobody to cover: no delegate, lead or admin. Name a colleague with `--cover @person`.")
    if is_away(keeper, now):
        raise Conflict(f"{keeper.display_name} is away too; name someone who is here.")
    customers = list(
        (
            await session.execute(select(Customer).where(Customer.owner_id == member.id).order_by(Customer.name_key))
        ).scalars()
    )
    covered, skipped = [], []
    why = f"{member.display_name} is away"
    for customer in customers:
        if await open_custody(session, customer.id) is not None:
            skipped.append(customer)
            continue
        custody = Custody(
            workspace_id=customer.workspace_id,
            customer_id=customer.id,
            kind=CustodyKind.AWAY_COVER,
            status=CustodyStatus.ACTIVE,
            owner_id=member.id,
            keeper_id=keeper.id,
            requested_by_id=actor.id,
            reason=why,
            platform=platform,
            requested_at=now,
            starts_at=now,
            until=until,
        )
        await insert_custody(session, custody, customer)
        session.add(ownership_event(custody, EventKind.COVER, actor=actor, reason=why, at=now))
        covered.append(customer)
    await session.flush()
    return Cover(keeper, covered, skipped)


async def end_cover(
    session: AsyncSession, *, actor: Member | None, member: Member, now: datetime, why: str | None = None
) -> int:
    """The member is back: every cover of their customers ends. Returns how many."""
    rows = list(
        (
            await session.execute(
                select(Custody).where(
                    Custody.owner_id == member.id,
                    Custody.kind == CustodyKind.AWAY_COVER,
                    Custody.status.in_(OPEN),
                )
            )
        ).scalars()
    )
    for custody in rows:
        await end_custody(session, custody, actor=actor, why=why or f"{member.display_name} is back", at=now)
    await session.flush()
    return len(rows)
