"""Budget (flagged proposals, lead confirmation), delivery, reminders, history and the leads' digest."""

from __future__ import annotations

import asyncio

from bot.console import ConsoleNotifier
from db.models import GestureProposal, GestureSettings, GestureStatus, Team
from gestures import budget as wow_budget
from gestures import delivery, views
from handlers import ActionId

from ..conftest import Chat, Clock, Database
from .conftest import button_ids, card_of, count, fields, messages, posts, propose, rows, tick


async def approve(chat: Chat, pid: int) -> None:
    for user in ("U1", "U2", "U3"):
        reply = await chat.click(user, ActionId.GESTURE_VOTE_YES, str(pid))
        assert not reply.error, reply.text


async def status_of(db: Database, pid: int) -> GestureStatus:
    [proposal] = await rows(db, GestureProposal, id=pid)
    return proposal.status


async def test_budget_overrun_needs_a_lead(team_chat: Chat, db: Database, inbox: ConsoleNotifier, clock: Clock) -> None:
    refused = await team_chat.say("U1", "wow budget 10")
    assert refused.error and "Only support's lead" in refused.text
    assert await count(db, GestureSettings) == 0 or (await rows(db, GestureSettings))[0].monthly_budget_cents is None
    set_budget = await team_chat.say("U_LEAD", "wow budget 50")
    assert not set_budget.error and "50.00 USD" in set_budget.text
    await team_chat.say("U_LEAD", "wow settings currency eur")

    first = await propose(team_chat, "U2", "wow acme flowers for the launch --cost 40 --deadline 1h")
    await approve(team_chat, first)
    clock.advance(hours=1)
    await tick(db, inbox, clock)
    assert await status_of(db, first) == GestureStatus.APPROVED

    over = await team_chat.say("U2", "wow acme a dinner voucher --cost 15 --deadline 1h")
    assert dict(over.fields)["Over budget"] == (
        "15.00 EUR would bring this month to 55.00 EUR of 50.00 EUR; if approved, a lead must confirm it"
    )
    second = int(over.text.split("#")[1].split(" ")[0])
    _, card = card_of(inbox, second)
    assert fields(card)["Budget"] == "40.00 EUR of 50.00 EUR used this month"
    assert fields(card)["Over budget"].startswith("15.00 EUR would bring this month to 55.00 EUR")
    [row] = await rows(db, GestureProposal, id=second)
    assert row.over_budget_when_proposed

    await approve(team_chat, second)
    clock.advance(hours=1)
    await tick(db, inbox, clock)
    assert await status_of(db, second) == GestureStatus.AWAITING_LEAD
    outcome = next(r for r in posts(inbox) if r["reply"]["text"].startswith(f"Gesture #{second} "))
    assert "would exceed support's monthly budget" in outcome["reply"]["text"]
    assert button_ids(outcome["reply"]) == [ActionId.GESTURE_CONFIRM_OVER_BUDGET, ActionId.GESTURE_DECLINE_OVER_BUDGET]
    [lead_dm] = posts(inbox, "user-U_LEAD")
    assert button_ids(lead_dm["reply"])[0] == ActionId.GESTURE_CONFIRM_OVER_BUDGET
    digest = await team_chat.say("U_LEAD", "wow budget")
    assert ("Waiting for a lead", f"#{second}") in digest.fields

    agent = await team_chat.click("U1", ActionId.GESTURE_CONFIRM_OVER_BUDGET, str(second))
    assert agent.error and "lead" in agent.text
    assert await status_of(db, second) == GestureStatus.AWAITING_LEAD
    undelivered = await team_chat.say("U1", f"wow delivered {second}")
    assert undelivered.error and "not approved" in undelivered.text

    clicks = await asyncio.gather(  # the lead double-clicks on two devices while an admin confirms too
        *[
            team_chat.click(user, ActionId.GESTURE_CONFIRM_OVER_BUDGET, str(second))
            for _ in range(4)
            for user in ("U_LEAD", "U_ADMIN")
        ]
    )
    assert len([c for c in clicks if not c.error]) == 1
    assert all("not waiting for a lead" in c.text for c in clicks if c.error)
    assert await status_of(db, second) == GestureStatus.APPROVED
    updated = [r for r in inbox.read("channel-C-WOW") if r["message_id"] == outcome["message_id"]][-1]["reply"]
    [decided] = await rows(db, GestureProposal, id=second)
    decider = "u_lead" if decided.decided_by_id == 2 else "u_admin"
    assert f"confirmed over budget by {decider}" in updated["text"] and updated["buttons"] == []
    async with db.sessions() as session:
        assert await wow_budget.budget_used(session, team_id=1, now=clock()) == 5500

    third = await propose(team_chat, "U2", "wow acme concert tickets --cost 30 --deadline 1h")
    await approve(team_chat, third)
    clock.advance(hours=1)
    await tick(db, inbox, clock)
    declined = await team_chat.say("U_LEAD", f"wow decline {third}")
    assert not declined.error and await status_of(db, third) == GestureStatus.DECLINED
    async with db.sessions() as session:
        assert await wow_budget.budget_used(session, team_id=1, now=clock()) == 5500


async def test_delivery_reminders_once_a_day_until_delivered(
    team_chat: Chat, db: Database, inbox: ConsoleNotifier, clock: Clock
) -> None:
    pid = await propose(team_chat, "U2", "wow acme handwritten card --deadline 1h")  # Monday 10:00 UTC
    await approve(team_chat, pid)
    clock.advance(hours=1)
    await tick(db, inbox, clock)
    outcome_dm = posts(inbox, "user-U1")
    assert len(outcome_dm) == 1  # the owner heard the outcome; no reminder yet

    clock.advance(hours=6)  # Monday 17:00: too soon, and after working hours anyway
    assert (await tick(db, inbox, clock)).reminders == 0
    clock.advance(hours=17, minutes=59)  # Tuesday 10:59: not yet a day since the approval
    assert (await tick(db, inbox, clock)).reminders == 0
    clock.advance(minutes=1)  # Tuesday 11:00 UTC: a day after approval, inside U1's working hours
    report = await tick(db, inbox, clock)
    assert report.reminders == 1
    reminders = [r for r in posts(inbox, "user-U1") if r["reply"]["text"].startswith("Reminder")]
    assert len(reminders) == 1
    assert reminders[0]["reply"]["text"] == (
        f"Reminder: gesture #{pid} for Acme was approved on "
        "<!date^1795431600^{date_short_pretty} {time}|2026-11-23 11:00 UTC> and waits for you."
    )
    assert button_ids(reminders[0]["reply"]) == [ActionId.GESTURE_DELIVERED]

    for _ in range(3):  # the ticker runs often; still one reminder per day
        clock.advance(hours=2)
        assert (await tick(db, inbox, clock)).reminders == 0
    assert len([r for r in posts(inbox, "user-U1") if r["reply"]["text"].startswith("Reminder")]) == 1

    clock.advance(hours=18)  # Wednesday 11:00
    await tick(db, inbox, clock)
    assert len([r for r in posts(inbox, "user-U1") if r["reply"]["text"].startswith("Reminder")]) == 2
    purposes = sorted(purpose for purpose, m in await messages(db, pid) if m.replaces_id is None)
    assert purposes == ["card", "outcome", "outcome-dm", "outcome-dm", "reminder-2026-11-24", "reminder-2026-11-25"]

    async with db.sessions() as session:
        [pending] = await delivery.pending_deliveries(session, assignee_id=3)
        assert (pending.proposal_id, pending.assignee_user_id, pending.customer_name) == (pid, "U1", "Acme")

    outsider = await team_chat.click("U3", ActionId.GESTURE_DELIVERED, str(pid))
    assert outsider.error and "Only the assignee" in outsider.text
    clicks = await asyncio.gather(
        *[team_chat.click(user, ActionId.GESTURE_DELIVERED, str(pid)) for _ in range(3) for user in ("U1", "U_LEAD")]
    )
    [done] = [c for c in clicks if not c.error]
    assert "marked delivered" in done.text
    again = await team_chat.say("U1", f"wow delivered {pid}")
    assert again.error and "already marked delivered" in again.text
    _, card = card_of(inbox, pid)
    assert fields(card)["Status"].startswith("delivered by u") and card["buttons"] == []

    clock.advance(days=1)
    assert (await tick(db, inbox, clock)).reminders == 0
    async with db.sessions() as session:
        assert await delivery.pending_deliveries(session, assignee_id=3) == []


async def test_reassign_delivery_and_digest_and_history(
    team_chat: Chat, db: Database, inbox: ConsoleNotifier, clock: Clock
) -> None:
    await team_chat.say("U_LEAD", "wow budget 100")
    pid = await propose(team_chat, "U2", "wow acme a printed thank-you poster --cost 12.50 --deadline 1h")
    lost = await propose(team_chat, "U2", "wow acme a cake --deadline 1h")
    await approve(team_chat, pid)
    clock.advance(hours=1)
    await tick(db, inbox, clock)

    handed = await team_chat.say("U1", f"wow assign {pid} <@U3>")
    assert not handed.error and "<@U3> delivers gesture" in handed.text
    [assigned] = posts(inbox, "user-U3")
    assert assigned["reply"]["text"] == f"You were asked to deliver gesture #{pid} for Acme."

    async with db.sessions() as session:
        team_id = (await session.get(Team, 1)).id  # type: ignore[union-attr]
        digest = await views.gesture_digest(session, team_id=team_id, now=clock())
    assert (digest.budget_cents, digest.used_cents, digest.remaining_cents) == (10000, 1250, 8750)
    assert [(d.proposal_id, d.assignee_name) for d in digest.pending] == [(pid, "u3")]
    shown = await team_chat.say("U_LEAD", "wow budget")
    assert ("Budget", "12.50 USD of 100.00 USD used") in shown.fields
    assert (f"To deliver: #{pid} Acme", "a printed thank-you poster (u3)") in shown.fields

    listed = await team_chat.say("U2", "wow list")
    assert listed.fields == [(f"#{pid} Acme", "a printed thank-you poster (12.50 USD): approved, u3 delivers it")]
    history = await team_chat.say("U3", "wow history acme")
    assert [value for _, value in history.fields] == [
        "a cake (free): closed without quorum",
        "a printed thank-you poster (12.50 USD): approved, waiting to be delivered",
    ]
    assert lost != pid
