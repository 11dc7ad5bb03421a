"""Service levels on business hours, by time travel on SQLite and PostgreSQL: calendars and holidays, escalation
timed from the breach whatever became of the owner's message, the cap that never holds a breach, follow-ups."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from db.models import DeliveryStatus, Member, Mood, NudgeEpisode, NudgeKind, Priority, TicketStatus
from nudges.settings import NudgeSettings

from ..conftest import Database
from .conftest import Desk, at, fields
from .test_processes import delivered, finish, start

ICS = (
    "BEGIN:VCALENDAR VERSION:2.0 PRODID:-//Team//Holidays//EN BEGIN:VEVENT UID:h1 DTSTART;VALUE=DATE:20261202 "
    "DTEND;VALUE=DATE:20261203 SUMMARY:Founders' Day END:VEVENT END:VCALENDAR"
)


@pytest.fixture
def policy() -> NudgeSettings:
    return NudgeSettings(daily_cap=2)


async def episodes(db: Database, kind: NudgeKind) -> list[NudgeEpisode]:
    async with db.sessions() as session:
        query = select(NudgeEpisode).where(NudgeEpisode.kind == kind).order_by(NudgeEpisode.id)
        return list((await session.execute(query)).scalars())


async def test_a_friday_evening_basic_ticket_is_not_breached_on_monday_morning(desk: Desk, db: Database) -> None:
    """Basic: first response in one business day of 8h (24h target over 09:00-17:00 days) -> Wednesday 17:00; a
    holiday on Wednesday (imported from an .ics) moves it to Thursday 17:00."""
    imported = await desk.chat.say("U_LEAD", f"holiday import {ICS}")
    assert not imported.error and "Imported 1 holiday" in imported.text, imported.text
    listed = await desk.chat.say("U_LEAD", "holiday list")
    assert ("Wed 02 Dec 2026", "Founders' Day") in listed.fields
    at(desk.clock, 27, 18)  # Friday 18:00 UTC, support closed
    ticket = await desk.ticket("Basic Bakery", tier="basic", responded=False)
    await desk.tick()
    desk.clock.now = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)  # Monday 08:00: not a minute of business time yet
    await desk.tick()
    assert await episodes(db, NudgeKind.SLA_BREACH) == [] and await episodes(db, NudgeKind.SLA_WARNING) == []
    tickets = await desk.chat.say("U1", "tickets")
    assert "first response due Thu 03 Dec 17:00 UTC" in str(tickets.fields), tickets.fields
    desk.clock.now = datetime(2026, 12, 2, 17, 0, tzinfo=UTC)  # Wednesday 17:00: the holiday did not count
    await desk.tick()
    assert await episodes(db, NudgeKind.SLA_BREACH) == []
    desk.clock.now = datetime(2026, 12, 3, 17, 0, tzinfo=UTC)
    await desk.tick()
    [breach] = [e for e in await episodes(db, NudgeKind.SLA_BREACH) if e.episode == "first-response"]
    assert breach.ticket_id == ticket and breach.started_at == datetime(2026, 12, 3, 17, 0, tzinfo=UTC)
    desk.clock.now = datetime(2026, 12, 4, 10, 30, tzinfo=UTC)  # Friday 10:30: 1h30m of business time late
    overdue = await desk.chat.say("U1", "tickets")
    assert "first response overdue by 1h30m (business time)" in str(overdue.fields), overdue.fields


async def test_a_team_in_berlin_counts_its_own_hours(desk: Desk, db: Database) -> None:
    said = await desk.chat.say("U_LEAD", "hours set mon-fri 08:00-16:00 --tz Europe/Berlin")
    assert not said.error and ("Hours", "Mon-Fri 08:00-16:00") in said.fields, said.text
    shown = await desk.chat.say("U2", "hours")
    assert ("Time zone", "Europe/Berlin") in shown.fields
    at(desk.clock, 23, 14, 30)  # 15:30 in Berlin: 30 minutes before closing
    await desk.ticket("Standard Steel", tier="standard", priority=Priority.URGENT, responded=False)  # 1h target
    await desk.tick(minutes=30)
    await desk.tick(hours=16)  # Tuesday 07:00 in Berlin: still closed, 30 business minutes used
    assert await episodes(db, NudgeKind.SLA_BREACH) == []
    await desk.tick(hours=1, minutes=30)  # Tuesday 08:30 in Berlin (07:30 UTC): one business hour
    [breach] = await episodes(db, NudgeKind.SLA_BREACH)
    assert breach.started_at == datetime(2026, 11, 24, 7, 30, tzinfo=UTC)


async def test_premium_breach_reaches_the_lead_when_the_owner_is_off_hours(desk: Desk) -> None:
    assert not (await desk.chat.say("U1", "workhours 22:00-06:00")).error  # a night shift: off during the day
    ticket = await desk.ticket("Acme", tier="premium", priority=Priority.HIGH, responded=False)  # 30 min
    await desk.tick(minutes=30)  # 10:30: breached; the owner sleeps
    assert desk.got("U1", "missed its service level") == []
    await desk.tick(minutes=29)
    assert desk.got("U_LEAD", "missed its service level") == []
    await desk.tick(minutes=1)  # 11:00: the lead step's own delay after the breach, not after the owner's 22:00
    [lead] = desk.got("U_LEAD", "missed its service level")
    assert f"#{ticket}" in lead["reply"]["text"]
    assert "u1 is off until 22:00 UTC" in fields(lead)["Escalation"], fields(lead)
    at(desk.clock, 23, 22)
    await desk.tick()
    assert len(desk.got("U1", "missed its service level")) == 1  # the owner still hears, when their shift starts


async def test_the_cap_never_holds_a_breach_and_the_lead_is_not_capped(desk: Desk) -> None:
    """The owner already had today's two single nudges and a bundle; a premium breach still reaches them and,
    30 minutes later, the lead (who also had their two)."""
    for name in ("R1", "R2", "R3", "R4"):
        await desk.ticket(name, tier="premium", owner="U1", opened_at=desk.clock.now - timedelta(hours=1))
    for name in ("L1", "L2"):
        await desk.ticket(name, tier="premium", owner=None)
    await desk.tick(hours=3)  # 13:00: four stale reminders for U1 (two single, two bundled)
    assert len(desk.got("U1")) == 3
    ticket = await desk.ticket("Acme", tier="premium", priority=Priority.HIGH, responded=False)  # 30 business min
    await desk.tick(minutes=30)
    assert len(desk.got("U1", "missed its service level")) == 1
    await desk.tick(minutes=30)
    [lead] = desk.got("U_LEAD", "missed its service level")
    assert f"#{ticket}" in lead["reply"]["text"]
    held = [d for d in await desk.deliveries() if d.status == DeliveryStatus.PLANNED and d.kind == NudgeKind.SLA_BREACH]
    assert held == []


async def test_calendar_commands_refuse_bad_input_and_change_nothing(desk: Desk) -> None:
    for who, bad, words in [
        ("U_LEAD", "hours set mon-fri 9-5", "is not a span of hours"),
        ("U_LEAD", "hours set someday 09:00-17:00", "not a list of days"),
        ("U_LEAD", "hours set mon-fri 09:00-17:00 --tz Mars/Olympus", "not a time zone"),
        ("U_LEAD", "hours set mon-sun closed", "close every day"),
        ("U_LEAD", "hours set mon-fri 09:00-17:00 --team Nowhere", 'no team called "Nowhere"'),
        ("U1", "hours set mon-fri 10:00-18:00", "lead"),
        ("U_LEAD", "holiday add 24/12/2026", "not a date"),
        ("U_LEAD", "holiday remove 2026-12-25", "not a holiday here"),
        ("U_LEAD", "holiday import hello there", "not an iCalendar"),
        ("U_ADMIN", "sla premium clock sometimes", "not a clock"),
        ("U1", "sla premium clock 24x7", "admin"),
        ("U_ADMIN", "sla premium update 2h --urgent", "goes with `clock`"),
        ("U1", "away until 2026-11-01", "already begun"),
    ]:
        reply = await desk.chat.say(who, bad)
        assert reply.error and words in reply.text, (bad, reply.text)
    shown = await desk.chat.say("U1", "hours")
    assert ("Hours", "Mon-Fri 09:00-17:00") in shown.fields and ("Time zone", "UTC") in shown.fields
    changed = await desk.chat.say("U_ADMIN", "sla basic clock 24x7")
    assert not changed.error and "now runs 24/7" in changed.text, changed.text


async def test_away_until_ends_by_itself_and_a_handoff_to_someone_away_warns(desk: Desk) -> None:
    assert not (await desk.chat.say("U2", "delegate U3")).error
    away = await desk.chat.say("U2", "away until 2026-11-25")
    assert "until Wed 25 Nov" in away.text and "<@U3>" in away.text, away.text
    await desk.customer("Acme", owner="U1")
    offered = await desk.chat.say("U1", "handoff acme U2 she speaks German with their CTO")
    assert not offered.error and "u2 is away until Wed 25 Nov" in offered.text and "u3" in offered.text
    await desk.ticket("Globex", tier="premium", owner="U2")
    await desk.tick(hours=4)  # Monday 14:00: U2 is away, the delegate hears
    assert desk.got("U2", "no update") == [] and len(desk.got("U3", "no update")) == 1
    [delegated] = desk.got("U3", "no update")
    assert "u2 is away until Wed 25 Nov, so it came to you." in fields(delegated)["Delegated"], fields(delegated)
    at(desk.clock, 25, 9)  # Wednesday: back, with nothing switched off by hand
    await desk.ticket("Initech", tier="premium", owner="U2")
    await desk.tick(hours=4)
    assert any("Initech" in r["reply"]["text"] for r in desk.got("U2", "no update"))


async def test_check_in_goes_to_the_current_owner_once_a_week_and_not_after_a_good_csat(
    desk: Desk, db: Database
) -> None:
    first = await desk.ticket("Acme", tier="standard", owner="U1")
    second = await desk.ticket("Acme", tier="standard", owner="U1", subject="Invoices")
    happy = await desk.ticket("Globex", tier="standard", owner="U1")
    for ticket in (first, second, happy):
        await desk.update_ticket(ticket, status=TicketStatus.RESOLVED, resolved_at=desk.clock.now)
    await desk.update_ticket(happy, csat="5")
    reassigned = await desk.chat.say("U_LEAD", "reassign acme U2 U1 moved to the enterprise desk")
    assert not reassigned.error, reassigned.text
    await desk.tick(days=3)
    await desk.tick()
    checks = [r for r in desk.got("U2") if "Is the customer really happy?" in r["reply"]["text"]]
    assert len(checks) == 1 and "Acme" in checks[0]["reply"]["text"]  # one per customer, to its owner now
    assert [r for r in desk.got("U1") if "really happy" in r["reply"]["text"]] == []  # Globex rated 5
    assert len(await episodes(db, NudgeKind.CHECK_IN)) == 1


@pytest.mark.timeout(400)
async def test_three_sweepers_over_a_week_of_tickets_send_nothing_twice(desk: Desk, db: Database) -> None:
    """24 tickets opened through the week across tiers, priorities, owners in Berlin and New York, a Berlin
    calendar and a holiday; three sweeper processes at a time on Tuesday, Thursday (the holiday) and Monday."""
    assert not (await desk.chat.say("U_LEAD", "hours set mon-fri 09:00-17:00 --tz Europe/Berlin")).error
    assert not (await desk.chat.say("U_LEAD", "holiday add 2026-11-26 Team offsite")).error
    tiers = ("premium", "standard", "basic")
    priorities = (Priority.URGENT, Priority.HIGH, Priority.NORMAL, Priority.LOW)
    for index in range(24):
        opened = desk.clock.now + timedelta(hours=7 * index)
        await desk.ticket(
            f"Week {index:02d}",
            tier=tiers[index % 3],
            priority=priorities[index % 4],
            owner=("U1", "U2", "U3")[index % 3],
            opened_at=opened,
            responded=index % 2 == 0,
        )
    async with db.sessions() as session, session.begin():
        for member in (await session.execute(select(Member))).scalars():
            member.time_zone = "Europe/Berlin" if member.platform_user_id != "U3" else "America/New_York"
    for day in (24, 26, 30):
        now = datetime(2026, 11, day, 15, 0, tzinfo=UTC).isoformat()
        workers = [start(db, desk.inbox.inbox, now, f"proc-{day}-{i}") for i in range(3)]
        for worker in workers:
            finish(worker)
    ids = delivered(desk)
    assert len(ids) > 24 and set(ids.values()) == {1}, ids.most_common(3)
    async with db.sessions() as session:
        stuck = (
            await session.execute(select(NudgeEpisode.id).where(NudgeEpisode.kind == NudgeKind.SLA_BREACH).limit(1))
        ).first()
    assert stuck is not None  # breaches happened in that week, and were sent once like everything else


async def test_lists_and_messages_put_the_most_urgent_first(desk: Desk) -> None:
    """tier x priority, then how far past due: not the newest activity, not the id."""
    late_basic = await desk.ticket(
        "Basic Bakery", tier="basic", priority=Priority.LOW, opened_at=desk.clock.now - timedelta(days=20)
    )
    premium = await desk.ticket(
        "Premium Plc", tier="premium", priority=Priority.URGENT, responded=False, opened_at=desk.clock.now
    )
    desk.clock.advance(hours=1)
    newest = await desk.ticket("Standard Steel", tier="standard")  # the newest activity
    listed = await desk.chat.say("U1", "tickets")
    assert [name.split()[0] for name, _ in listed.fields] == [f"#{premium}", f"#{newest}", f"#{late_basic}"]
    assert "first response overdue by 45m (24/7)" in listed.fields[0][1], listed.fields[0]
    mine = await desk.chat.say("U1", "mine")
    order = [name.split()[0] for name, _ in mine.fields if name.startswith("#")]
    assert order == [f"#{premium}", f"#{newest}", f"#{late_basic}"]

    # Four unhappy customers at once, the cap is two: the two premium ones come one by one, the rest bundled.
    for name, tier, priority in [
        ("Zeta Basic", "basic", Priority.NORMAL),
        ("Yak Standard", "standard", Priority.HIGH),
        ("Xeno Premium", "premium", Priority.HIGH),
        ("Wolf Premium", "premium", Priority.URGENT),
    ]:
        ticket = await desk.ticket(name, tier=tier, priority=priority, owner="U2")
        await desk.update_ticket(ticket, mood=Mood.UNHAPPY, mood_reason="billed twice")
    await desk.tick()
    singles = [r["reply"]["text"] for r in desk.got("U2", "the customer is unhappy")]
    assert [text.split("(")[1].split(":")[0] for text in singles] == ["Wolf Premium", "Xeno Premium"]
    [bundle] = [r for r in desk.got("U2") if "today's limit of 2" in r["reply"]["text"]]
    assert [label.split("(")[1].split(":")[0] for label, _ in bundle["reply"]["fields"]] == [
        "Yak Standard",
        "Zeta Basic",
    ]


async def test_a_delegate_gets_no_hand_off_button_they_could_not_use(desk: Desk) -> None:
    assert not (await desk.chat.say("U1", "delegate U2")).error
    assert not (await desk.chat.say("U1", "away on")).error
    await desk.ticket("Acme", tier="premium", owner="U1")
    await desk.tick(hours=4)
    [delegated] = desk.got("U2", "no update")
    assert "Hand off" not in [b["label"] for b in delegated["reply"]["buttons"]]
    assert fields(delegated)["Delegated"].startswith("You are the delegate")


async def test_an_overnight_shift_gets_its_nudges_at_night_and_one_digest(desk: Desk) -> None:
    said = await desk.chat.say("U_LEAD", "workhours 22:00-06:00 --days mon-sun")
    assert not said.error and ("Hours", "22:00-06:00 UTC") in said.fields, said.fields
    await desk.tick()  # Monday 10:00: off shift
    assert [r for r in desk.got("U_LEAD") if "digest" in r["reply"]["text"]] == []
    at(desk.clock, 23, 22)
    await desk.tick()
    at(desk.clock, 24, 1)  # past midnight, the same shift: no second digest
    await desk.tick()
    digests = [r for r in desk.got("U_LEAD") if "digest" in r["reply"]["text"]]
    assert len(digests) == 1 and "Monday 23 November" in digests[0]["reply"]["text"]


async def test_a_team_calendar_counts_for_its_members_tickets(desk: Desk, db: Database) -> None:
    """The weekend team works every day around the clock: its agent's basic ticket breaches on Saturday, while
    the same ticket of someone on the workspace calendar waits for Wednesday."""
    for line in ("team create Weekend", "team add Weekend U3"):
        assert not (said := await desk.chat.say("U_ADMIN", line)).error, said.text
    said = await desk.chat.say("U_LEAD", "hours set mon-sun 00:00-24:00 --team Weekend")
    assert not said.error and ("Calendar", "team Weekend") in said.fields, said.text
    at(desk.clock, 27, 18)  # Friday 18:00
    weekend = await desk.ticket("Weekend Wares", tier="basic", owner="U3", responded=False)
    await desk.ticket("Weekday Widgets", tier="basic", owner="U1", responded=False)
    await desk.tick()
    at(desk.clock, 28, 18)  # Saturday 18:00: 24 hours of the weekend team's business time
    await desk.tick()
    [breach] = [e for e in await episodes(db, NudgeKind.SLA_BREACH) if e.episode == "first-response"]
    assert breach.ticket_id == weekend and breach.started_at == datetime(2026, 11, 28, 18, 0, tzinfo=UTC)
