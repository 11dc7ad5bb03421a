"""The team's roster, through the Bot Connector: people the bot was never told about become known on demand.

When ownerbot is added to a team, Teams announces only the bot. So an @mention of a teammate who never wrote to
the bot is looked up with GET /v3/conversations/{id}/members/{id}, and a team install reads the whole team with
GET /v3/conversations/{teamId}/pagedmembers (the turn's botbuilder connector client). Whoever is found is stored
as a Teams member (their Bot Framework id, for mentions and a first DM) and as an ownerbot member, so a lead can
hand them a customer on day one. The people picker searches the same table (`search`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from botbuilder.core import BotAdapter, TurnContext
from botbuilder.schema import Activity, ChannelAccount
from botbuilder.schema.teams import TeamsChannelAccount
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Platform, TeamsMember
from ownership.people import member_on_sight, workspace_on_sight

from . import references
from .backoff import connector_status
from .translate import conversation_id_of, team_id_of, user_id_of

log = logging.getLogger(__name__)
PAGE_SIZE = 500  # the most the Bot Connector hands out per page
MAX_PAGES = 40  # a team of up to 20,000 people is read in one install; a bigger one is read up to that
SEARCH_RESULTS = 25


def looks_like_a_person(member_id: str) -> bool:
    """A Bot Framework user id (29:...) or an Entra object id; not a bot (28:...), a tag or a channel."""
    if member_id.startswith("29:"):
        return True
    parts = member_id.split("-")
    return [len(p) for p in parts] == [8, 4, 4, 4, 12] and all(c in "0123456789abcdefABCDEF" for c in "".join(parts))


def _connector(turn_context: TurnContext) -> Any:
    return turn_context.turn_state.get(BotAdapter.BOT_CONNECTOR_CLIENT_KEY)


async def look_up(turn_context: TurnContext, member_ids: Sequence[str]) -> list[ChannelAccount]:
    """The people among `member_ids` the Bot Connector knows in this conversation's team (or chat); someone it
    does not know (404) or a failed lookup is left out (the command then says it does not know them)."""
    connector = _connector(turn_context)
    if connector is None:
        return []
    where = team_id_of(turn_context.activity) or conversation_id_of(turn_context.activity)
    found: list[ChannelAccount] = []
    for member_id in dict.fromkeys(member_ids):
        if not looks_like_a_person(member_id):
            continue
        try:
            member = await connector.conversations.get_conversation_member(where, member_id)
            account = TeamsChannelAccount().deserialize({**member.serialize(), **member.additional_properties})
        except Exception as error:
            status = connector_status(error)
            if status != 404:
                log.warning("Teams roster lookup failed (HTTP %s, %s)", status, type(error).__name__)
            continue
        if account is not None and account.id:
            found.append(account)
    return found


async def read_team(turn_context: TurnContext) -> list[ChannelAccount]:
    """Everyone in the team this activity comes from, page by page; [] outside a team or when Teams refuses."""
    team_id = team_id_of(turn_context.activity)
    connector = _connector(turn_context)
    if not team_id or connector is None:
        return []
    people: list[ChannelAccount] = []
    token: str | None = None
    for _ in range(MAX_PAGES):
        try:
            page = await connector.conversations.get_teams_conversation_paged_members(team_id, PAGE_SIZE, token)
        except Exception as error:
            log.warning("could not read the team's roster (HTTP %s, %s)", connector_status(error), type(error).__name__)
            break
        people.extend(m for m in page.members or [] if m is not None and m.id)
        token = page.continuation_token
        if not token:
            break
    else:
        log.warning("the team's roster has more than %d pages; read the first %d", MAX_PAGES, MAX_PAGES)
    return people


async def meet(
    session: AsyncSession,
    *,
    tenant: str,
    accounts: Iterable[ChannelAccount],
    activity: Activity,
    admins: frozenset[str],
    now: datetime,
) -> dict[str, str]:
    """Store each person as a Teams member and as an ownerbot member (name from Teams); returns their Bot
    Framework id -> Entra id."""
    bot_id = activity.recipient.id if activity.recipient else None
    workspace = None
    resolved: dict[str, str] = {}
    for account in accounts:
        if not account.id or account.id == bot_id or account.id.startswith("28:"):
            continue
        await references.remember_member(session, tenant=tenant, account=account, activity=activity, now=now)
        if workspace is None:
            workspace = await workspace_on_sight(session, platform=Platform.TEAMS, external_id=tenant, now=now)
        user = user_id_of(account)
        await member_on_sight(
            session, workspace=workspace, platform_user_id=user, display_name=account.name or "", admins=admins, now=now
        )
        resolved[account.id] = user
    return resolved


async def meet_known(
    session: AsyncSession, *, tenant: str, users: Iterable[str], admins: frozenset[str], now: datetime
) -> None:
    """Make sure people the Teams tables know (by Entra id) are ownerbot members too, named as Teams names them."""
    wanted = list(dict.fromkeys(users))
    if not wanted:
        return
    rows = (
        await session.execute(
            select(TeamsMember).where(TeamsMember.tenant_id == tenant, TeamsMember.user_id.in_(wanted))
        )
    ).scalars()
    workspace = await workspace_on_sight(session, platform=Platform.TEAMS, external_id=tenant, now=now)
    for row in rows:
        await member_on_sight(
            session, workspace=workspace, platform_user_id=row.user_id, display_name=row.name, admins=admins, now=now
        )


async def search(session: AsyncSession, *, tenant: str, text: str, limit: int = SEARCH_RESULTS) -> list[TeamsMember]:
    """Teams members whose name contains `text` (any case), by name: what the people picker offers."""
    query = select(TeamsMember).where(TeamsMember.tenant_id == tenant)
    words = text.strip().lower()
    if words:
        query = query.where(func.lower(TeamsMember.name).contains(words, autoescape=True))
    return list((await session.execute(query.order_by(TeamsMember.name).limit(limit))).scalars())
