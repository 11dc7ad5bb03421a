"""Business time: a support calendar's open windows, and clocks that count only the time inside them.

Pure functions over a `BusinessCalendar` (no database, no clock): `add` finds the moment a target of business
time is used up, `between` measures the business time between two moments, `next_open` says when the team is
next at work. A 24/7 calendar (`always`) is plain wall-clock time.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

DAY_MINUTES = 24 * 60
HORIZON_DAYS = 3 * 366  # a clock never looks further ahead than this (a calendar closed for years)
WEEKDAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@dataclass(frozen=True)
class BusinessCalendar:
    """Support hours per ISO weekday (Monday = 1) as (start, end) minutes after local midnight; an end at or
    before the start runs past midnight into the next day (an overnight shift). Holidays close a whole local day
    (the window that starts on it)."""

    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))
    hours: Mapping[int, tuple[int, int]] = field(default_factory=dict)
    holidays: frozenset[date] = frozenset()
    always: bool = False  # 24/7: every moment counts
    name: str = "workspace"

    def windows(self, since: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Open windows in time order (UTC), starting with the one that contains or follows `since`."""
        day = since.astimezone(self.zone).date() - timedelta(days=1)  # yesterday's overnight window may still run
        for offset in range(HORIZON_DAYS):
            current = day + timedelta(days=offset)
            span = self.hours.get(current.isoweekday())
            if span is None or current in self.holidays:
                continue
            start_minute, end_minute = span
            start = _local(current, start_minute, self.zone)
            if end_minute > start_minute:
                end = _local(current, end_minute, self.zone)
            else:  # an overnight shift ends the next day
                end = _local(current + timedelta(days=1), end_minute, self.zone)
            if end > since:
                yield max(start, since), end

    def add(self, start: datetime, delta: timedelta) -> datetime:
        """The moment `delta` of business time after `start` is used up."""
        if self.always or not self.hours:
            return start + delta
        remaining = delta
        if remaining <= timedelta(0):
            return start
        for window_start, window_end in self.windows(start):
            room = window_end - window_start
            if remaining <= room:
                return window_start + remaining
            remaining -= room
        return start + delta  # no open window within the horizon: fall back to wall-clock time

    def between(self, start: datetime, end: datetime) -> timedelta:
        """Business time from `start` to `end` (zero when `end` is not after `start`)."""
        if end <= start:
            return timedelta(0)
        if self.always or not self.hours:
            return end - start
        total = timedelta(0)
        for window_start, window_end in self.windows(start):
            if window_start >= end:
                break
            total += min(window_end, end) - window_start
        return total

    def is_open(self, moment: datetime) -> bool:
        return self.next_open(moment) == moment

    def next_open(self, moment: datetime) -> datetime:
        if self.always or not self.hours:
            return moment
        for window_start, _ in self.windows(moment):
            return window_start
        return moment


def _local(day: date, minute: int, zone: ZoneInfo) -> datetime:
    if minute >= DAY_MINUTES:
        day, minute = day + timedelta(days=1), minute - DAY_MINUTES
    return datetime.combine(day, time(minute // 60, minute % 60), zone).astimezone(UTC)


def clock_words(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def describe_hours(hours: Mapping[int, tuple[int, int]]) -> str:
    """`Mon-Fri 09:00-17:00` (days with the same hours side by side), or `closed`."""
    parts: list[str] = []
    run: list[int] = []

    def flush() -> None:
        if run:
            first, last = WEEKDAY_NAMES[run[0] - 1], WEEKDAY_NAMES[run[-1] - 1]
            days = first if len(run) == 1 else f"{first}-{last}"
            start, end = hours[run[0]]
            parts.append(f"{days} {clock_words(start)}-{clock_words(end)}")

    for day in range(1, 8):
        if day in hours and run and hours[run[-1]] == hours[day] and run[-1] == day - 1:
            run.append(day)
            continue
        flush()
        run = [day] if day in hours else []
    flush()
    return ", ".join(parts) or "closed"


def business_words(delta: timedelta) -> str:
    """A span of (business) time in words: `45m`, `2h`, `2h15m`, `19h30m`."""
    minutes = max(0, int(delta.total_seconds() // 60))
    hours, rest = divmod(minutes, 60)
    if hours and rest:
        return f"{hours}h{rest:02d}m"
    if hours:
        return f"{hours}h"
    return f"{rest}m"
