"""Slack people on first sight: display name and time zone from users.info, only for people we don't know yet.

Known members are read from our tables (no in-memory cache, so every replica agrees); only someone new costs
a users.info call. Mentioned people (`<@U123|sam>`) are introduced the same way, so a handoff can name a
colleague who never talked to ownerbot.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime

from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.engine import READ_ONLY
from db.models import Member, Platform, Workspace
from ownership.people import member_on_sight, workspace_on_sight

log = logging.getLogger(__name__)
MENTION = re.compile(r"<@([UW][A-Z0-9_]+)(?:\|[^>]*)?>")


@dataclass(frozen=True)
class Profile:
    name: str
    time_zone: str | None
    known: bool = False  # read from our tables: they are a member already


async def known_profile(sessions: async_sessionmaker[AsyncSession], *, team_id: str, user_id: str) -> Profile | None:
    async with sessions() as session:
        await session.connection(execution_options=READ_ONLY)  # SQLite: a plain BEGIN, never waits for writers
        row = (
            await session.execute(
                select(Member.display_name, Member.time_zone)
                .join(Workspace, Workspace.id == Member.workspace_id)
                .where(
                    Workspace.platform == Platform.SLACK,
                    Workspace.external_id == team_id,
                    Member.platform_user_id == user_id,
                )
            )
        ).first()
    return Profile(row[0], row[1], known=True) if row else None


async def slack_profile(client: AsyncWebClient, user_id: str, *, team_id: str) -> Profile | None:
    """users.info, or None for bots, deactivated people, other organisations, or when Slack won't say."""
    try:
        found = await client.users_info(user=user_id)
    except Exception as error:  # the name is a nicety: fall back to what the payload says
        log.warning("users.info %s failed: %s", user_id, error)
        return None
    user = found.get("user") or {}
    if user.get("is_bot") or user.get("deleted"):
        return None
    if user.get("team_id") and user.get("team_id") != team_id and not user.get("enterprise_user"):
        return None
    profile = user.get("profile") or {}
    name = (
        profile.get("display_name") or profile.get("real_name") or user.get("real_name") or user.get("name") or user_id
    )
    return Profile(str(name)[:200], user.get("tz"))


async def introduce_mentioned(
    sessions: async_sessionmaker[AsyncSession],
    client: AsyncWebClient,
    *,
    team_id: str,
    text: str,
    now: datetime,
    admins: frozenset[str],
    known: set[tuple[str, str]] | None = None,
) -> None:
    """Create members for people mentioned in a command who never used ownerbot (at most 5 per command).
    `known`: (team, user) of people known to be members already (nothing to read for them); those found or
    created here are added to it."""
    known = known if known is not None else set()
    for user_id in list(dict.fromkeys(MENTION.findall(text)))[:5]:
        if (team_id, user_id) in known:
            continue
        if await known_profile(sessions, team_id=team_id, user_id=user_id) is not None:
            known.add((team_id, user_id))
            continue
        profile = await slack_profile(client, user_id, team_id=team_id)
        if profile is None:
            continue
        async with sessions() as session, session.begin():
            workspace = await workspace_on_sight(session, platform=Platform.SLACK, external_id=team_id, now=now)
            await member_on_sight(
                session,
                workspace=workspace,
                platform_user_id=user_id,
                display_name=profile.name,
                time_zone=profile.time_zone,
                admins=admins,
                now=now,
            )
        known.add((team_id, user_id))


async def refresh_known(
    sessions: async_sessionmaker[AsyncSession], *, team_id: str, user: dict[str, object], now: datetime
) -> bool:
    """A `user_change` event: keep a known member's name and time zone current; strangers stay strangers."""
    user_id = str(user.get("id", ""))
    if not user_id or await known_profile(sessions, team_id=team_id, user_id=user_id) is None:
        return False
    profile = user.get("profile")
    if not isinstance(profile, dict):
        profile = {}
    name = (
        profile.get("display_name") or profile.get("real_name") or user.get("real_name") or user.get("name") or user_id
    )
    tz = user.get("tz")
    async with sessions() as session, session.begin():
        workspace = await workspace_on_sight(session, platform=Platform.SLACK, external_id=team_id, now=now)
        await member_on_sight(
            session,
            workspace=workspace,
            platform_user_id=user_id,
            display_name=str(name)[:200],
            time_zone=str(tz) if tz else None,
            now=now,
        )
    return True
