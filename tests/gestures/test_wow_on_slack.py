"""Frugal wow on Slack, end to end through POST /slack/events: signed slash commands and `payload=` button
clicks into the real server (app.build_app), a fake Slack recording every Web API call, and the database
checked afterwards. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from app import RUNTIME
from db.models import GestureProposal, GestureStatus, GestureVote
from handlers import ActionId
from jobs.gesture_closer import CloseReport, close_due_proposals
from jobs.outbox_sender import OutboxSender

from ..conftest import Database
from ..slack.conftest import SlackDriver, buttons_of, fake_slack, slack, text_of  # noqa: F401  (fixtures)
from .conftest import messages, rows

CHANNEL = "C0WOW"
AGENTS = ("U1", "U2", "U3")


async def answer(slack: SlackDriver, user: str, text: str) -> str:
    _, key = await slack.command(user, "/ownerbot", text)
    [reply] = slack.fake.posts_to(key)
    return text_of(reply) + "\n" + str(reply.get("text") or "")


async def support_team(slack: SlackDriver) -> None:
    """Team "support" votes in C0WOW: agents U1 U2 U3 and lead U_LEAD; Acme is owned by U1 (Uma)."""
    for user in ("U_ADMIN", "U_LEAD", *AGENTS):
        await slack.command(user, "/mine")
    await answer(slack, "U_ADMIN", "role <@U_LEAD|lee> lead")
    for line in (
        f"team create support --channel {CHANNEL}",
        "team add support <@U_LEAD|lee> --lead yes",
        *(f"team add support <@{u}|{u.lower()}>" for u in AGENTS),
    ):
        said = await answer(slack, "U_ADMIN", line)
        assert "know" not in said and "Usage" not in said, said
    await answer(slack, "U_LEAD", "customer add Acme")
    await answer(slack, "U1", "claim acme")
    slack.fake.reset()


def channel_posts(slack: SlackDriver) -> list[dict[str, Any]]:
    return [c for c in slack.fake.called("chat.postMessage") if c.get("channel") == CHANNEL]


def channel_updates(slack: SlackDriver) -> list[dict[str, Any]]:
    return [c for c in slack.fake.called("chat.update") if c.get("channel") == CHANNEL]


def card_now(slack: SlackDriver, ts: str) -> str:
    """What the card with timestamp `ts` shows after its last chat.update."""
    updates = [u for u in channel_updates(slack) if u["ts"] == ts]
    assert updates, f"the card {ts} was never updated"
    return text_of(updates[-1])


async def card_ts(db: Database, proposal_id: int) -> str:
    [card] = [m for _, m in await messages(db, proposal_id, "card") if m.replaces_id is None]
    assert card.message_id
    return card.message_id


async def tick(slack: SlackDriver, db: Database, hours: float) -> CloseReport:
    """What the scheduler's ticker does, `hours` from now, with the server's own notifiers."""
    later = datetime.now(UTC) + timedelta(hours=hours)
    report = await close_due_proposals(sessions=db.sessions, now=later)
    report.sent = (
        await OutboxSender(db.sessions, slack.client.server.app[RUNTIME].notifiers, lambda: later).send_due()
    ).sent
    return report


async def test_propose_vote_anonymously_and_close_once_on_slack(slack: SlackDriver, db: Database) -> None:
    await support_team(slack)
    assert "Anonymous votes" in await answer(slack, "U_LEAD", "wow settings anonymous on --team support")

    said = await answer(slack, "U2", "wow acme handwritten thank-you card --cost 15 --deadline 24h")
    assert "Proposed gesture #1 for Acme" in said
    [card] = channel_posts(slack)
    assert "Frugal wow #1 for Acme: handwritten thank-you card" in text_of(card)
    buttons = buttons_of(card)
    assert buttons["Yes"] == (ActionId.GESTURE_VOTE_YES, "1") and buttons["No"] == (ActionId.GESTURE_VOTE_NO, "1")
    ts = await card_ts(db, 1)
    message = {"ts": ts, "blocks": card["blocks"]}

    # U1 double-clicks Yes, U3 clicks Yes from three devices at once, U_LEAD clicks No; then U2 votes Yes.
    clicks = [
        slack.click(u, ActionId.GESTURE_VOTE_YES, "1", channel=CHANNEL, message=message)
        for u in ("U1", "U1", "U3", "U3", "U3")
    ]
    clicks.append(slack.click("U_LEAD", *buttons["No"], channel=CHANNEL, message=message))
    await asyncio.gather(*clicks)
    await slack.click("U2", *buttons["Yes"], channel=CHANNEL, message=message)
    votes = await rows(db, GestureVote)
    assert len(votes) == 4 and len({v.member_id for v in votes}) == 4
    assert sorted(v.choice.value for v in votes) == ["no", "yes", "yes", "yes"]

    assert len(channel_posts(slack)) == 1  # never re-posted: updated in place
    updates = channel_updates(slack)
    assert updates and {u["ts"] for u in updates} == {ts}
    shown = text_of(updates[-1])
    assert "3 yes · 1 no" in shown and "anonymous" in shown
    assert not {"Uma", "Kim", "Lee"} & set(shown.replace(",", " ").split())  # Sam proposed it
    assert set(buttons_of(updates[-1])) >= {"Yes", "No"}

    # Not due yet: nothing closes.
    assert (await tick(slack, db, hours=1)).closed == []
    # At the deadline the outcome is announced once, proposer and owner are told, the card is final.
    slack.fake.reset()
    report = await tick(slack, db, hours=25)
    assert report.closed == [1]
    [proposal] = await rows(db, GestureProposal)
    assert (proposal.status, proposal.yes_votes, proposal.no_votes) == (GestureStatus.APPROVED, 3, 1)
    [outcome] = channel_posts(slack)
    assert "Gesture #1 for Acme (handwritten thank-you card) is approved (3 yes, 1 no)" in outcome["text"]
    assert "approved; Uma delivers it" in card_now(slack, ts)
    assert "Yes" not in buttons_of([u for u in channel_updates(slack) if u["ts"] == ts][-1])
    for user in ("U2", "U1"):  # the proposer and Acme's owner
        told = slack.fake.dms_to(user)
        assert told and "is approved" in told[-1]["text"], user
    again = await tick(slack, db, hours=26)
    assert again.closed == [] and len(channel_posts(slack)) == 1


async def test_over_budget_needs_a_lead_button_then_delivered_on_slack(slack: SlackDriver, db: Database) -> None:
    await support_team(slack)
    assert "10.00" in await answer(slack, "U_LEAD", "wow budget 10 --team support")
    said = await answer(slack, "U3", "wow acme small gift basket --cost 15 --deadline 24h")
    assert "Proposed gesture #1" in said and "Over budget" in said
    [card] = channel_posts(slack)
    assert "Over budget" in text_of(card)
    ts = await card_ts(db, 1)
    message = {"ts": ts, "blocks": card["blocks"]}
    for user in ("U1", "U2", "U3"):
        await slack.click(user, ActionId.GESTURE_VOTE_YES, "1", channel=CHANNEL, message=message)

    # An agent cannot confirm an over-budget approval; the lead can, with the button the bot sent.
    slack.fake.reset()
    assert (await tick(slack, db, hours=25)).closed == [1]
    [proposal] = await rows(db, GestureProposal)
    assert proposal.status == GestureStatus.AWAITING_LEAD
    [outcome] = channel_posts(slack)
    assert "a lead must confirm it" in outcome["text"]
    asked = slack.fake.dms_to("U_LEAD")
    assert asked and buttons_of(asked[-1])["Confirm over budget"] == (ActionId.GESTURE_CONFIRM_OVER_BUDGET, "1")
    blocks = asked[-1]["blocks"]
    lead_buttons = [
        e for b in (json.loads(blocks) if isinstance(blocks, str) else blocks) for e in b.get("elements", [])
    ]
    dialogs = {e["text"]["text"]: e["confirm"] for e in lead_buttons if e.get("type") == "button"}
    assert "over the team's monthly budget" in dialogs["Confirm over budget"]["text"]["text"]
    assert dialogs["Decline"]["style"] == "danger" and dialogs["Decline"]["deny"]["text"] == "Cancel"
    _, key = await slack.click("U1", ActionId.GESTURE_CONFIRM_OVER_BUDGET, "1", channel=CHANNEL, message=message)
    assert (await rows(db, GestureProposal))[0].status == GestureStatus.AWAITING_LEAD
    assert key is not None and any(
        "lead" in (text_of(p) + str(p.get("text"))).lower() for p in slack.fake.posts_to(key)
    )
    await slack.click("U_LEAD", *buttons_of(asked[-1])["Confirm over budget"], channel="DU_LEAD", message=asked[-1])
    [proposal] = await rows(db, GestureProposal)
    assert proposal.status == GestureStatus.APPROVED
    assert "approved, confirmed over budget by Lee" in card_now(slack, ts)
    told = slack.fake.dms_to("U1")  # the owner hears what became of it, with the button to finish it
    assert told and "is approved" in told[-1]["text"] and "Uma delivers it" in told[-1]["text"]
    assert buttons_of(told[-1])["Mark delivered"] == (ActionId.GESTURE_DELIVERED, "1")

    # The owner delivers it.
    assert "marked delivered" in await answer(slack, "U1", "wow delivered 1")
    [proposal] = await rows(db, GestureProposal)
    assert proposal.status == GestureStatus.DELIVERED and proposal.delivered_at is not None
    assert "delivered by Uma" in card_now(slack, ts) and not buttons_of(
        [u for u in channel_updates(slack) if u["ts"] == ts][-1]
    )
    assert not [p for p in channel_posts(slack) if "Frugal wow #1" in text_of(p)]  # updated, not re-posted
