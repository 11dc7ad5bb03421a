"""Each nudge kind and each step of the escalation ladder, by time travel, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from db.models import DeliveryStatus, Mood, NudgeEpisode, NudgeKind, Priority, Ticket, TicketStatus
from handlers import ActionId

from .conftest import Desk, at, button, fields


async def test_stale_ticket_climbs_owner_lead_admins_and_is_recorded(desk: Desk) -> None:
    ticket = await desk.ticket("Acme", tier="premium")  # premium: update 4h, lead after 30m, admins after 60m
    await desk.tick()
    assert desk.nudges("U1") == []

    await desk.tick(hours=3, minutes=59)
    assert desk.nudges("U1") == []
    await desk.tick(minutes=1)  # 14:00, four hours without activity
    [first] = desk.nudges("U1")
    assert first["reply"]["text"].startswith(f"Ticket #{ticket} (Acme: Export times out) has had no update")
    labels = [b["label"] for b in first["reply"]["buttons"]]
    assert labels == ["Done", "Snooze 1h", "Snooze 4h", "Snooze to next working morning", "Hand off"]

    await desk.tick()
    await desk.tick(minutes=29)
    assert len(desk.nudges("U1")) == 1 and desk.nudges("U_LEAD") == []  # no doubles, no early escalation
    await desk.tick(minutes=1)  # 30 minutes ignored: the lead hears
    [lead] = desk.nudges("U_LEAD")
    assert "climbed to you" in fields(lead)["Escalation"]
    assert desk.nudges("U_ADMIN") == []
    await desk.tick(minutes=60)  # the lead ignored it for an hour: the head of support
    [admin] = desk.nudges("U_ADMIN")
    assert "no update" in admin["reply"]["text"]
    await desk.tick(hours=5)
    assert [len(desk.nudges(u)) for u in ("U1", "U_LEAD", "U_ADMIN")] == [1, 1, 1]  # the ladder ends

    history = await desk.chat.say("U2", f"nudges #{ticket}")
    lines = [value for _, value in history.fields]
    assert any("stale (ticket #" in line for line in lines)
    assert any("→ u1 (owner, step 1/3): sent" in line for line in lines)
    assert any("→ u_lead (lead, step 2/3): sent" in line for line in lines)
    assert any("→ u_admin (admin, step 3/3): sent" in line for line in lines)


async def test_done_stops_the_ladder_and_new_activity_starts_a_new_episode(desk: Desk) -> None:
    ticket = await desk.ticket("Acme", tier="premium")
    await desk.tick(hours=4)
    [nudge] = desk.nudges("U1")
    action_id, value = button(nudge, "Done")
    done = await desk.chat.click("U1", action_id, value)
    assert not done.error and done.replace_original, done.text
    again = await desk.chat.click("U1", action_id, value)
    assert again.error and "Already done by u1" in again.text
    await desk.tick(hours=3)
    assert desk.nudges("U_LEAD") == [] and desk.nudges("U_ADMIN") == []

    await desk.update_ticket(ticket, last_activity_at=desk.clock.now)  # 17:00: the owner wrote to the customer
    await desk.tick(hours=4)  # 21:00: four hours later, but the business clock stopped at 17:00
    assert len(desk.got("U1", "no update")) == 1
    await desk.tick(hours=15, minutes=59)  # Tuesday 12:59: three business hours
    assert len(desk.got("U1", "no update")) == 1
    await desk.tick(minutes=1)  # Tuesday 13:00: four business hours without an update
    assert len(desk.got("U1", "no update")) == 2  # a new episode, since the new activity


async def test_stranger_cannot_mark_done(desk: Desk) -> None:
    await desk.ticket("Acme", tier="premium")
    await desk.tick(hours=4)
    [nudge] = desk.nudges("U1")
    refused = await desk.chat.click("U2", *button(nudge, "Done"))
    assert refused.error and "Only the person this nudge was for" in refused.text
    async with desk.db.sessions() as session:
        assert (
            await session.execute(select(NudgeEpisode.done_at).where(NudgeEpisode.kind == NudgeKind.STALE))
        ).scalar_one() is None


async def test_first_response_warning_then_breach_and_pending_pauses_the_clock(desk: Desk) -> None:
    # standard: first response 4h, so the warning comes at 3h (75 %), the breach at 4h
    paused = await desk.ticket(
        "Globex",
        owner="U2",
        responded=False,
        subject="Login broken",
        status=TicketStatus.PENDING,
        pending_since=desk.clock.now,
    )
    ticket = await desk.ticket("Acme", responded=False, pending_seconds=3600)  # 1 h already paused earlier
    await desk.tick(hours=3, minutes=59)  # 13:59: 2 h 59 of running clock
    assert desk.nudges("U1") == []
    await desk.tick(minutes=1)
    [warning] = desk.nudges("U1")
    assert "about to miss its service level" in warning["reply"]["text"]
    assert "first response target of 4h" in fields(warning)["Why"]
    await desk.tick(minutes=59)
    assert len(desk.nudges("U1")) == 1
    await desk.tick(minutes=1)  # 15:00 = opened + 4 h + 1 h paused
    breach = desk.nudges("U1")[-1]
    assert "missed its service level" in breach["reply"]["text"]
    assert desk.nudges("U2") == []  # pending on the customer the whole time: no clock, no nudge

    await desk.update_ticket(ticket, first_response_at=desk.clock.now)
    await desk.tick(hours=2)  # the breach was answered: it does not climb to the lead
    assert [r for r in desk.nudges("U_LEAD") if f"#{ticket}" in r["reply"]["text"]] == []
    await desk.update_ticket(paused, status=TicketStatus.OPEN, pending_since=None, pending_seconds=5 * 3600)
    await desk.tick(minutes=1)
    assert desk.nudges("U2") == []  # the clock only resumed now


async def test_unhappy_and_bad_csat_are_followed_up(desk: Desk) -> None:
    ticket = await desk.ticket("Acme")
    await desk.update_ticket(ticket, mood=Mood.UNHAPPY, mood_reason="angry about the outage")
    await desk.tick()
    [nudge] = desk.nudges("U1")
    assert "unhappy" in nudge["reply"]["text"] and fields(nudge)["Why"] == "angry about the outage"
    await desk.chat.click("U1", *button(nudge, "Done"))
    await desk.tick(hours=3)
    assert desk.nudges("U_LEAD") == []

    other = await desk.ticket("Globex", owner="U2")
    await desk.update_ticket(other, csat="1")
    await desk.tick()
    [bad] = desk.nudges("U2")
    assert "CSAT 1" in fields(bad)["Why"]
    await desk.tick(hours=2)  # standard: the lead hears after 2 h of silence
    assert any("Globex" in r["reply"]["text"] for r in desk.nudges("U_LEAD"))

    await desk.update_ticket(ticket, mood_reason="the fix broke their export again")  # a new complaint
    await desk.tick()
    assert len([r for r in desk.nudges("U1") if "unhappy" in r["reply"]["text"]]) == 2


async def test_check_in_after_resolution_and_not_happy_restarts_the_unhappy_loop(desk: Desk) -> None:
    ticket = await desk.ticket("Acme")
    await desk.update_ticket(ticket, status=TicketStatus.RESOLVED, resolved_at=desk.clock.now)
    await desk.tick(days=2, hours=23)
    assert desk.nudges("U1") == []
    await desk.tick(hours=1)  # Thursday 10:00, three days later
    [check_in] = desk.nudges("U1")
    assert "Is the customer really happy?" in check_in["reply"]["text"]
    prompt = await desk.chat.click("U1", *button(check_in, "Not happy"))
    assert prompt.prompt is not None and prompt.prompt.submit_action_id == ActionId.NUDGE_NOT_HAPPY_SUBMIT
    short = await desk.chat.click("U1", ActionId.NUDGE_NOT_HAPPY_SUBMIT, prompt.prompt.value, "meh")
    assert short.error
    async with desk.db.sessions() as session:
        assert (await session.get(Ticket, ticket)).mood == Mood.NEUTRAL  # type: ignore[union-attr]
    answered = await desk.chat.click(
        "U1", ActionId.NUDGE_NOT_HAPPY_SUBMIT, prompt.prompt.value, "reports still arrive empty"
    )
    assert not answered.error, answered.text
    async with desk.db.sessions() as session:
        row = await session.get(Ticket, ticket)
        assert row is not None and row.mood == Mood.UNHAPPY and "reports still arrive empty" in (row.mood_reason or "")
    await desk.tick()
    unhappy = desk.nudges("U1")[-1]
    assert "unhappy" in unhappy["reply"]["text"] and "reports still arrive empty" in fields(unhappy)["Why"]
    await desk.tick(hours=2)
    assert any("unhappy" in r["reply"]["text"] for r in desk.nudges("U_LEAD"))  # the loop climbs again


async def test_happy_check_in_ends_it(desk: Desk) -> None:
    ticket = await desk.ticket("Acme")
    await desk.update_ticket(ticket, status=TicketStatus.RESOLVED, resolved_at=desk.clock.now)
    await desk.tick(days=3)
    [check_in] = desk.nudges("U1")
    happy = await desk.chat.click("U1", *button(check_in, "Customer is happy"))
    assert "happy" in happy.text
    await desk.tick(days=1)
    assert desk.nudges("U_LEAD") == [] and len(desk.nudges("U1")) == 1


async def test_handoff_not_accepted_goes_to_the_receiver_then_the_lead(desk: Desk) -> None:
    await desk.customer("Acme", owner="U1")
    offer = await desk.chat.say("U1", "handoff acme U2 customer needs a German speaker")
    assert not offer.error
    await desk.tick(hours=3, minutes=59)
    assert desk.nudges("U2") == []
    await desk.tick(minutes=1)
    [waiting] = desk.nudges("U2")
    assert "handoff of Acme is waiting" in waiting["reply"]["text"]
    assert "`accept <customer>`" in fields(waiting)["Answer it"]
    await desk.tick(hours=2)  # standard tier: the lead after 2 h
    assert any("handoff of Acme" in r["reply"]["text"] for r in desk.nudges("U_LEAD"))

    at(desk.clock, 24, 9)  # Tuesday morning
    await desk.chat.say("U_LEAD", "customer add Globex")
    await desk.chat.say("U1", "claim globex")
    await desk.chat.say("U1", "handoff globex U3 moving to the billing queue")
    await desk.tick(hours=4)
    assert len(desk.nudges("U3")) == 1
    await desk.chat.say("U3", "accept globex")
    await desk.tick(hours=3)
    assert not any("Globex" in r["reply"]["text"] for r in desk.nudges("U_LEAD"))


async def test_unowned_customer_goes_to_the_lead_then_admins(desk: Desk) -> None:
    await desk.customer("Acme")
    await desk.customer("Globex")
    await desk.tick(minutes=59)
    assert desk.nudges("U_LEAD") == []
    await desk.tick(minutes=1)
    assert sorted(r["reply"]["text"] for r in desk.nudges("U_LEAD")) == ["Acme has no owner.", "Globex has no owner."]
    await desk.chat.say("U1", "claim acme")
    await desk.tick(hours=2)  # standard: admins after the lead ignored it for 4h? no: lead_after applies first
    await desk.tick(hours=4)
    admin_texts = [r["reply"]["text"] for r in desk.nudges("U_ADMIN")]
    assert admin_texts == ["Globex has no owner."]  # Acme was claimed: its ladder stopped

    await desk.chat.say("U1", "release acme going on parental leave for months")  # 17:00
    await desk.tick(hours=1)
    assert [r["reply"]["text"] for r in desk.nudges("U_LEAD")].count("Acme has no owner.") == 1  # after hours
    await desk.tick(hours=15)  # Tuesday 09:00
    assert [r["reply"]["text"] for r in desk.nudges("U_LEAD")].count("Acme has no owner.") == 2


async def test_hot_potato_after_more_than_three_moves(desk: Desk) -> None:
    await desk.customer("Acme", owner="U1")
    ticket = await desk.ticket("Acme")
    moves = ["U2", "U3", "U1", "U2"]
    for index, to in enumerate(moves):
        reply = await desk.chat.say("U_LEAD", f"reassign acme {to} rebalancing the queue, round {index}")
        assert not reply.error, reply.text
        await desk.tick(minutes=1)
        hot = [r for r in desk.nudges("U_LEAD") if "keeps changing hands" in r["reply"]["text"]]
        assert (len(hot) > 0) == (index == 3)
    texts = sorted(r["reply"]["text"] for r in desk.nudges("U_LEAD") if "changing hands" in r["reply"]["text"])
    assert texts == ["Acme keeps changing hands."]  # one nudge: the customer's speaks for its ticket too
    assert f"#{ticket}" not in str(desk.nudges("U_LEAD"))


async def test_escalation_runs_on_the_tickets_business_clock(desk: Desk) -> None:
    """Stale needs four business hours: from 15:00 that is Tuesday 11:00 (17:00 closes Monday); the lead hears
    30 business minutes after the breach, at 11:30, timed from the breach and not from the owner's message."""
    ticket = await desk.ticket("Acme", tier="premium")
    await desk.update_ticket(ticket, last_activity_at=desk.clock.now + timedelta(hours=5))  # 15:00
    await desk.tick(hours=9)  # 19:00
    assert desk.nudges("U1") == []
    await desk.tick(hours=15, minutes=59)  # Tuesday 10:59
    assert desk.nudges("U1") == []
    await desk.tick(minutes=1)  # 11:00
    assert len(desk.got("U1", "no update")) == 1 and desk.got("U_LEAD", "no update") == []
    await desk.tick(minutes=29)
    assert desk.got("U_LEAD", "no update") == []
    await desk.tick(minutes=1)
    assert len(desk.got("U_LEAD", "no update")) == 1


async def test_urgent_priority_shortens_the_targets(desk: Desk) -> None:
    await desk.ticket("Acme", priority=Priority.URGENT)  # standard update 24 h x 0.25 = 6 h
    await desk.tick(hours=5, minutes=59)
    assert desk.nudges("U1") == []
    await desk.tick(minutes=1)
    assert len(desk.nudges("U1")) == 1
    assert DeliveryStatus.SENT in {d.status for d in await desk.deliveries()}
