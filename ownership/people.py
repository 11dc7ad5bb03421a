"""Workspaces, members, roles and teams."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Member, Platform, Role, Team, Workspace
from db.upsert import insert_or_ignore

from .errors import Conflict, InvalidInput, MemberNotFound, NotPermitted
from .text import invisible_in, storable

MENTION = re.compile(r"^<@([A-Za-z0-9:_\-.]+)(?:\|([^>]*))?>$")
MAX_NAME = 100
# Built once: a statement made anew for every command costs more CPU than SQLite takes to run it.
CALLER = (
    select(Workspace, Member)
    .join(Member, (Member.workspace_id == Workspace.id) & (Member.platform_user_id == bindparam("user_id")))
    .where(Workspace.platform == bindparam("platform"), Workspace.external_id == bindparam("external_id"))
)


async def workspace_on_sight(
    session: AsyncSession, *, platform: Platform, external_id: str, name: str = "", now: datetime
) -> Workspace:
    external_id, name = storable(external_id), storable(name)  # whatever face called: never NUL or a lone surrogate
    query = select(Workspace).where(Workspace.platform == platform, Workspace.external_id == external_id)
    known = (await session.execute(query)).scalar_one_or_none()
    if known is not None:  # the usual case: a read, no write
        return known
    values = {"platform": platform, "external_id": external_id, "name": name, "created_at": now}
    await insert_or_ignore(session, Workspace, values, ["platform", "external_id"])
    return (await session.execute(query)).scalar_one()


async def member_on_sight(
    session: AsyncSession,
    *,
    workspace: Workspace,
    platform_user_id: str,
    display_name: str,
    time_zone: str | None = None,
    admins: frozenset[str] = frozenset(),
    now: datetime,
) -> Member:
    """Get or create the member; keep their name and time zone fresh; promote configured admins."""
    platform_user_id, display_name = storable(platform_user_id), storable(display_name)
    values = {
        "workspace_id": workspace.id,
        "platform_user_id": platform_user_id,
        "display_name": display_name or platform_user_id,
        "role": Role.ADMIN if platform_user_id in admins else Role.AGENT,
        "time_zone": time_zone if time_zone and valid_time_zone(time_zone) else "UTC",
        "work_start": "09:00",
        "work_end": "17:00",
        "work_days": "12345",
        "away": False,
        "created_at": now,
    }
    query = select(Member).where(Member.workspace_id == workspace.id, Member.platform_user_id == platform_user_id)
    member = (await session.execute(query)).scalar_one_or_none()
    if member is None:  # a stranger: insert (a concurrent first sight may win), then read whoever won
        await insert_or_ignore(session, Member, values, ["workspace_id", "platform_user_id"])
        member = (await session.execute(query)).scalar_one()
    return _refreshed(member, display_name=display_name, time_zone=time_zone, admins=admins)


def _refreshed(member: Member, *, display_name: str, time_zone: str | None, admins: frozenset[str]) -> Member:
    if display_name and member.display_name != display_name:
        member.display_name = display_name
    if time_zone and valid_time_zone(time_zone) and member.time_zone != time_zone:
        member.time_zone = time_zone
    if member.platform_user_id in admins and member.role != Role.ADMIN:
        member.role = Role.ADMIN
    return member


async def caller_on_sight(
    session: AsyncSession,
    *,
    platform: Platform,
    workspace_id: str,
    workspace_name: str = "",
    platform_user_id: str,
    display_name: str,
    time_zone: str | None = None,
    admins: frozenset[str] = frozenset(),
    now: datetime,
) -> tuple[Workspace, Member]:
    """`workspace_on_sight` and `member_on_sight` together: for someone known (the usual case) one SELECT."""
    external_id, user_id = storable(workspace_id), storable(platform_user_id)
    found = (
        await session.execute(CALLER, {"platform": platform, "external_id": external_id, "user_id": user_id})
    ).first()
    if found is not None:
        workspace, member = found
        return workspace, _refreshed(member, display_name=storable(display_name), time_zone=time_zone, admins=admins)
    workspace = await workspace_on_sight(
        session, platform=platform, external_id=external_id, name=workspace_name, now=now
    )
    member = await member_on_sight(
        session,
        workspace=workspace,
        platform_user_id=user_id,
        display_name=display_name,
        time_zone=time_zone,
        admins=admins,
        now=now,
    )
    return workspace, member


def valid_time_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


async def find_member(session: AsyncSession, *, workspace_id: int, ref: str) -> Member:
    """A member by mention (`<@U123>` or `<@U123|sam>`), platform id, or display name (`@sam`, `sam`)."""
    ref = ref.strip()
    match = MENTION.match(ref)
    candidates = [match.group(1)] if match else [ref.lstrip("@")]
    key = candidates[0]
    found = (
        await session.execute(select(Member).where(Member.workspace_id == workspace_id, Member.platform_user_id == key))
    ).scalar_one_or_none()
    if found:
        return found
    by_name = (
        (
            await session.execute(
                select(Member).where(
                    Member.workspace_id == workspace_id, func.lower(Member.display_name) == key.lower()
                )
            )
        )
        .scalars()
        .all()
    )
    if len(by_name) == 1:
        return by_name[0]
    if len(by_name) > 1:
        raise InvalidInput(f'More than one person is called "{key}": mention them with @ instead.')
    raise MemberNotFound(match.group(2) or key if match else ref)


def is_lead(member: Member) -> bool:
    return member.role in (Role.LEAD, Role.ADMIN)


def require_admin(actor: Member, what: str) -> None:
    if actor.role != Role.ADMIN:
        raise NotPermitted(f"Only admins can {what}. Ask an admin (see `roles`).")


def require_lead(actor: Member, what: str) -> None:
    if not is_lead(actor):
        raise NotPermitted(f"Only leads and admins can {what}. Ask a lead (see `roles`).")


async def set_role(session: AsyncSession, *, actor: Member, member: Member, role: Role, now: datetime) -> Member:
    require_admin(actor, "change roles")
    if member.id == actor.id and role != Role.ADMIN:
        admins = await session.scalar(
            select(func.count())
            .select_from(Member)
            .where(Member.workspace_id == actor.workspace_id, Member.role == Role.ADMIN)
        )
        if (admins or 0) <= 1:
            raise Conflict("You are the last admin here; make someone else an admin first.")
    member.role = role
    return member


async def list_members(session: AsyncSession, *, workspace_id: int) -> list[Member]:
    return list(
        (
            await session.execute(
                select(Member).where(Member.workspace_id == workspace_id).order_by(Member.role, Member.display_name)
            )
        ).scalars()
    )


def clean_name(raw: str, what: str) -> str:
    """A customer's or team's name: spaces collapsed, not empty, not too long, and nothing invisible in it (a
    right-to-left override or a zero-width space would let two names look the same)."""
    name = " ".join(raw.split())
    if not name:
        raise InvalidInput(f"The {what} name can't be empty.")
    hidden = invisible_in(name)
    if hidden:
        raise InvalidInput(
            f"That {what} name holds invisible characters ({', '.join(hidden[:3])}), so it could look like another"
            " name. Type it again without them."
        )
    if len(name) > MAX_NAME * 2:
        raise InvalidInput(f"That {what} name is {len(name)} characters long; keep it under {MAX_NAME * 2}.")
    return name


async def find_team(session: AsyncSession, *, workspace_id: int, name: str) -> Team:
    team = (
        await session.execute(select(Team).where(Team.workspace_id == workspace_id, Team.name_key == name.casefold()))
    ).scalar_one_or_none()
    if team is None:
        raise InvalidInput(f'There is no team called "{name}". See `team list`.')
    return team


async def create_team(
    session: AsyncSession, *, actor: Member, name: str, channel_id: str | None, now: datetime
) -> Team:
    require_admin(actor, "create teams")
    name = clean_name(name, "team")
    if len(name) > MAX_NAME:
        raise InvalidInput(f"Keep team names under {MAX_NAME} characters.")
    exists = await session.scalar(
        select(Team.id).where(Team.workspace_id == actor.workspace_id, Team.name_key == name.casefold())
    )
    if exists:
        raise Conflict(f'A team called "{name}" already exists.')
    team = Team(
        workspace_id=actor.workspace_id, name=name, name_key=name.casefold(), channel_id=channel_id, created_at=now
    )
    session.add(team)
    await session.flush()
    return team


async def add_to_team(session: AsyncSession, *, actor: Member, team: Team, member: Member, lead: bool) -> Team:
    require_admin(actor, "change teams")
    member.team_id = team.id
    if lead:
        team.lead_id = member.id
        if member.role == Role.AGENT:
            member.role = Role.LEAD
    return team


async def list_teams(session: AsyncSession, *, workspace_id: int) -> list[tuple[Team, list[Member]]]:
    teams = list(
        (await session.execute(select(Team).where(Team.workspace_id == workspace_id).order_by(Team.name))).scalars()
    )
    members = list(
        (
            await session.execute(
                select(Member).where(Member.workspace_id == workspace_id, Member.team_id.is_not(None))
            )
        ).scalars()
    )
    return [(team, [m for m in members if m.team_id == team.id]) for team in teams]


def is_away(member: Member, now: datetime | None) -> bool:
    """Away, unless an `away until` date has passed (away ends by itself; no job has to switch it off)."""
    if not member.away:
        return False
    return member.away_until is None or now is None or now < member.away_until
