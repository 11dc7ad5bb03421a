"""A team's gesture settings and its monthly budget, and who leads the team (who may change them).

Decisions where the issue was silent:
- Money is integer cents in the team's currency (`wow settings currency EUR`, default USD).
- The budget month is the calendar month in UTC; an approval counts in the month it was approved.
- `anonymous`, `hide_results` and `quorum` are copied onto a proposal when it is made (see `proposing`), so
  changing a setting never reveals the names on a running vote.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import GestureProposal, GestureSettings, GestureStatus, Member, Role, Team
from db.upsert import insert_or_ignore
from ownership.errors import InvalidInput, NotPermitted
from ownership.people import find_team, is_lead

from .amounts import format_amount

MAX_BUDGET_CENTS = 100_000_000  # 1,000,000.00 a month
DEFAULT_QUORUM = 3
MAX_QUORUM = 100
SPENT = (GestureStatus.APPROVED, GestureStatus.DELIVERED)


async def settings_for(session: AsyncSession, *, team_id: int, now: datetime) -> GestureSettings:
    """The team's gesture settings, created with the defaults on first use (race-free)."""
    values = {
        "team_id": team_id,
        "anonymous": False,
        "hide_results": False,
        "quorum": DEFAULT_QUORUM,
        "monthly_budget_cents": None,
        "currency": "USD",
        "updated_at": now,
    }
    await insert_or_ignore(session, GestureSettings, values, ["team_id"])
    found = await session.get(GestureSettings, team_id, populate_existing=True)
    assert found is not None
    return found


async def actor_team(session: AsyncSession, *, actor: Member, name: str | None) -> Team:
    """The team a lead means: the one named, else their own."""
    if name:
        return await find_team(session, workspace_id=actor.workspace_id, name=name)
    if actor.team_id is None:
        raise InvalidInput("You are not in a team; name it with `--team <team>`, or ask an admin to `team add` you.")
    team = await session.get(Team, actor.team_id)
    assert team is not None
    return team


def leads_team(actor: Member, team: Team) -> bool:
    """Admins lead every team; a lead leads the team they are in (or were named lead of)."""
    return actor.role == Role.ADMIN or (is_lead(actor) and (actor.team_id == team.id or team.lead_id == actor.id))


def require_team_lead(actor: Member, team: Team, what: str) -> None:
    if not leads_team(actor, team):
        raise NotPermitted(f"Only {team.name}'s lead (or an admin) can {what}.")


def month_bounds(now: datetime) -> tuple[datetime, datetime]:
    start = now.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    end = start.replace(year=start.year + 1, month=1) if start.month == 12 else start.replace(month=start.month + 1)
    return start, end


async def budget_used(session: AsyncSession, *, team_id: int, now: datetime) -> int:
    """Cents approved this calendar month (UTC), delivered or not."""
    start, end = month_bounds(now)
    total = await session.scalar(
        select(func.coalesce(func.sum(GestureProposal.cost_cents), 0)).where(
            GestureProposal.team_id == team_id,
            GestureProposal.status.in_(SPENT),
            GestureProposal.approved_at >= start,
            GestureProposal.approved_at < end,
        )
    )
    return int(total or 0)


def exceeds(budget_cents: int | None, used_cents: int, cost_cents: int) -> bool:
    return budget_cents is not None and cost_cents > 0 and used_cents + cost_cents > budget_cents


async def set_budget(session: AsyncSession, *, actor: Member, team: Team, cents: int, now: datetime) -> GestureSettings:
    require_team_lead(actor, team, "set its gesture budget")
    if cents < 0 or cents > MAX_BUDGET_CENTS:
        raise InvalidInput(f"A monthly budget is between 0 and {format_amount(MAX_BUDGET_CENTS)}.")
    settings = await settings_for(session, team_id=team.id, now=now)
    settings.monthly_budget_cents = cents
    settings.updated_at = now
    settings.updated_by_id = actor.id
    await session.flush()
    return settings


async def change_settings(
    session: AsyncSession,
    *,
    actor: Member,
    team: Team,
    anonymous: bool | None = None,
    hide_results: bool | None = None,
    quorum: int | None = None,
    currency: str | None = None,
    now: datetime,
) -> GestureSettings:
    require_team_lead(actor, team, "change its gesture settings")
    settings = await settings_for(session, team_id=team.id, now=now)
    if quorum is not None:
        if not 1 <= quorum <= MAX_QUORUM:
            raise InvalidInput(f"A quorum is between 1 and {MAX_QUORUM} votes.")
        settings.quorum = quorum
    if currency is not None:
        code = currency.strip().upper()
        if len(code) != 3 or not code.isalpha():
            raise InvalidInput(f'"{currency[:20]}" is not a currency code: use three letters, like EUR or USD.')
        settings.currency = code
    if anonymous is not None:
        settings.anonymous = anonymous
    if hide_results is not None:
        settings.hide_results = hide_results
    settings.updated_at = now
    settings.updated_by_id = actor.id
    await session.flush()
    return settings
