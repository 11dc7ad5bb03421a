"""Nudges on Slack, at the wire: signed slash commands and `payload=` button clicks into the real server
(app.build_app), the server's own nudge sweeper (from app[JOBS]) ticking with a time-travel clock,
and a fake Slack Web API recording every DM. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from app import JOBS
from db.models import (
    DeliveryStatus,
    HandoffRequest,
    Member,
    NudgeDelivery,
    NudgeEpisode,
    NudgeKind,
    OutboxMessage,
    OutboxStatus,
    Ticket,
)
from jobs.nudge_sweep import NudgeSweeper, TickResult

from ..conftest import Clock, Database
from ..slack.conftest import FakeSlack, SlackDriver, buttons_of, fake_slack, slack_env, start_ownerbot, text_of  # noqa: F401  (fixtures)

LABELS = ["Done", "Snooze 1h", "Snooze 4h", "Snooze to next working morning", "Hand off"]


class Desk:
    """The Slack face and the server's sweeper on the server's one clock (Monday 23 November 2026, 08:00 UTC)."""

    def __init__(self, slack: SlackDriver, db: Database, clock: Clock) -> None:
        self.slack, self.db, self.clock = slack, db, clock
        clock.now = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)  # 09:00 in Berlin, where Uma and Lee work
        self.sweeper: NudgeSweeper = slack.client.server.app[JOBS].nudges

    async def answer(self, user: str, text: str) -> str:
        _, key = await self.slack.command(user, "/ownerbot", text)
        [reply] = self.slack.fake.posts_to(key)
        return text_of(reply) + "\n" + str(reply.get("text") or "")

    async def stale_ticket(self) -> int:
        """Acme (premium: no update for 4h is stale, the lead hears 30 min later) is Uma's; Uma opens a ticket."""
        for user in ("U_ADMIN", "U_LEAD", "U1", "U2"):
            await self.slack.command(user, "/mine")
        await self.answer("U_ADMIN", "role <@U_LEAD|lee> lead")
        assert "Europe/Berlin" in await self.answer("U_ADMIN", "hours set mon-fri 09:00-17:00 --tz Europe/Berlin")
        assert "Added" in await self.answer("U_LEAD", "customer add Acme --tier premium")
        assert "now own" in await self.answer("U1", "claim acme")
        said = await self.answer("U1", "ticket open acme Export times out")
        assert "#" in said and "Usage" not in said, said
        async with self.db.sessions() as session:
            ticket = (await session.execute(select(Ticket))).scalar_one()
        assert ticket.opened_at == self.clock.now
        said = await self.answer("U1", f"ticket note {ticket.id} Asked for the export log")  # the first response
        async with self.db.sessions() as session:
            ticket = (await session.execute(select(Ticket))).scalar_one()
        assert ticket.first_response_at == self.clock.now, said
        await self.sweeper.tick()  # 08:00 UTC is the start of Lee's day: the lead's daily digest goes out
        [digest] = self.dms("U_LEAD")
        assert "digest" in digest["text"]
        self.slack.fake.reset()
        return ticket.id

    async def tick(self, **advance: float) -> TickResult:
        self.clock.advance(**advance)
        return await self.sweeper.tick()

    def dms(self, user: str) -> list[dict[str, Any]]:
        return self.slack.fake.dms_to(user)

    def nudges(self, user: str) -> list[dict[str, Any]]:
        return [m for m in self.dms(user) if "no update" in m["text"]]

    async def click(self, user: str, message: dict[str, Any], label: str) -> str:
        """Press a button on a DM the bot sent, as Slack sends it (the action_id and value from its blocks)."""
        action_id, value = buttons_of(message)[label]
        _, key = await self.slack.click(user, action_id, value, channel=f"D{user}", message=message)
        assert key is not None
        answers = self.slack.fake.posts_to(key)
        assert answers, f"no answer to {label!r}"
        return text_of(answers[-1]) + "\n" + str(answers[-1].get("text") or "")

    async def episode(self) -> NudgeEpisode:
        async with self.db.sessions() as session:
            return (
                await session.execute(select(NudgeEpisode).where(NudgeEpisode.kind == NudgeKind.STALE))
            ).scalar_one()

    async def deliveries(self) -> list[NudgeDelivery]:
        async with self.db.sessions() as session:
            return list(
                (
                    await session.execute(
                        select(NudgeDelivery).where(NudgeDelivery.kind == NudgeKind.STALE).order_by(NudgeDelivery.id)
                    )
                ).scalars()
            )


@pytest.fixture
async def slack(
    db: Database, fake_slack: FakeSlack, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[SlackDriver]:
    """ownerbot's real server with Slack on, in front of the fake Slack, running on the test's clock."""
    slack_env(monkeypatch, fake_slack)
    client = await start_ownerbot(db, clock)
    yield SlackDriver(client, fake_slack)
    await client.close()


@pytest.fixture
def desk(slack: SlackDriver, db: Database, clock: Clock) -> Desk:
    return Desk(slack, db, clock)


def action_ids_unique_per_block(message: dict[str, Any]) -> bool:
    blocks = message["blocks"]
    blocks = json.loads(blocks) if isinstance(blocks, str) else blocks
    for block in blocks:
        ids = [e["action_id"] for e in block.get("elements", []) if "action_id" in e]
        if len(ids) != len(set(ids)):
            return False
    return True


async def test_stale_ticket_dm_with_buttons_snooze_then_remind_then_done(desk: Desk) -> None:
    ticket = await desk.stale_ticket()
    await desk.tick(hours=3, minutes=59)
    assert desk.dms("U1") == []
    result = await desk.tick(minutes=1)  # 12:00 UTC: four hours without an update
    assert result.sent == 1
    [nudge] = desk.dms("U1")  # conversations.open, then chat.postMessage into the DM
    assert desk.slack.fake.called("conversations.open")[-1]["users"] == "U1"
    assert f"Ticket #{ticket} (Acme: Export times out) has had no update" in nudge["text"]
    shown = text_of(nudge)
    assert "owner: <@U1>" in shown and "premium" in shown
    buttons = buttons_of(nudge)
    assert list(buttons) == LABELS
    assert {label: buttons[label][1] for label in LABELS[1:4]} == {
        "Snooze 1h": buttons["Done"][1] + ":1h",
        "Snooze 4h": buttons["Done"][1] + ":4h",
        "Snooze to next working morning": buttons["Done"][1] + ":morning",
    }
    assert action_ids_unique_per_block(nudge)  # Slack rejects a block with repeated action_ids
    [sent] = [d for d in await desk.deliveries() if d.status == DeliveryStatus.SENT]
    assert (
        (sent.step, sent.message_channel) == (0, "DU1")
        and sent.message_id
        and sent.message_id.startswith("1700000000.")
    )

    said = await desk.click("U1", nudge, "Snooze 1h")
    assert "Snoozed until <!date^1795438800^{date_short_pretty} {time}|2026-11-23 13:00 UTC>" in said  # reader's zone
    assert (await desk.episode()).snoozed_until == datetime(2026, 11, 23, 13, 0, tzinfo=UTC)

    await desk.tick(minutes=30)  # 12:30: the lead would have heard without the snooze
    await desk.tick(minutes=29)
    assert len(desk.dms("U1")) == 1 and desk.dms("U_LEAD") == []
    await desk.tick(minutes=1)  # 13:00: the snooze is over: a reminder, and the ladder moves on
    [_, reminder] = desk.nudges("U1")
    assert "You snoozed this earlier" in text_of(reminder) and list(buttons_of(reminder)) == LABELS
    [lead] = desk.nudges("U_LEAD")
    assert "climbed to you" in text_of(lead)

    said = await desk.click("U1", reminder, "Done")
    assert "Done: stale follow-up recorded" in said
    episode = await desk.episode()
    assert episode.done_at == datetime(2026, 11, 23, 13, 0, tzinfo=UTC) and episode.done_by_id is not None
    await desk.tick(hours=2)  # the head of support would have heard at 14:00
    await desk.tick(hours=1)
    assert desk.dms("U_ADMIN") == [] and len(desk.dms("U1")) == 2 and len(desk.dms("U_LEAD")) == 1
    again = await desk.click("U1", reminder, "Done")
    assert "Already done" in again


async def test_an_ignored_nudge_climbs_to_the_lead_whose_done_ends_it(desk: Desk) -> None:
    await desk.stale_ticket()
    await desk.tick(hours=4)
    [_nudge] = desk.nudges("U1")
    await desk.tick(minutes=29)
    assert desk.dms("U_LEAD") == []
    await desk.tick(minutes=1)  # ignored for 30 minutes
    [lead] = desk.nudges("U_LEAD")
    assert desk.slack.fake.called("conversations.open")[-1]["users"] == "U_LEAD"
    assert "climbed to you" in text_of(lead) and "Done" in buttons_of(lead)
    refused = await desk.click("U2", lead, "Done")  # someone else's nudge
    assert "Only the person this nudge was for" in refused
    assert (await desk.episode()).done_at is None
    assert "Done" in await desk.click("U_LEAD", lead, "Done")
    await desk.tick(hours=3)
    assert desk.dms("U_ADMIN") == [] and len(desk.dms("U1")) == 1


async def test_hand_off_button_opens_the_reason_prompt_and_offers_the_customer(desk: Desk) -> None:
    await desk.stale_ticket()
    await desk.tick(hours=4)
    [nudge] = desk.nudges("U1")
    action_id, value = buttons_of(nudge)["Hand off"]
    await desk.slack.click("U1", action_id, value, channel="DU1", message=nudge)
    modal = desk.slack.last_modal()
    assert modal["title"]["text"] == "Hand off" and "Who should take it?" in text_of(modal)
    [picker] = [b for b in modal["blocks"] if b["element"]["type"] == "users_select"]
    assert picker["optional"] is True  # a typed `@person reason` works too

    response = await desk.slack.submit("U1", modal, "<@U2>")  # no reason: refused on the field, nothing changes
    assert response.status == 200 and "errors" in json.loads(await response.text())
    async with desk.db.sessions() as session:
        assert (await session.execute(select(HandoffRequest))).scalars().all() == []

    response = await desk.slack.submit("U1", modal, "<@U2> needs a German speaker for the migration")
    assert response.status == 200
    async with desk.db.sessions() as session:
        [offer] = (await session.execute(select(HandoffRequest))).scalars().all()
    assert "German speaker" in offer.reason
    told = desk.dms("U2")
    assert told and "Acme" in told[-1]["text"] and "Accept" in buttons_of(told[-1])


async def test_hand_off_picks_the_person_in_a_users_select_and_mentions_stay_mentions(desk: Desk) -> None:
    await desk.stale_ticket()
    await desk.tick(hours=4)
    [nudge] = desk.nudges("U1")
    action_id, value = buttons_of(nudge)["Hand off"]
    await desk.slack.click("U1", action_id, value, channel="DU1", message=nudge)
    modal = desk.slack.last_modal()
    # Kim (U3) never used ownerbot: picked, she is introduced (users.info) and offered the customer.
    response = await desk.slack.submit("U1", modal, "she speaks *Japanese*; <@U2|sam> agrees", picked="U3")
    assert response.status == 200 and "errors" not in await response.text()
    async with desk.db.sessions() as session:
        [offer] = (await session.execute(select(HandoffRequest))).scalars().all()
        kim = await session.get(Member, offer.to_member_id)
    assert kim is not None and kim.platform_user_id == "U3" and offer.reason.startswith("she speaks")
    [told] = desk.dms("U3")
    shown = text_of(told)
    assert "<@U1> wants to hand Acme" in shown  # the offerer as a real mention
    assert "<@U2> agrees" in shown and "&lt;@U2" not in shown  # the reason's mention reaches Kim as a mention
    assert "*Japanese*" not in shown and "<!date^00000000^{_}|*>Japanese<!date^00000000^{_}|*>" in shown


async def test_hand_off_picked_without_a_reason_is_refused_on_the_form(desk: Desk) -> None:
    await desk.stale_ticket()
    await desk.tick(hours=4)
    [nudge] = desk.nudges("U1")
    await desk.slack.click("U1", *buttons_of(nudge)["Hand off"], channel="DU1", message=nudge)
    response = await desk.slack.submit("U1", desk.slack.last_modal(), "", picked="U2")
    assert "errors" in json.loads(await response.text())
    async with desk.db.sessions() as session:
        assert (await session.execute(select(HandoffRequest))).scalars().all() == []


async def test_a_slack_429_is_retried_on_a_later_tick_and_sent_once(desk: Desk) -> None:
    await desk.stale_ticket()
    desk.slack.fake.fail("chat.postMessage", 429, times=5, retry_after="0")  # outlasts slack_sdk's own 4 retries
    result = await desk.tick(hours=4)
    assert (result.sent, result.retried, result.failed) == (0, 1, 0)
    assert len(desk.slack.fake.attempts("chat.postMessage")) == 5 and desk.dms("U1") == []
    async with desk.db.sessions() as session:  # handed to the outbox, where it waits for the retry
        [waiting] = (await session.execute(select(OutboxMessage).where(OutboxMessage.target == "U1"))).scalars().all()
    assert (
        waiting.status == OutboxStatus.PENDING
        and waiting.due_at > desk.clock.now
        and "ratelimited" in (waiting.last_error or "")
    )

    assert (await desk.tick()).sent == 0  # not before the retry is due
    result = await desk.tick(minutes=2)
    assert result.sent == 1
    [nudge] = desk.dms("U1")
    assert "no update" in nudge["text"]
    for _ in range(3):
        await desk.tick(minutes=10)
    assert len(desk.nudges("U1")) == 1
    [sent] = [d for d in await desk.deliveries() if d.step == 0]
    assert sent.status == DeliveryStatus.SENT and (sent.message_id or "").startswith("1700000000.")
    async with desk.db.sessions() as session:
        [row] = (await session.execute(select(OutboxMessage).where(OutboxMessage.target == "U1"))).scalars().all()
    assert row.status == OutboxStatus.SENT and row.attempts >= 2


async def test_two_concurrent_ticks_send_one_dm(desk: Desk) -> None:
    await desk.stale_ticket()
    desk.clock.advance(hours=4)
    slow = desk.slack.fake.hold("chat.postMessage")  # a slow Slack keeps both ticks in flight together
    ticks = asyncio.gather(desk.sweeper.tick(), desk.sweeper.tick(), desk.sweeper.tick())
    await asyncio.sleep(0.5)
    slow.set()
    results = await ticks
    assert sum(r.sent for r in results) == 1
    assert len(desk.dms("U1")) == 1 and len(desk.slack.fake.called("chat.postMessage")) == 1
    [sent] = [d for d in await desk.deliveries() if d.status == DeliveryStatus.SENT]
    assert sent.step == 0 and sent.attempts == 1
