"""Availability: when nudges may reach you (`workhours`, overnight shifts), `away` (until a day, with a cover) and
who stands in (`delegate`)."""

from __future__ import annotations

from db.models import (
    Member,
)
from nudges import availability
from nudges.calendars import parse_day
from ownership.errors import InvalidInput

from . import replies
from .custody import away_cover
from .grammar import (
    Choice,
    MemberRef,
    OneWord,
    Option,
)
from .nudges import GROUP
from .parsing import parse_yes_no
from .registry import Context, command, usage_of
from .replies import Reply


def _hours_reply(member: Member, head: str) -> Reply:
    days = "".join(member.work_days)
    names = ", ".join(name.title() for name, n in availability.DAY_NAMES.items() if str(n) in days)
    return Reply(
        head,
        fields=[
            ("Hours", f"{member.work_start}-{member.work_end} {member.time_zone}"),
            ("Days", names or "every day"),
            (
                "Away",
                ("until " + availability.back_on(member))
                if member.away and member.away_until
                else ("yes" if member.away else "no"),
            ),
        ],
    )


@command(
    "workhours",
    OneWord("hours", label="HH:MM-HH:MM", required=False),
    Option("days", example="mon-fri", note="e.g. mon-fri or mon,tue,thu"),
    Option("tz", example="Europe/Berlin", note="a time zone like Europe/Berlin"),
    summary="When nudges may reach you, in your time zone.",
    group=GROUP,
)
async def workhours(ctx: Context, *, hours: str | None, days: str | None, tz: str | None) -> Reply:
    if hours is None and days is None and tz is None:
        return _hours_reply(ctx.actor, "Your working hours")
    start, end = ctx.actor.work_start, ctx.actor.work_end
    if hours is not None:
        if "-" not in hours:
            raise InvalidInput(f"Usage: `{usage_of('workhours')}`")
        start, _, end = hours.partition("-")
    availability.set_work_hours(ctx.actor, start=start, end=end, days=days, time_zone=tz)
    return _hours_reply(ctx.actor, "Working hours saved; nudges wait for them (urgent premium breaches don't).")


def parse_away(word: str) -> str:
    lowered = word.lower()
    if lowered in ("until", "till"):
        return "until"
    return "on" if parse_yes_no(word) else "off"


@command(
    "away",
    Choice("away", ("on", "off", "until"), parse=parse_away),
    OneWord("until", label="YYYY-MM-DD", required=False, note="with `until`: the day you are back"),
    Option("cover", example="@member", note="hands your customers to them until you are back"),
    summary="Away: your nudges go to your delegate or your lead (`away until 2026-12-01` ends by itself).",
    group=GROUP,
)
async def away(ctx: Context, *, away: str, until: str | None, cover: str | None) -> Reply:
    if away == "until":
        if until is None:
            raise InvalidInput("Say the day you are back: `away until 2026-12-01`.")
        day = parse_day(until)
        availability.set_away(ctx.actor, away=True, until=day, now=ctx.now)
    elif until is not None:
        raise InvalidInput(f"Usage: `{usage_of('away')}`")
    else:
        availability.set_away(ctx.actor, away=away == "on")
    if covered := await away_cover(ctx, away=away != "off", cover=cover):  # ownership.custody, via handlers.custody
        return covered
    if not ctx.actor.away:
        return Reply("Welcome back: your nudges come to you again.")
    stand_in = await ctx.session.get(Member, ctx.actor.delegate_id) if ctx.actor.delegate_id else None
    to = replies.person(stand_in) if stand_in else "your lead (set a delegate with `delegate @person`)"
    back = availability.back_on(ctx.actor)
    ends = f" until {back}; then they come to you again by themselves" if back else ""
    return Reply(f"You're away{ends}: your nudges go to {to}.")


@command(
    "delegate",
    MemberRef("person", label="@member|none", or_none=True),
    summary="Who gets your nudges while you're away.",
    group=GROUP,
)
async def delegate(ctx: Context, *, person: Member | None) -> Reply:
    if person is None:
        await availability.set_delegate(ctx.session, member=ctx.actor, delegate=None)
        return Reply("No delegate: while you're away, your nudges go to your lead.")
    await availability.set_delegate(ctx.session, member=ctx.actor, delegate=person)
    return Reply(f"{replies.person(person)} gets your nudges while you're away.")
