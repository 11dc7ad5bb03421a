"""Customer channels over the real /slack/events: a Slack Connect customer's message opens one ticket with the
right owner and tone; thread replies are its timeline; ✅ resolves; retries, bots and unlinked channels change
nothing (issue 14)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from db.models import ChannelMessage, Member, SlackEvent, Ticket, TicketEvent, TicketEventKind, TicketStatus

from ..conftest import Clock, Database
from .conftest import SlackDriver, buttons_of, seeded, slack_env, start_ownerbot, text_of

DASHBOARD_TOKEN = "lead-dashboard-token-0123456789"
SHARED = "C0ACME"  # the Slack Connect channel shared with Acme's own workspace (T9)
ANGRY = "Still broken, third time I ask. This is unacceptable and your support is useless!"


def customer_message(
    text: str, ts: str, *, user: str = "W9", team: str = "T9", channel: str = SHARED, thread: str | None = None
) -> dict[str, Any]:
    event: dict[str, Any] = {
        "type": "message",
        "channel": channel,
        "channel_type": "channel",
        "user": user,
        "text": text,
        "ts": ts,
        "event_ts": ts,
        "team": team,
        "user_team": team,
        "source_team": team,
    }
    if thread:
        event["thread_ts"] = thread
    return event


def agent_message(text: str, ts: str, *, user: str = "U1", thread: str | None = None) -> dict[str, Any]:
    return customer_message(text, ts, user=user, team="T1", thread=thread)


def reaction(user: str, ts: str, name: str = "white_check_mark", channel: str = SHARED) -> dict[str, Any]:
    return {
        "type": "reaction_added",
        "user": user,
        "reaction": name,
        "item": {"type": "message", "channel": channel, "ts": ts},
        "item_user": "W9",
        "event_ts": "1700009999.000001",
    }


async def linked(slack: SlackDriver) -> None:
    """Acme Corp, owned by Uma (U1), with its shared channel linked by the lead."""
    await seeded(slack, "Acme Corp")
    await slack.command("U1", "/claim", "acme corp")
    await slack.command("U2", "/mine")
    _, key = await slack.command("U_LEAD", "/ownerbot", f"customer channel Acme Corp <#{SHARED}|acme-shared>")
    assert "is now Acme Corp's channel" in text_of(slack.fake.posts_to(key)[0]), slack.fake.posts_to(key)
    slack.fake.reset()


async def tickets(db: Database) -> list[Ticket]:
    async with db.sessions() as session:
        return list((await session.execute(select(Ticket).order_by(Ticket.id))).scalars())


async def test_a_customer_message_opens_one_ticket_for_the_owner(slack_at: SlackDriver, db: Database) -> None:
    slack = slack_at
    await linked(slack)
    await slack.event(customer_message(ANGRY, "1700000500.000100"), "Ev0REQ1")
    [ticket] = await tickets(db)
    async with db.sessions() as session:
        owner = await session.get(Member, ticket.owner_id)
        notes = list(
            (
                await session.execute(select(TicketEvent).where(TicketEvent.kind == TicketEventKind.CUSTOMER_MESSAGE))
            ).scalars()
        )
    assert owner is not None and owner.platform_user_id == "U1"
    assert ticket.source == "channel" and ticket.status == TicketStatus.OPEN
    assert ticket.mood.value == "unhappy" and ticket.first_response_at is None
    assert [n.text for n in notes] == [ANGRY] and notes[0].tone_score is not None and notes[0].tone_score < -0.2
    assert ticket.subject.startswith("Still broken, third time I ask.")
    # the owner is named in the customer's thread, in one short line
    [named] = [c for c in slack.fake.called("chat.postMessage") if c["channel"] == SHARED]
    assert named["thread_ts"] == "1700000500.000100" and "Uma" in text_of(named) and f"#{ticket.id}" in text_of(named)
    # and DMed with the customer's words, the tier, the due time and three buttons
    [dm] = slack.fake.dms_to("U1")
    shown = text_of(dm)
    assert ANGRY in shown and "standard" in shown and "First response due" in shown
    assert list(buttons_of(dm)) == ["Take it", "Hand off", "Not a request"]
    assert not slack.fake.dms_to("U2")


async def test_an_agent_reply_stops_the_first_response_clock_and_a_tick_resolves(
    slack_at: SlackDriver, db: Database, clock: Clock
) -> None:
    slack = slack_at
    await linked(slack)
    await slack.event(customer_message("Exports fail since this morning", "1700000600.000100"), "Ev0REQ2")
    opened = clock.now
    clock.advance(minutes=25)
    await slack.event(customer_message("Any news? 🙏", "1700000601.000100", thread="1700000600.000100"), "Ev0REQ2b")
    [ticket] = await tickets(db)
    assert ticket.first_response_at is None  # the customer's own reply is no answer
    clock.advance(minutes=5)
    await slack.event(agent_message("Looking now, Sam", "1700000602.000100", thread="1700000600.000100"), "Ev0ANS")
    [ticket] = await tickets(db)
    assert ticket.first_response_at is not None and ticket.first_response_at - opened == (clock.now - opened)
    # a reaction by the customer resolves nothing; the team's ✅ on the request does
    await slack.event(reaction("W9", "1700000600.000100"), "Ev0RX1")
    await slack.event(reaction("U1", "1700000600.000100", name="thumbsup"), "Ev0RX2")
    [ticket] = await tickets(db)
    assert ticket.status == TicketStatus.OPEN
    await slack.event(reaction("U1", "1700000600.000100"), "Ev0RX3")
    [ticket] = await tickets(db)
    assert ticket.status == TicketStatus.RESOLVED
    # the customer writes back two days later: reopened; after more than seven days: a new request
    clock.advance(days=2)
    await slack.event(customer_message("It broke again", "1700000700.000100", thread="1700000600.000100"), "Ev0BACK")
    [ticket] = await tickets(db)
    assert ticket.status == TicketStatus.OPEN
    await slack.event(reaction("U1", "1700000700.000100"), "Ev0RX4")
    clock.advance(days=8)
    await slack.event(customer_message("And again…", "1700000800.000100", thread="1700000600.000100"), "Ev0LATE")
    first, second = await tickets(db)
    assert first.status == TicketStatus.RESOLVED and second.status == TicketStatus.OPEN
    assert second.owner_id == first.owner_id


async def test_retries_bots_and_unlinked_channels_change_nothing(slack: SlackDriver, db: Database) -> None:
    await linked(slack)
    event = customer_message(ANGRY, "1700000900.000100")
    await slack.event(event, "Ev0RETRY")
    await slack.event(event, "Ev0RETRY", retry=1)  # Slack thought our ack was late
    await slack.event(event, "Ev0RETRY2")  # the same message under another delivery id
    assert len(await tickets(db)) == 1
    assert len([c for c in slack.fake.called("chat.postMessage") if c["channel"] == SHARED]) == 1
    assert len(slack.fake.dms_to("U1")) == 1
    bot = {**customer_message("Thanks, we've got it", "1700000901.000100"), "bot_id": "BBOT", "user": "UBOT"}
    await slack.event(bot, "Ev0BOT")
    other_bot = {**customer_message("Build failed", "1700000902.000100"), "subtype": "bot_message", "bot_id": "B9"}
    await slack.event(other_bot, "Ev0BOT2")
    elsewhere = customer_message(ANGRY, "1700000903.000100", channel="C0RANDOM")
    await slack.event(elsewhere, "Ev0ELSEWHERE")
    await slack.event(reaction("U1", "1700000903.000100", channel="C0RANDOM"), "Ev0ELSEWHERE2")
    assert len(await tickets(db)) == 1
    async with db.sessions() as session:
        stored = set((await session.execute(select(SlackEvent.event_id))).scalars())
        messages = await session.scalar(select(func.count()).select_from(ChannelMessage))
    assert "Ev0ELSEWHERE" not in stored and "Ev0ELSEWHERE2" not in stored  # not even the event id
    assert messages == 1


async def test_edits_update_the_note_and_deletions_stay(slack: SlackDriver, db: Database) -> None:
    await linked(slack)
    await slack.event(customer_message("The export is slow", "1700001000.000100"), "Ev0ED1")
    edited = {
        "type": "message",
        "subtype": "message_changed",
        "channel": SHARED,
        "channel_type": "channel",
        "hidden": True,
        "ts": "1700001001.000100",
        "message": {**customer_message("The export is broken, this is terrible", "1700001000.000100"), "edited": {}},
        "previous_message": customer_message("The export is slow", "1700001000.000100"),
        "event_ts": "1700001001.000100",
    }
    await slack.event(edited, "Ev0ED2")
    deleted = {
        "type": "message",
        "subtype": "message_deleted",
        "channel": SHARED,
        "channel_type": "channel",
        "hidden": True,
        "ts": "1700001002.000100",
        "deleted_ts": "1700001000.000100",
        "previous_message": customer_message("The export is broken, this is terrible", "1700001000.000100"),
        "event_ts": "1700001002.000100",
    }
    await slack.event(deleted, "Ev0ED3")
    async with db.sessions() as session:
        events = list((await session.execute(select(TicketEvent).order_by(TicketEvent.id))).scalars())
    [note] = [e for e in events if e.kind == TicketEventKind.CUSTOMER_MESSAGE]
    assert note.text == "The export is broken, this is terrible" and note.tone_score is not None
    assert note.tone_score < 0
    updates = [e.text or "" for e in events if e.kind == TicketEventKind.UPDATED]
    assert any("edited" in u for u in updates) and any("deleted" in u for u in updates)


async def test_the_customer_never_runs_a_command_and_answers_stay_private(slack: SlackDriver, db: Database) -> None:
    await linked(slack)
    _, key = await slack.command("W9", "/claim", "acme corp", channel=SHARED, team="T1")
    assert "support team only" in text_of(slack.fake.posts_to(key)[0])
    async with db.sessions() as session:
        assert await session.scalar(select(Member).where(Member.platform_user_id == "W9")) is None
    _, key = await slack.command("U1", "/ownerbot", "ticket open Acme Corp Internal: check billing", channel=SHARED)
    [answer] = slack.fake.posts_to(key)
    assert answer.get("response_type") != "in_channel"  # only the agent sees it, never the customer


async def test_linking_rules(slack: SlackDriver, db: Database) -> None:
    await seeded(slack, "Acme Corp", "Globex")
    _, key = await slack.command("U1", "/ownerbot", f"customer channel Acme Corp <#{SHARED}|acme>")
    assert "lead" in text_of(slack.fake.posts_to(key)[0]).lower()
    _, key = await slack.command("U_LEAD", "/ownerbot", f"customer channel acme corp <#{SHARED}|acme> --quiet")
    assert "Acme Corp's channel" in text_of(slack.fake.posts_to(key)[0])
    _, key = await slack.command("U_LEAD", "/ownerbot", f"customer channel Globex <#{SHARED}|acme>")
    assert "already belongs to Acme Corp" in text_of(slack.fake.posts_to(key)[0])
    _, key = await slack.command("U_LEAD", "/ownerbot", "customer channel Globex #acme-shared")
    assert "not a channel I can read" in text_of(slack.fake.posts_to(key)[0])
    await slack.event(customer_message("Hello?", "1700002000.000100"), "Ev0Q1")
    assert not [c for c in slack.fake.called("chat.postMessage") if c["channel"] == SHARED]  # quiet channel
    _, key = await slack.command("U_LEAD", "/ownerbot", f"customer unlink <#{SHARED}|acme>")
    assert "no longer Acme Corp's channel" in text_of(slack.fake.posts_to(key)[0])
    await slack.event(customer_message("Hello again?", "1700002001.000100"), "Ev0Q2")
    assert len(await tickets(db)) == 1  # history kept, nothing new read


async def test_the_dm_buttons_and_the_numbers(
    db: Database, fake_slack: Any, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Take it and Not a request from the owner's DM; the field report and the dashboard count the requests."""
    monkeypatch.setenv("DASHBOARD_TOKEN", DASHBOARD_TOKEN)
    slack_env(monkeypatch, fake_slack)
    client = await start_ownerbot(db, clock)
    try:
        slack = SlackDriver(client, fake_slack)
        await linked(slack)
        await slack.event(customer_message("Can you add SSO for our team?", "1700003000.000100"), "Ev0B1")
        [dm] = slack.fake.dms_to("U1")
        take = buttons_of(dm)["Take it"]
        await slack.click("U2", *take)  # Sam takes it from Uma's DM, shown to him too
        [ticket] = await tickets(db)
        async with db.sessions() as session:
            taker = await session.get(Member, ticket.owner_id)
        assert taker is not None and taker.platform_user_id == "U2"
        clock.advance(minutes=20)
        await slack.event(agent_message("Yes, next sprint", "1700003001.000100", user="U2", thread="1700003000.000100"),
                          "Ev0B2")  # fmt: skip
        await slack.event(customer_message("thanks for lunch 🍕 everyone", "1700003100.000100"), "Ev0B3")
        dismiss = buttons_of(slack.fake.dms_to("U1")[-1])["Not a request"]
        await slack.click("U1", *dismiss)
        first, second = await tickets(db)
        assert second.status == TicketStatus.CLOSED and first.status == TicketStatus.OPEN
        slack.fake.reset()
        _, key = await slack.command("U_LEAD", "/ownerbot", "field")
        shown = text_of(slack.fake.posts_to(key)[0])
        assert "Customer channels (30 days)" in shown and "1 request(s)" in shown
        assert "median first response 20m in business time" in shown and "100% answered within target" in shown
        data = await (
            await client.get(
                "/dashboard.json?workspace=slack:T1", headers={"Authorization": f"Bearer {DASHBOARD_TOKEN}"}
            )
        ).json()
        assert data["requests"]["requests"] == 1 and data["requests"]["within_target"] == 1.0
        assert data["requests"]["per_channel"] == [{"customer": "Acme Corp", "channel_id": SHARED, "requests": 1}]
        assert data["requests"]["median_first_response"] == 20 * 60
    finally:
        await client.close()


async def test_a_slack_connect_member_never_runs_a_command_anywhere(slack: SlackDriver, db: Database) -> None:
    await linked(slack)
    dm = {
        "type": "message",
        "channel_type": "im",
        "channel": "DW9",
        "user": "W9",
        "team": "T9",
        "user_team": "T9",
        "text": "claim acme corp",
        "ts": "1700004000.000100",
        "event_ts": "1700004000.000100",
    }
    await slack.event(dm, "Ev0OUT1")
    mention = {**dm, "type": "app_mention", "channel": "C0OTHER", "text": "<@UBOT> claim acme corp"}
    mention.pop("channel_type")
    await slack.event(mention, "Ev0OUT2")
    async with db.sessions() as session:
        assert await session.scalar(select(Member).where(Member.platform_user_id == "W9")) is None
    said = [text_of(c) for c in slack.fake.called("chat.postMessage") + slack.fake.called("chat.postEphemeral")]
    assert said and all("support team only" in text for text in said)
