"""Working hours across time zones and a weekend, away and delegates, snooze and its limit, the daily cap."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from db.models import DeliveryStatus, Member, NudgeDelivery, Priority
from nudges.settings import NudgeSettings

from .conftest import Desk, at, button, fields


async def test_nudges_wait_for_working_hours_in_each_time_zone_and_skip_the_weekend(desk: Desk) -> None:
    assert not (await desk.chat.say("U1", "workhours 09:00-17:00 --tz America/New_York")).error
    assert not (await desk.chat.say("U2", "workhours 10:00-18:00 --days mon-fri --tz Asia/Tokyo")).error
    at(desk.clock, 27, 12)  # Friday 12:00 UTC = 07:00 in New York, 21:00 in Tokyo
    await desk.ticket("Acme", tier="premium", owner="U1")
    await desk.ticket("Globex", tier="premium", owner="U2")
    await desk.tick(hours=4)  # 16:00 UTC: both stale; New York 11:00 (working), Tokyo Saturday 01:00 (weekend)
    assert len(desk.got("U1", "no update")) == 1
    assert desk.got("U2", "no update") == []
    for _ in range(8):  # through Saturday and Sunday (in Tokyo)
        await desk.tick(hours=6)
        assert desk.got("U2", "no update") == [], desk.clock.now
    at(desk.clock, 30, 0, 59)  # Monday 09:59 in Tokyo
    await desk.tick()
    assert desk.got("U2", "no update") == []
    await desk.tick(minutes=1)  # Monday 10:00 in Tokyo
    assert len(desk.got("U2", "no update")) == 1
    async with desk.db.sessions() as session:
        due = (
            (
                await session.execute(
                    select(NudgeDelivery.due_at)
                    .join(Member, Member.id == NudgeDelivery.recipient_id)
                    .where(Member.platform_user_id == "U2", NudgeDelivery.step == 0)
                )
            )
            .scalars()
            .all()
        )
    assert datetime(2026, 11, 30, 1, 0, tzinfo=UTC) in due


async def test_urgent_premium_breach_ignores_working_hours_others_wait(desk: Desk) -> None:
    at(desk.clock, 28, 3)  # Saturday 03:00 UTC
    urgent = await desk.ticket("Acme", tier="premium", priority=Priority.URGENT, responded=False)  # 15 min target
    await desk.ticket("Globex", tier="standard", priority=Priority.URGENT, responded=False, owner="U2")  # 1 h
    await desk.tick(minutes=15)
    breach = desk.got("U1", "missed its service level")
    assert len(breach) == 1 and f"#{urgent}" in breach[0]["reply"]["text"]
    await desk.tick(minutes=29)
    assert desk.got("U_LEAD", "missed its service level") == []
    await desk.tick(minutes=1)  # premium: the lead after 30 min, on a Saturday night too
    assert len(desk.got("U_LEAD", "missed its service level")) == 1
    await desk.tick(minutes=60)
    assert desk.got("U2", "missed its service level") == []  # not premium: waits for Monday
    at(desk.clock, 30, 9, 59)  # Monday: the standard ticket's business clock started at 09:00
    await desk.tick()
    assert desk.got("U2", "missed its service level") == []
    at(desk.clock, 30, 10)  # one business hour
    await desk.tick()
    assert any("first response" in fields(r)["Why"] for r in desk.got("U2", "missed its service level"))
    assert desk.got("U1", "about to miss") == []  # Saturday's warning waited, and was cancelled as moot


async def test_away_owner_nudges_go_to_the_delegate_or_the_lead_at_once(desk: Desk) -> None:
    assert not (await desk.chat.say("U1", "delegate U2")).error
    away = await desk.chat.say("U1", "away on")
    assert "go to <@U2>" in away.text
    assert not (await desk.chat.say("U3", "away on")).error  # no delegate: the lead
    await desk.ticket("Acme", tier="premium", owner="U1")
    await desk.ticket("Globex", tier="premium", owner="U3")
    await desk.tick(hours=4)
    assert desk.got("U1") == [] and desk.got("U3") == []
    [delegated] = desk.got("U2", "no update")
    assert fields(delegated)["Delegated"].startswith("You are the delegate")
    assert any("Globex" in r["reply"]["text"] for r in desk.got("U_LEAD", "no update"))

    back = await desk.chat.say("U1", "away off")
    assert "Welcome back" in back.text
    mine = await desk.chat.say("U1", "delegate U1")
    assert mine.error and "own delegate" in mine.text


@pytest.fixture
def policy() -> NudgeSettings:
    return NudgeSettings(daily_cap=3, snooze_limit_minutes=60)


async def test_snooze_reminds_later_and_cannot_hold_the_escalation_past_the_limit(desk: Desk) -> None:
    await desk.ticket("Acme", tier="premium")  # stale at 14:00; the lead would hear at 14:30
    await desk.ticket("Globex", tier="premium", owner="U2")
    await desk.tick(hours=4)
    [acme] = desk.got("U1", "no update")
    [globex] = desk.got("U2", "no update")

    short = await desk.chat.click("U2", *button(globex, "Snooze 1h"))  # within the 60 min limit
    assert "Snoozed until <!date^1795446000^{date_short_pretty} {time}|2026-11-23 15:00 UTC>" in short.text
    assert (
        "not done by <!date^1795446000^{date_short_pretty} {time}|2026-11-23 15:00 UTC>" in short.text
        and "can't hold" not in short.text
    )
    long = await desk.chat.click("U1", *button(acme, "Snooze 4h"))  # far beyond the limit
    assert "Snoozed until <!date^1795456800^{date_short_pretty} {time}|2026-11-23 18:00 UTC>" in long.text
    assert "not done by <!date^1795447800^{date_short_pretty} {time}|2026-11-23 15:30 UTC>" in long.text
    assert "can't hold that back" in long.text

    def lead_heard() -> list[str]:
        return sorted(r["reply"]["text"].split(" (")[1].split(":")[0] for r in desk.got("U_LEAD", "no update"))

    await desk.tick(minutes=30)  # 14:30: the lead would have heard about both without the snoozes
    assert lead_heard() == []
    await desk.tick(minutes=30)  # 15:00: U2's reminder, and U2's snooze is over for the ladder too
    assert [fields(r).get("Reminder") for r in desk.got("U2", "no update")] == [None, "You snoozed this earlier."]
    assert lead_heard() == ["Globex"]
    await desk.tick(minutes=30)  # 15:30: U1 snoozed till 18:00, but the limit lets the lead hear now
    assert lead_heard() == ["Acme", "Globex"]
    await desk.tick(hours=2, minutes=30)  # 18:00 is after U1's day: the reminder waits for the morning
    assert len(desk.got("U1", "no update")) == 1
    await desk.tick(hours=15)  # Tuesday 09:00
    assert len(desk.got("U1", "no update")) == 2

    by_keyboard = await desk.chat.say("U1", f"snooze {button(acme, 'Done')[1]} morning")
    assert (
        not by_keyboard.error
        and "Snoozed until <!date^1795597200^{date_short_pretty} {time}|2026-11-25 09:00 UTC>" in by_keyboard.text
    )
    wrong = await desk.chat.say("U1", f"snooze {button(acme, 'Done')[1]} forever")
    assert wrong.error and '"forever" is not a snooze' in wrong.text


async def test_daily_cap_bundles_the_rest_into_one_message(desk: Desk) -> None:
    await desk.chat.say("U1", "workhours 09:00-23:00")
    for name in ("A1", "A2", "A3", "A4", "A5"):
        await desk.ticket(name, tier="premium")
    await desk.tick(hours=4)  # five stale tickets at once; the cap is three
    got = desk.got("U1")
    assert len(got) == 4
    singles = [r for r in got if "no update" in r["reply"]["text"]]
    [bundle] = [r for r in got if "today's limit of 3" in r["reply"]["text"]]
    assert len(singles) == 3 and len(bundle["reply"]["fields"]) == 2
    assert [b["label"].startswith("Done #") for b in bundle["reply"]["buttons"]] == [True, True]
    statuses = sorted(d.status.value for d in await desk.deliveries() if d.kind.value == "stale")
    assert statuses == ["bundled", "sent", "sent", "sent", "sent"]

    await desk.ticket("A6", tier="premium", opened_at=desk.clock.now - timedelta(hours=1))  # 13:00
    await desk.tick(hours=3, minutes=30)  # 17:30, still U1's working day: A6 went stale at 17:00
    assert len(desk.got("U1")) == 4  # over the cap, and today's bundle went out: it waits for tomorrow
    u1 = (await desk.member("U1")).id
    held = [
        d
        for d in await desk.deliveries()
        if d.status == DeliveryStatus.PLANNED and d.kind.value == "stale" and d.recipient_id == u1
    ]
    assert [d.due_at for d in held] == [datetime(2026, 11, 24, 9, 0, tzinfo=UTC)]
    await desk.tick(hours=15, minutes=30)  # Tuesday 09:00, a new day
    assert len(desk.got("U1", "no update")) == 4
