"""Support calendars in the database: a team's (or the workspace's) hours, time zone and holidays.

`Calendars` loads one workspace's rows once per sweep and hands out a `BusinessCalendar` per team; the other
functions are the commands' writes (leads and admins), each validated before anything changes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Holiday, Member, SupportHours, Team
from ownership.errors import InvalidInput, NotFound
from ownership.people import require_lead, valid_time_zone

from .availability import parse_days
from .business_time import DAY_MINUTES, BusinessCalendar

DEFAULT_HOURS = dict.fromkeys(range(1, 6), (9 * 60, 17 * 60))  # Monday to Friday, 09:00-17:00 UTC
SPAN = re.compile(r"^([01]?\d|2[0-4]):([0-5]\d)-([01]?\d|2[0-4]):([0-5]\d)$", re.ASCII)
MAX_HOLIDAYS_PER_IMPORT = 500
EARLIEST, LATEST = date(2000, 1, 1), date(2100, 12, 31)


def encode_hours(hours: dict[int, tuple[int, int]]) -> str:
    return " ".join(f"{day}={start}-{end}" for day, (start, end) in sorted(hours.items()))


def decode_hours(text: str) -> dict[int, tuple[int, int]]:
    hours: dict[int, tuple[int, int]] = {}
    for part in text.split():
        day, _, span = part.partition("=")
        start, _, end = span.partition("-")
        hours[int(day)] = (int(start), int(end))
    return hours


def parse_span(raw: str) -> tuple[int, int] | None:
    """`09:00-17:00`, an overnight `22:00-06:00`, `00:00-24:00` (all day), or `closed` (None)."""
    text = raw.strip().lower()
    if text in ("closed", "off", "none"):
        return None
    match = SPAN.match(text)
    if not match:
        raise InvalidInput(f'"{raw[:40]}" is not a span of hours. Use HH:MM-HH:MM (e.g. 09:00-17:00), or closed.')
    start = int(match.group(1)) * 60 + int(match.group(2))
    end = int(match.group(3)) * 60 + int(match.group(4))
    if start >= DAY_MINUTES or end > DAY_MINUTES:
        raise InvalidInput(f'"{raw[:40]}": a day runs from 00:00 to 24:00.')
    if start == end:
        raise InvalidInput(f'"{raw[:40]}" is empty: the hours must not start and end at the same time.')
    return start, end


@dataclass
class Calendars:
    """One workspace's support hours and holidays, loaded once (a per-sweep cache)."""

    hours: dict[int | None, SupportHours]
    holidays: dict[int | None, set[date]]

    def for_team(self, team_id: int | None, *, always: bool = False) -> BusinessCalendar:
        row = self.hours.get(team_id) if team_id is not None else None
        used = team_id if row is not None else None
        row = row or self.hours.get(None)
        days = set(self.holidays.get(None, set()))
        if used is not None:
            days |= self.holidays.get(used, set())
        return BusinessCalendar(
            zone=ZoneInfo(row.time_zone) if row is not None and valid_time_zone(row.time_zone) else ZoneInfo("UTC"),
            hours=decode_hours(row.hours) if row is not None else DEFAULT_HOURS,
            holidays=frozenset(days),
            always=always,
            name="team" if used is not None else "workspace",
        )


async def load_calendars(session: AsyncSession, *, workspace_id: int) -> Calendars:
    hours = (await session.execute(select(SupportHours).where(SupportHours.workspace_id == workspace_id))).scalars()
    days = await session.execute(select(Holiday.team_id, Holiday.day).where(Holiday.workspace_id == workspace_id))
    holidays: dict[int | None, set[date]] = {}
    for team_id, day in days.all():
        holidays.setdefault(team_id, set()).add(day)
    return Calendars({row.team_id: row for row in hours}, holidays)


async def set_support_hours(
    session: AsyncSession,
    *,
    actor: Member,
    team: Team | None,
    days: str,
    span: str,
    time_zone: str | None,
    now: datetime,
) -> BusinessCalendar:
    """`hours set mon-fri 09:00-17:00 --tz Europe/Berlin`: those days get those hours (or close), the others
    keep theirs. Leads and admins."""
    require_lead(actor, "change support hours")
    picked = parse_days(days)
    if not picked:
        raise InvalidInput("Name at least one day, e.g. mon-fri.")
    hours_span = parse_span(span)
    if time_zone is not None and not valid_time_zone(time_zone):
        raise InvalidInput(f'"{time_zone[:60]}" is not a time zone. Use a name like Europe/Berlin.')
    team_id = team.id if team is not None else None
    row = (
        await session.execute(
            select(SupportHours).where(
                SupportHours.workspace_id == actor.workspace_id,
                SupportHours.team_id.is_(None) if team_id is None else SupportHours.team_id == team_id,
            )
        )
    ).scalar_one_or_none()
    if row is None:
        base = (await load_calendars(session, workspace_id=actor.workspace_id)).for_team(None)
        row = SupportHours(
            workspace_id=actor.workspace_id,
            team_id=team_id,
            time_zone=base.zone.key,
            hours=encode_hours(dict(base.hours)),
            updated_at=now,
        )
        session.add(row)
    hours = decode_hours(row.hours)
    for day in (int(ch) for ch in picked):
        if hours_span is None:
            hours.pop(day, None)
        else:
            hours[day] = hours_span
    if not hours:
        raise InvalidInput("That would close every day; support needs at least one open day.")
    row.hours = encode_hours(hours)
    if time_zone is not None:
        row.time_zone = time_zone
    row.updated_at = now
    await session.flush()
    return (await load_calendars(session, workspace_id=actor.workspace_id)).for_team(team_id)


async def show_calendar(session: AsyncSession, *, workspace_id: int, team: Team | None) -> BusinessCalendar:
    return (await load_calendars(session, workspace_id=workspace_id)).for_team(team.id if team else None)


def parse_day(raw: str) -> date:
    try:
        day = date.fromisoformat(raw.strip())
    except ValueError:
        raise InvalidInput(f'"{raw[:40]}" is not a date. Use YYYY-MM-DD, like 2026-12-24.') from None
    if not EARLIEST <= day <= LATEST:
        raise InvalidInput(f"{day.isoformat()} is too far away; holidays go from {EARLIEST.year} to {LATEST.year}.")
    return day


def _team_filter(team: Team | None):  # type: ignore[no-untyped-def]
    return Holiday.team_id.is_(None) if team is None else Holiday.team_id == team.id


async def add_holidays(
    session: AsyncSession,
    *,
    actor: Member | None,
    team: Team | None,
    days: Iterable[tuple[date, str]],
    now: datetime,
    workspace_id: int | None = None,
) -> list[Holiday]:
    """Add holidays (a day already there keeps its row; returns the new ones). Leads and admins in chat; the
    operator's command line (`ownerbot holiday import`, actor None) names the workspace instead."""
    if actor is not None:
        require_lead(actor, "change holidays")
        workspace_id = actor.workspace_id
    assert workspace_id is not None
    existing = set(
        (
            await session.execute(select(Holiday.day).where(Holiday.workspace_id == workspace_id, _team_filter(team)))
        ).scalars()
    )
    added: list[Holiday] = []
    for day, name in sorted(days):
        if day in existing:
            continue
        existing.add(day)
        holiday = Holiday(
            workspace_id=workspace_id,
            team_id=team.id if team else None,
            day=day,
            name=name.strip()[:200],
            created_at=now,
        )
        session.add(holiday)
        added.append(holiday)
    await session.flush()
    return added


async def list_holidays(
    session: AsyncSession, *, workspace_id: int, team: Team | None, since: date | None = None
) -> list[Holiday]:
    query = select(Holiday).where(Holiday.workspace_id == workspace_id, _team_filter(team))
    if since is not None:
        query = query.where(Holiday.day >= since)
    return list((await session.execute(query.order_by(Holiday.day))).scalars())


async def remove_holiday(session: AsyncSession, *, actor: Member, team: Team | None, day: date) -> None:
    require_lead(actor, "change holidays")
    result = await session.execute(
        delete(Holiday).where(Holiday.workspace_id == actor.workspace_id, _team_filter(team), Holiday.day == day)
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        raise NotFound(f"{day.isoformat()} is not a holiday here; `holiday list` shows them.")


def read_ics(data: bytes | str) -> list[tuple[date, str]]:
    """The days of every event in an iCalendar file (all-day events, multi-day ones day by day)."""
    import icalendar  # 3.4 MiB: loaded by the first calendar read, not by every server

    try:
        calendar = icalendar.Calendar.from_ical(data)
    except (ValueError, IndexError, KeyError) as error:
        raise InvalidInput(f"That is not an iCalendar (.ics) file: {str(error)[:120]}") from None
    days: list[tuple[date, str]] = []
    for event in calendar.walk("VEVENT"):
        if "DTSTART" not in event:
            continue
        start = event.decoded("DTSTART")
        end = event.decoded("DTEND") if "DTEND" in event else None
        first = start.date() if isinstance(start, datetime) else start
        if end is None:
            last = first
        else:
            end_day = end.date() if isinstance(end, datetime) else end
            last = end_day - timedelta(days=1) if not isinstance(end, datetime) else end_day  # DTEND is exclusive
            last = max(last, first)
        name = str(event.get("SUMMARY", ""))
        day = first
        while day <= last:
            if EARLIEST <= day <= LATEST:
                days.append((day, name))
            day += timedelta(days=1)
            if len(days) > MAX_HOLIDAYS_PER_IMPORT:
                raise InvalidInput(
                    f"That calendar has more than {MAX_HOLIDAYS_PER_IMPORT} days; import a year at a time."
                )
    if not days:
        raise InvalidInput("That calendar has no events with dates, so there is nothing to import.")
    return days
