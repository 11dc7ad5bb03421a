"""Working hours, time zone, away and delegate: when and to whom a person's nudges go."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time

from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Customer, Member
from ownership.errors import InvalidInput, quote
from ownership.people import is_away as is_away  # re-exported: the nudges read availability here
from ownership.people import valid_time_zone

from .hours import zone

CLOCK = re.compile(r"([01]?\d|2[0-3]):([0-5]\d)", re.ASCII)
DAY_NAMES = {"mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6, "sun": 7}


def _clock(raw: str) -> str:
    match = CLOCK.fullmatch(raw.strip())
    if not match:
        raise InvalidInput(f'"{raw}" is not a time of day. Use 24-hour HH:MM, like 09:00.')
    return f"{int(match.group(1)):02d}:{match.group(2)}"


def parse_days(raw: str) -> str:
    """`mon-fri`, `mon,wed,fri`, `12345` (ISO weekdays, Monday = 1)."""
    text = raw.strip().lower()
    if text.isdigit() and all(ch in "1234567" for ch in text):
        return "".join(sorted(set(text)))
    days: set[int] = set()
    for part in text.split(","):
        if "-" in part:
            first, _, last = part.partition("-")
            if first[:3] not in DAY_NAMES or last[:3] not in DAY_NAMES:
                raise InvalidInput(f'"{raw}" is not a list of days. Use e.g. mon-fri or mon,wed,fri.')
            start, end = DAY_NAMES[first[:3]], DAY_NAMES[last[:3]]
            days.update(range(start, end + 1) if start <= end else list(range(start, 8)) + list(range(1, end + 1)))
        elif part[:3] in DAY_NAMES:
            days.add(DAY_NAMES[part[:3]])
        else:
            raise InvalidInput(f'"{raw}" is not a list of days. Use e.g. mon-fri or mon,wed,fri.')
    return "".join(str(d) for d in sorted(days))


def set_work_hours(
    member: Member, *, start: str, end: str, days: str | None = None, time_zone: str | None = None
) -> Member:
    start_clock, end_clock = _clock(start), _clock(end)
    if end_clock == start_clock:
        raise InvalidInput(
            "The working day must not start and end at the same time (e.g. 09:00-17:00, or 22:00-06:00 overnight)."
        )
    if time_zone is not None and not valid_time_zone(time_zone):
        raise InvalidInput(f'"{time_zone}" is not a time zone. Use a name like Europe/Berlin or America/New_York.')
    work_days = parse_days(days) if days is not None else member.work_days
    if not work_days:
        raise InvalidInput("Name at least one working day.")
    member.work_start, member.work_end, member.work_days = start_clock, end_clock, work_days
    if time_zone is not None:
        member.time_zone = time_zone
    return member


def set_away(member: Member, *, away: bool, until: date | None = None, now: datetime | None = None) -> Member:
    """`away on|off`, or `away until 2026-12-01`: away up to the start of that day in the member's time zone."""
    if until is not None:
        back = datetime.combine(until, time(0, 0), zone(member)).astimezone(UTC)
        if now is not None and back <= now:
            raise InvalidInput(f"{until.isoformat()} has already begun; name a later day to be back on.")
        member.away, member.away_until = True, back
        return member
    member.away, member.away_until = away, None
    return member


def back_on(member: Member) -> str:
    """`1 Dec` (the day an `away until` ends, in the member's zone), or "" when away has no end."""
    if member.away_until is None:
        return ""
    return f"{member.away_until.astimezone(zone(member)):%a %d %b}"


async def set_delegate(session: AsyncSession, *, member: Member, delegate: Member | None) -> Member:
    if delegate is not None:
        if delegate.id == member.id:
            raise InvalidInput("You can't be your own delegate; name a colleague, or `delegate none`.")
        if delegate.workspace_id != member.workspace_id:
            raise InvalidInput("Your delegate must be in this workspace.")
    member.delegate_id = delegate.id if delegate else None
    return member


async def away_warning(session: AsyncSession, *, member: Member, customer: Customer, now: datetime) -> str:
    """` Note: Sam is away until Wed 25 Nov; their delegate Kim could take it: …` (or "" when not away)."""
    if not is_away(member, now):
        return ""
    until = back_on(member)
    text = f" Note: {member.display_name} is away{f' until {until}' if until else ''}"
    stand_in = await session.get(Member, member.delegate_id) if member.delegate_id else None
    if stand_in is not None and not is_away(stand_in, now):
        command = f"handoff {quote(customer.name)} @{stand_in.display_name} <reason>"
        return f"{text}; their delegate {stand_in.display_name} could take it: `{command}`."
    return f"{text}, so the offer waits for them."
