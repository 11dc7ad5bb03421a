"""Frugal wow on Teams, end to end through POST /api/messages: real Teams activity JSON (messages, Action.Submit
clicks and `adaptiveCard/action` invokes) into the real server (app.build_app), a fake Bot Connector
recording what the bot sent, and the database checked afterwards. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from app import RUNTIME, build_app
from bot.settings import Settings
from db.models import GestureProposal, GestureStatus, GestureVote, Platform
from handlers import ActionId
from jobs.gesture_closer import CloseReport, close_due_proposals
from jobs.outbox_sender import OutboxSender

from ..conftest import Database
from ..slack.conftest import SLACK_ENV
from ..teams.conftest import CHANNEL, PEOPLE, TeamsWire, actions_of, card_of, connector, text_of  # noqa: F401 (fixture)
from ..teams.fake_connector import FakeBotConnector
from .conftest import messages, rows

VOTERS = ("ann", "sam", "kim", "lee")


@pytest.fixture
async def wire(db: Database, connector: FakeBotConnector, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[TeamsWire]:
    """ownerbot's real server (build_app, so the notifiers are the composition root's) with Teams in emulator
    mode on loopback and Slack off, in front of the fake Bot Connector."""
    for name in (*SLACK_ENV, "MICROSOFT_APP_ID", "MICROSOFT_APP_PASSWORD", "MICROSOFT_APP_TENANT_ID", "HOST"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TEAMS_RETRY_BASE_SECONDS", "0")
    monkeypatch.setenv("TEAMS_EMULATOR", "true")  # emulator mode only when asked for
    monkeypatch.setenv("TEAMS_SERVICE_HOSTS", "127.0.0.1")  # the fake Bot Connector
    app, statuses = await build_app(Settings(database_url=db.url, ownerbot_admins=frozenset({PEOPLE["admin"][0]})))
    assert any(s.name == "teams" and s.enabled for s in statuses), statuses
    client = TestClient(TestServer(app, host="127.0.0.1"))
    await client.start_server()
    yield TeamsWire(client, connector, app[RUNTIME].notifiers[Platform.TEAMS], outbox=app[RUNTIME].outbox)
    await client.close()


def said_to(wire: TeamsWire, who: str) -> str:
    return text_of(wire.dm(who)[-1])


async def support_team(wire: TeamsWire) -> None:
    """ownerbot is added to the support team (so it knows the channel); team "support" votes in that channel:
    ann, sam, kim and the lead lee. Acme is owned by ann."""
    await wire.members_added([{"id": "28:ownerbot-app-id"}, *(wire.account(w) for w in ("admin", *VOTERS))])
    for who in ("admin", *VOTERS):
        await wire.say(who, "mine")
    await wire.say("admin", "role @lee lead", mentions=["lee"])
    await wire.say("admin", f"team create support --channel {CHANNEL}")
    assert "error" not in said_to(wire, "admin").lower(), said_to(wire, "admin")
    await wire.say("admin", "team add support @lee --lead yes", mentions=["lee"])
    for who in ("ann", "sam", "kim"):
        await wire.say("admin", f"team add support @{who}", mentions=[who])
        assert "know" not in said_to(wire, "admin"), said_to(wire, "admin")
    await wire.say("lee", "customer add Acme")
    await wire.say("ann", "claim acme")
    assert said_to(wire, "ann") == "<at>Ann Agent</at> now owns Acme."


def channel_posts(wire: TeamsWire) -> list[dict[str, Any]]:
    return [r.body for r in wire.connector.sent("POST", f"/v3/conversations/{CHANNEL}/activities")]


def card_updates(wire: TeamsWire, activity_id: str) -> list[dict[str, Any]]:
    return [r.body for r in wire.connector.sent("PUT", f"/v3/conversations/{CHANNEL}/activities/{activity_id}")]


async def card_id(db: Database, proposal_id: int) -> str:
    [card] = [m for _, m in await messages(db, proposal_id, "card") if m.replaces_id is None]
    assert card.message_id and card.message_channel == CHANNEL
    return card.message_id


async def tick(wire: TeamsWire, db: Database, hours: float) -> CloseReport:
    """What the scheduler's ticker does, `hours` from now, with the server's own notifiers."""
    later = datetime.now(UTC) + timedelta(hours=hours)
    report = await close_due_proposals(sessions=db.sessions, now=later)
    report.sent = (
        await OutboxSender(db.sessions, wire.client.server.app[RUNTIME].notifiers, lambda: later).send_due()
    ).sent
    return report


async def test_propose_vote_anonymously_and_close_once_on_teams(wire: TeamsWire, db: Database) -> None:
    await support_team(wire)
    await wire.say("lee", "wow settings anonymous on --team support")
    assert "Anonymous votes: on" in said_to(wire, "lee")

    await wire.say("sam", "wow acme handwritten thank-you card --cost 15 --deadline 24h")
    assert "Proposed gesture #1 for Acme" in said_to(wire, "sam")
    [card_post] = channel_posts(wire)  # a proactive post into the team's channel
    card = card_of(card_post)
    assert "Frugal wow #1 for Acme: handwritten thank-you card" in text_of(card)
    buttons = actions_of(card)
    assert buttons["Yes"]["action_id"] == ActionId.GESTURE_VOTE_YES and buttons["Yes"]["value"] == "1"
    assert buttons["No"]["action_id"] == ActionId.GESTURE_VOTE_NO
    posted = await card_id(db, 1)

    # ann double-clicks Yes (Action.Submit from the channel), kim clicks Yes from three devices at once
    # (Action.Execute invokes), lee clicks No; then sam votes Yes.
    clicks = [wire.submit("ann", buttons["Yes"], reply_to=posted, channel=True) for _ in range(2)]
    clicks += [wire.invoke("kim", buttons["Yes"], reply_to=posted, channel=True) for _ in range(3)]
    clicks.append(wire.submit("lee", buttons["No"], reply_to=posted, channel=True))
    for response in await asyncio.gather(*clicks):
        assert response.status == 200, await response.text()
    answered = await wire.invoke("sam", buttons["Yes"], reply_to=posted, channel=True)
    assert answered.status == 200
    body = await answered.json()  # Action.Execute: the answer is shown to the clicker alone
    assert body["type"] == "application/vnd.microsoft.activity.message" and "You voted yes" in body["value"]
    votes = await rows(db, GestureVote)
    assert len(votes) == 4 and len({v.member_id for v in votes}) == 4
    assert sorted(v.choice.value for v in votes) == ["no", "yes", "yes", "yes"]

    assert len([p for p in channel_posts(wire) if p.get("attachments")]) == 1  # the card is never re-posted
    updates = card_updates(wire, posted)
    assert updates
    shown = text_of(updates[-1])
    assert "3 yes · 1 no" in shown and "anonymous" in shown
    assert not {"Ann", "Kim", "Lee"} & set(shown.replace(",", " ").split())  # Sam Jones proposed it
    # Nobody's vote is said in the channel either.
    said_in_channel = [r.body.get("text") or "" for r in wire.connector.sent("POST", CHANNEL)]  # threads too
    assert not [t for t in said_in_channel if "You voted" in t], said_in_channel
    assert "You voted no on gesture #1" in text_of(wire.dm("lee")[-1])  # Action.Submit: answered in private

    assert (await tick(wire, db, hours=1)).closed == []
    report = await tick(wire, db, hours=25)
    assert report.closed == [1]
    [proposal] = await rows(db, GestureProposal)
    assert (proposal.status, proposal.yes_votes, proposal.no_votes) == (GestureStatus.APPROVED, 3, 1)
    outcomes = [p for p in channel_posts(wire) if "is approved" in text_of(p)]
    assert len(outcomes) == 1
    assert "Gesture #1 for Acme (handwritten thank-you card) is approved (3 yes, 1 no)" in text_of(outcomes[0])
    final = card_updates(wire, posted)[-1]
    assert "approved; Ann Agent delivers it" in text_of(final) and "Yes" not in actions_of(card_of(final))
    for who in ("sam", "ann"):  # the proposer and Acme's owner
        assert "is approved" in text_of(wire.dm(who)[-1]), who
    again = await tick(wire, db, hours=26)
    assert again.closed == [] and len([p for p in channel_posts(wire) if "is approved" in text_of(p)]) == 1


async def test_over_budget_needs_a_lead_button_then_delivered_on_teams(wire: TeamsWire, db: Database) -> None:
    await support_team(wire)
    await wire.say("lee", "wow budget 10 --team support")
    assert "10.00" in said_to(wire, "lee")
    await wire.say("kim", "wow acme small gift basket --cost 15 --deadline 24h")
    assert "Proposed gesture #1" in said_to(wire, "kim") and "Over budget" in said_to(wire, "kim")
    [card_post] = channel_posts(wire)
    assert "Over budget" in text_of(card_post)
    posted = await card_id(db, 1)
    yes = actions_of(card_of(card_post))["Yes"]
    for who in ("ann", "sam", "kim"):
        assert (await wire.submit(who, yes, reply_to=posted, channel=True)).status == 200

    assert (await tick(wire, db, hours=25)).closed == [1]
    [proposal] = await rows(db, GestureProposal)
    assert proposal.status == GestureStatus.AWAITING_LEAD
    assert [p for p in channel_posts(wire) if "a lead must confirm it" in text_of(p)]
    asked = wire.dm("lee")[-1]  # the lead is asked, with buttons
    confirm = actions_of(card_of(asked))["Confirm over budget"]
    assert confirm["action_id"] == ActionId.GESTURE_CONFIRM_OVER_BUDGET and confirm["value"] == "1"

    # An agent's click is refused and changes nothing; the lead's click (an invoke in their chat) approves it.
    await wire.submit("ann", confirm, reply_to=posted, channel=True)
    assert (await rows(db, GestureProposal))[0].status == GestureStatus.AWAITING_LEAD
    assert "lead" in text_of(wire.dm("ann")[-1]).lower()
    assert (await wire.invoke("lee", confirm, reply_to="lead-card-1")).status == 200
    [proposal] = await rows(db, GestureProposal)
    assert proposal.status == GestureStatus.APPROVED
    assert "approved, confirmed over budget by Lee Lead" in text_of(card_updates(wire, posted)[-1])
    told = wire.dm("ann")[-1]  # the owner hears what became of it, with the button to finish it
    assert "is approved" in text_of(told) and "Ann Agent delivers it" in text_of(told)
    assert actions_of(card_of(told))["Mark delivered"]["action_id"] == ActionId.GESTURE_DELIVERED

    await wire.say("ann", "wow delivered 1")
    assert "marked delivered" in said_to(wire, "ann")
    [proposal] = await rows(db, GestureProposal)
    assert proposal.status == GestureStatus.DELIVERED and proposal.delivered_at is not None
    final = card_of(card_updates(wire, posted)[-1])
    assert "delivered by Ann Agent" in text_of(final) and not actions_of(final)
    assert len([p for p in channel_posts(wire) if "Frugal wow #1" in text_of(p)]) == 1  # updated, not re-posted
