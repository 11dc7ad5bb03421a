"""Linking a channel to a customer: a shared Slack channel (Slack Connect) or a Teams channel belongs to at most one
customer; unlinking stops reading it and keeps its tickets. What the linked channel's messages do is in `requests`.
Keyword-only functions taking the session and `now`, writing in the caller's transaction."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Customer, CustomerChannel, Member, Platform, Workspace
from db.models.channels import DEFAULT_RESOLVE_EMOJI

from .errors import Conflict, InvalidInput, NotFound
from .people import require_lead

TEAMS_RESOLVE = "like"  # Teams tells bots its reactions by name: like, heart, laugh, surprised, sad, angry
EMOJI = re.compile(r"^:?([a-z0-9_+\-']{1,60}):?$")


def parse_emoji(raw: str) -> str:
    """`:white_check_mark:` or `white_check_mark` -> `white_check_mark` (Slack's reaction names)."""
    found = EMOJI.match(raw.strip().lower())
    if not found:
        raise InvalidInput(f'"{raw[:40]}" is not an emoji name. Use one like `:white_check_mark:` or `:tada:`.')
    return found.group(1)


@dataclass(frozen=True)
class LinkResult:
    link: CustomerChannel
    changed: bool  # False: it was already linked to this customer with these settings


async def channel_link(
    session: AsyncSession, *, workspace_id: int, channel_id: str, active: bool = True
) -> CustomerChannel | None:
    query = select(CustomerChannel).where(
        CustomerChannel.workspace_id == workspace_id, CustomerChannel.channel_id == channel_id
    )
    if active:
        query = query.where(CustomerChannel.unlinked_at.is_(None))
    return (await session.execute(query)).scalar_one_or_none()


async def link_channel(
    session: AsyncSession,
    *,
    actor: Member,
    customer: Customer,
    channel_id: str,
    platform: Platform,
    now: datetime,
    announce: bool | None = None,
    resolve_emoji: str | None = None,
) -> LinkResult:
    """Leads link a channel to one customer. A channel linked to another customer is refused (unlink it first)."""
    require_lead(actor, "link customer channels")
    if not channel_id:
        raise InvalidInput("Which channel? Name it (`#channel`) or run this in the channel itself.")
    link = await channel_link(session, workspace_id=customer.workspace_id, channel_id=channel_id, active=False)
    if link is not None and link.unlinked_at is None and link.customer_id != customer.id:
        other = await session.get(Customer, link.customer_id)
        raise Conflict(
            f"That channel already belongs to {other.name if other else 'another customer'}; "
            "a channel belongs to one customer. Unlink it first (`customer unlink`)."
        )
    if link is None:
        link = CustomerChannel(
            workspace_id=customer.workspace_id,
            platform=platform,
            channel_id=channel_id,
            customer_id=customer.id,
            linked_by_id=actor.id,
            linked_at=now,
            resolve_emoji=resolve_emoji or (DEFAULT_RESOLVE_EMOJI if platform == Platform.SLACK else TEAMS_RESOLVE),
            announce=True if announce is None else announce,
        )
        session.add(link)
        await session.flush()
        return LinkResult(link, True)
    before = (link.unlinked_at, link.customer_id, link.announce, link.resolve_emoji)
    if link.unlinked_at is not None or link.customer_id != customer.id:
        link.linked_at, link.linked_by_id = now, actor.id
    link.unlinked_at, link.customer_id = None, customer.id
    link.announce = link.announce if announce is None else announce
    link.resolve_emoji = resolve_emoji or link.resolve_emoji
    await session.flush()
    return LinkResult(link, before != (link.unlinked_at, link.customer_id, link.announce, link.resolve_emoji))


async def unlink_channel(
    session: AsyncSession, *, actor: Member, workspace_id: int, channel_id: str, now: datetime
) -> Customer:
    """Stop reading a channel; its tickets and their timelines stay. Returns the customer it belonged to."""
    require_lead(actor, "unlink customer channels")
    link = await channel_link(session, workspace_id=workspace_id, channel_id=channel_id)
    if link is None:
        raise NotFound("That channel is not linked to a customer. `customer channels` lists the linked ones.")
    link.unlinked_at = now
    customer = await session.get(Customer, link.customer_id)
    assert customer is not None
    await session.flush()
    return customer


async def linked_channels(session: AsyncSession, *, workspace_id: int) -> list[tuple[CustomerChannel, str]]:
    rows = await session.execute(
        select(CustomerChannel, Customer.name)
        .join(Customer, Customer.id == CustomerChannel.customer_id)
        .where(CustomerChannel.workspace_id == workspace_id, CustomerChannel.unlinked_at.is_(None))
        .order_by(Customer.name_key, CustomerChannel.channel_id)
    )
    return [(link, name) for link, name in rows.all()]


LINK = (  # built once: every command typed in a channel reads it
    select(Workspace, CustomerChannel)
    .join(CustomerChannel, CustomerChannel.workspace_id == Workspace.id)
    .where(
        Workspace.platform == bindparam("platform"),
        Workspace.external_id == bindparam("workspace"),
        CustomerChannel.channel_id == bindparam("channel_id"),
        CustomerChannel.unlinked_at.is_(None),
    )
)


async def link_of(
    session: AsyncSession, *, platform: Platform, workspace: str, channel_id: str
) -> tuple[Workspace, CustomerChannel] | None:
    """The workspace and the active link of a channel, or None: an unlinked channel is never read further."""
    row = (
        await session.execute(LINK, {"platform": platform, "workspace": workspace, "channel_id": channel_id})
    ).one_or_none()
    return (row[0], row[1]) if row is not None else None
