"""The lead's daily digest, the hand-off button, and the sla / workhours commands (refusals change nothing)."""

from __future__ import annotations

from sqlalchemy import select

from db.models import HandoffRequest, Member, Mood, ServiceLevel, Tier
from handlers import ActionId

from .conftest import Desk, at, button, fields


async def test_lead_gets_one_digest_at_the_start_of_their_day(desk: Desk) -> None:
    for line in (
        "team create Support",
        "team add Support U_LEAD --lead yes",
        "team add Support U1",
        "team add Support U2",
        "team add Support U3",
    ):
        assert not (await desk.chat.say("U_ADMIN", line)).error, line
    assert not (await desk.chat.say("U_LEAD", "workhours 08:00-16:00 --tz Europe/Berlin")).error
    for index in range(7):
        await desk.ticket(f"Busy {index}", owner="U1", tier="premium")  # update target 4 h
    await desk.ticket("Calm", owner="U2", tier="premium")
    quiet = await desk.ticket("Quiet", owner="U3", tier="premium")
    sad = await desk.ticket("Sad Corp", owner="U2", subject="Invoices wrong", tier="premium")
    late = await desk.ticket(
        "Late", owner="U2", responded=False, opened_at=desk.clock.now.replace(day=18)
    )  # business clock: 3 working days back
    await desk.update_ticket(sad, mood=Mood.UNHAPPY, mood_reason="billed twice")
    await desk.customer("Nobody Inc")
    await desk.customer("Potato", owner="U1")
    for index, to in enumerate(["U2", "U3", "U1", "U2"]):
        await desk.chat.say("U_LEAD", f"reassign potato {to} rebalancing the queue, round {index}")
    await desk.tick()
    at(desk.clock, 24, 6, 59)  # Tuesday 07:59 in Berlin
    await desk.update_ticket(quiet, last_activity_at=desk.clock.now)  # only Quiet was touched: the rest are stale
    await desk.tick()
    assert [r for r in desk.got("U_LEAD") if "digest for Tuesday" in r["reply"]["text"]] == []
    await desk.tick(minutes=1)  # 08:00 in Berlin
    [digest] = [r for r in desk.got("U_LEAD") if "digest for Tuesday" in r["reply"]["text"]]
    assert digest["reply"]["text"] == "Good morning <@U_LEAD>: the Support digest for Tuesday 24 November."
    got = fields(digest)
    assert got["Stale tickets"].count("#") == 10 and "Quiet" not in got["Stale tickets"]
    assert got["Service-level breaches"].startswith(
        f"#{late} Late (first response target of 4h (business time) breached at Wed 18 Nov 14:00 UTC)"
    )
    assert "Sad Corp (billed twice)" in got["Unhappy customers"]
    assert got["Unowned customers"] == "Nobody Inc"
    assert "customer Potato (4 moves)" in got["Hot potatoes"]
    assert got["<@U1>"].startswith("7 customer(s), 7 open ticket(s), 7 overdue")
    assert "far above the team median of 3" in got["<@U1>"]
    assert got["<@U2>"] == "4 customer(s), 3 open ticket(s), 3 overdue"  # Potato ended with u2
    assert "far above" not in got["<@U2>"] and got["<@U3>"] == "1 customer(s), 1 open ticket(s), 0 overdue"

    await desk.tick(hours=3)
    assert len([r for r in desk.got("U_LEAD") if "digest for" in r["reply"]["text"]]) == 2  # Monday's and today's
    at(desk.clock, 25, 7)
    await desk.tick()
    assert [r["reply"]["text"] for r in desk.got("U_LEAD") if "digest for" in r["reply"]["text"]][-1].endswith(
        "digest for Wednesday 25 November."
    )


async def test_hand_off_button_opens_the_handoff_flow_with_its_reason(desk: Desk) -> None:
    await desk.ticket("Acme", tier="premium")
    await desk.tick(hours=4)
    [nudge] = desk.got("U1", "no update")
    prompt = await desk.chat.click("U1", *button(nudge, "Hand off"))
    assert prompt.prompt is not None and prompt.prompt.submit_action_id == ActionId.NUDGE_HANDOFF_SUBMIT
    assert "handoff Acme @person <reason>" in prompt.text
    no_reason = await desk.chat.click("U1", ActionId.NUDGE_HANDOFF_SUBMIT, prompt.prompt.value, "U2")
    assert no_reason.error and "needs a reason" in no_reason.text
    nobody = await desk.chat.click("U1", ActionId.NUDGE_HANDOFF_SUBMIT, prompt.prompt.value, "@ghost because reasons")
    assert nobody.error
    async with desk.db.sessions() as session:
        assert (await session.execute(select(HandoffRequest))).first() is None
    offer = await desk.chat.click(
        "U1", ActionId.NUDGE_HANDOFF_SUBMIT, prompt.prompt.value, "U2 they know the export module best"
    )
    assert not offer.error, offer.text
    assert offer.notices[0].to_user_id == "U2" and ("Reason", "they know the export module best") in offer.fields


async def test_admins_change_service_levels_from_chat(desk: Desk) -> None:
    shown = await desk.chat.say("U1", "sla")
    assert (
        "premium",
        "first response 1h, update 4h, resolution 1d; lead after 30m, admins after 1h more (timed from the breach); "
        "clock business hours, urgent 24/7",
    ) in shown.fields
    refused = await desk.chat.say("U_LEAD", "sla premium update 2h")
    assert refused.error and "Only admins" in refused.text
    for bad, words in [
        ("sla premium update soon", "not a duration"),
        ("sla gold update 2h", "not a tier"),
        ("sla premium lunch 2h", "not a target"),
        ("sla premium update 0m", "between 1 minute"),
    ]:
        reply = await desk.chat.say("U_ADMIN", bad)
        assert reply.error and words in reply.text, (bad, reply.text)
    async with desk.db.sessions() as session:
        assert (
            await session.execute(select(ServiceLevel).where(ServiceLevel.workspace_id.is_not(None)))
        ).first() is None

    ticket = await desk.ticket("Acme", tier="premium")
    await desk.tick()
    changed = await desk.chat.say("U_ADMIN", "sla premium update 1h30m")
    assert not changed.error and changed.text == "premium update is now 1h30m."
    assert (
        "premium (changed here)",
        "first response 1h, update 1h30m, resolution 1d; lead after 30m, admins after 1h more (timed from the breach); "
        "clock business hours, urgent 24/7",
    ) in changed.fields
    await desk.tick(hours=1, minutes=29)
    assert desk.got("U1", "no update") == []
    await desk.tick(minutes=1)
    assert len(desk.got("U1", "no update")) == 1 and f"#{ticket}" in desk.got("U1", "no update")[0]["reply"]["text"]


async def test_workhours_refuses_bad_input_and_changes_nothing(desk: Desk) -> None:
    for bad, words in [
        ("workhours 9-5", "not a time of day"),
        ("workhours 09:00-09:00", "must not start and end at the same time"),
        ("workhours 09:00-17:00 --tz Mars/Olympus", "not a time zone"),
        ("workhours 09:00-17:00 --days someday", "not a list of days"),
        ("workhours 0900", "Usage"),
    ]:
        reply = await desk.chat.say("U1", bad)
        assert reply.error and words in reply.text, (bad, reply.text)
    async with desk.db.sessions() as session:
        member = (await session.execute(select(Member).where(Member.platform_user_id == "U1"))).scalar_one()
        assert (member.work_start, member.work_end, member.work_days, member.time_zone) == (
            "09:00",
            "17:00",
            "12345",
            "UTC",
        )
    ok = await desk.chat.say("U1", "workhours 07:30-15:30 --days mon,tue,thu --tz Europe/Lisbon")
    assert ("Hours", "07:30-15:30 Europe/Lisbon") in ok.fields and ("Days", "Mon, Tue, Thu") in ok.fields


async def test_nudges_history_for_a_customer_and_unknown_refs(desk: Desk) -> None:
    await desk.ticket("Acme", tier="premium")
    await desk.tick(hours=4)
    [nudge] = desk.got("U1", "no update")
    await desk.chat.click("U1", *button(nudge, "Done"))
    history = await desk.chat.say("U3", "nudges acme")
    lines = [v for _, v in history.fields]
    assert any(line.startswith("stale done by u1") for line in lines)
    missing = await desk.chat.say("U3", "nudges #999")
    assert missing.error and "no ticket #999" in missing.text
    typo = await desk.chat.say("U3", "nudges acmee")
    assert typo.error and 'Did you mean "Acme"' in typo.text
    assert Tier.PREMIUM.value == "premium"
