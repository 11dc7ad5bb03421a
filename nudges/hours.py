"""Working hours in each person's own time zone: when may a nudge reach them."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from db.models import Member


def zone(member: Member) -> ZoneInfo:
    try:
        return ZoneInfo(member.time_zone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def parse_clock(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def _work_days(member: Member) -> set[int]:
    days = {int(ch) for ch in (member.work_days or "") if ch.isdigit() and 1 <= int(ch) <= 7}
    return days or set(range(1, 8))


def _window(member: Member, day: date) -> tuple[datetime, datetime] | None:
    """The member's working window that starts on a local calendar day, in UTC, or None on a day off. A day
    that ends at or before it starts is an overnight shift (22:00-06:00): it ends the next morning."""
    if day.isoweekday() not in _work_days(member):
        return None
    tz = zone(member)
    start_clock, end_clock = parse_clock(member.work_start), parse_clock(member.work_end)
    start = datetime.combine(day, start_clock, tz).astimezone(UTC)
    end_day = day if end_clock > start_clock else day + timedelta(days=1)
    end = datetime.combine(end_day, end_clock, tz).astimezone(UTC)
    if end <= start:  # a clock change swallowed the shift: treat it as a whole day rather than never
        end = start + timedelta(hours=24)
    return start, end


def local_day(member: Member, moment: datetime) -> date:
    return moment.astimezone(zone(member)).date()


def is_working(member: Member, moment: datetime) -> bool:
    window = today_window(member, moment)
    return window is not None and window[0] <= moment < window[1]


def next_working_moment(member: Member, moment: datetime) -> datetime:
    """`moment` itself when the member is at work then, otherwise the start of their next working window."""
    day = local_day(member, moment) - timedelta(days=1)  # last night's shift may still run
    for offset in range(10):
        window = _window(member, day + timedelta(days=offset))
        if window is None:
            continue
        start, end = window
        if moment < start:
            return start
        if moment < end:
            return moment
    return moment


def next_work_start(member: Member, after: datetime) -> datetime:
    """The first start of a working window strictly after `after` ("next working morning")."""
    day = local_day(member, after) - timedelta(days=1)
    for offset in range(10):
        window = _window(member, day + timedelta(days=offset))
        if window is not None and window[0] > after:
            return window[0]
    return after + timedelta(days=1)


def today_window(member: Member, moment: datetime) -> tuple[datetime, datetime] | None:
    """The working window `moment` falls in (last night's shift included), else the one starting today."""
    day = local_day(member, moment)
    last_night = _window(member, day - timedelta(days=1))
    if last_night is not None and last_night[0] <= moment < last_night[1]:
        return last_night
    return _window(member, day)


def local_day_bounds(member: Member, moment: datetime) -> tuple[datetime, datetime]:
    """Midnight to midnight of the member's local day containing `moment`, in UTC."""
    tz = zone(member)
    day = local_day(member, moment)
    start = datetime.combine(day, time(0, 0), tz).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(0, 0), tz).astimezone(UTC)
    return start, end
