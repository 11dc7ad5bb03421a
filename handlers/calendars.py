"""Support hours and holidays: `hours`, `hours set`, `holiday add|list|remove|import` (leads and admins change them).

The business clocks of the service levels count only these hours (see `nudges.business_time`).
"""

from __future__ import annotations

import re

from db.models import Team
from nudges import calendars
from nudges.business_time import BusinessCalendar, describe_hours
from nudges.planner import recheck_open_tickets
from ownership.errors import InvalidInput
from ownership.people import find_team

from .grammar import Choice, OneWord, Option, Text, Together
from .registry import Context, command, command_with_verbs
from .replies import Reply

GROUP = "Nudges and service levels"
TEAM = Option("team", example="Support", note="a team's own calendar (default: the workspace's)")


async def _team(ctx: Context, name: str | None) -> Team | None:
    return await find_team(ctx.session, workspace_id=ctx.workspace.id, name=name) if name else None


def _calendar_reply(head: str, calendar: BusinessCalendar, team: Team | None, holidays: int) -> Reply:
    return Reply(
        head,
        fields=[
            ("Calendar", f"team {team.name}" if team else "the workspace (teams without their own use it)"),
            ("Hours", describe_hours(calendar.hours)),
            ("Time zone", calendar.zone.key),
            ("Holidays", f"{holidays} coming (`holiday list`)" if holidays else "none coming"),
            ("Clocks", "business-hours clocks count only these hours; `sla <tier> clock business|24x7` picks"),
        ],
    )


@command(
    "hours",
    Together(
        (
            Choice("set", ("set",), noun="verb"),
            OneWord("days", label="days", note="mon-fri, sat, or mon,wed,fri"),
            OneWord("span", label="HH:MM-HH:MM|closed", note="e.g. 09:00-17:00, 22:00-06:00 overnight, or closed"),
        )
    ),
    Option("tz", example="Europe/Berlin", note="the calendar's time zone"),
    TEAM,
    summary="Support hours the business clocks count; leads set them (`hours set mon-fri 09:00-17:00`).",
    group=GROUP,
)
async def hours(
    ctx: Context, *, set: str | None, days: str | None, span: str | None, tz: str | None, team: str | None
) -> Reply:
    found = await _team(ctx, team)
    if set is None:
        if tz is not None:
            raise InvalidInput("Give the days and hours with the time zone: `hours set mon-fri 09:00-17:00 --tz …`.")
        calendar = await calendars.show_calendar(ctx.session, workspace_id=ctx.workspace.id, team=found)
        coming = await calendars.list_holidays(
            ctx.session, workspace_id=ctx.workspace.id, team=found, since=ctx.now.astimezone(calendar.zone).date()
        )
        return _calendar_reply("Support hours", calendar, found, len(coming))
    assert days is not None and span is not None
    calendar = await calendars.set_support_hours(
        ctx.session, actor=ctx.actor, team=found, days=days, span=span, time_zone=tz, now=ctx.now
    )
    await recheck_open_tickets(ctx.session, workspace_id=ctx.workspace.id)
    return _calendar_reply("Support hours saved; open tickets' clocks are re-counted.", calendar, found, 0)


HOLIDAY = command_with_verbs("holiday", summary="Days the business clocks stand still.", group=GROUP)


@HOLIDAY.verb(
    "add",
    OneWord("day", label="YYYY-MM-DD"),
    Text("name", required=False),
    TEAM,
    summary="Leads: add a holiday (a whole day closed).",
)
async def holiday_add(ctx: Context, *, day: str, name: str | None, team: str | None) -> Reply:
    found = await _team(ctx, team)
    date = calendars.parse_day(day)
    added = await calendars.add_holidays(
        ctx.session, actor=ctx.actor, team=found, days=[(date, name or "")], now=ctx.now
    )
    await recheck_open_tickets(ctx.session, workspace_id=ctx.workspace.id)
    if not added:
        return Reply(f"{date:%a %d %b %Y} is already a holiday.")
    return Reply(f"{date:%a %d %b %Y} is a holiday{f' ({name})' if name else ''}: business clocks stand still.")


@HOLIDAY.verb("list", TEAM, summary="The holidays, from today on.")
async def holiday_list(ctx: Context, *, team: str | None) -> Reply:
    found = await _team(ctx, team)
    rows = await calendars.list_holidays(ctx.session, workspace_id=ctx.workspace.id, team=found, since=ctx.now.date())
    if not rows:
        return Reply("No holidays coming. `holiday add 2026-12-24 Christmas Eve` adds one.")
    return Reply(f"{len(rows)} holiday(s)", fields=[(f"{h.day:%a %d %b %Y}", h.name or "holiday") for h in rows])


@HOLIDAY.verb("remove", OneWord("day", label="YYYY-MM-DD"), TEAM, summary="Leads: remove a holiday.")
async def holiday_remove(ctx: Context, *, day: str, team: str | None) -> Reply:
    found = await _team(ctx, team)
    date = calendars.parse_day(day)
    await calendars.remove_holiday(ctx.session, actor=ctx.actor, team=found, day=date)
    await recheck_open_tickets(ctx.session, workspace_id=ctx.workspace.id)
    return Reply(f"{date:%a %d %b %Y} is a working day again.")


@HOLIDAY.verb(
    "import",
    Text("ics", label="iCalendar text", note="paste the .ics file's text (BEGIN:VCALENDAR …)"),
    TEAM,
    summary="Leads: import holidays from an iCalendar (.ics); `ownerbot holiday import file.ics` from a shell.",
)
async def holiday_import(ctx: Context, *, ics: str, team: str | None) -> Reply:
    found = await _team(ctx, team)
    days = calendars.read_ics(_unflatten(ics))
    added = await calendars.add_holidays(ctx.session, actor=ctx.actor, team=found, days=days, now=ctx.now)
    await recheck_open_tickets(ctx.session, workspace_id=ctx.workspace.id)
    return Reply(f"Imported {len(added)} holiday(s); {len(days) - len(added)} were already there.")


def _unflatten(text: str) -> str:
    """Chat joins a pasted file's lines with spaces; put each iCalendar property back on its own line."""
    if "\n" in text:
        return text
    return re.sub(r"\s+(?=(?:BEGIN|END|DTSTART|DTEND|SUMMARY|UID|DTSTAMP|VERSION|PRODID)[:;])", "\r\n", text)
