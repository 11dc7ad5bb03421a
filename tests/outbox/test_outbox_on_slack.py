"""The outbox over the real Slack endpoints, in front of the fake Slack: an outage, a throttled receiver, and a
channel the bot is not in."""

from __future__ import annotations

import time

from sqlalchemy import select

from db.models import OutboxMessage, OutboxStatus
from handlers import ActionId

from ..conftest import Clock, Database
from ..gestures.test_wow_on_slack import CHANNEL, answer, support_team
from ..slack.conftest import (  # noqa: F401  (fixtures)
    SlackDriver,
    buttons_of,
    fake_slack,
    seeded,
    slack,
    slack_at,
    text_of,
)

OFFER = "<@U1> wants to hand Acme over to you."


async def handoff(slack: SlackDriver) -> str:
    await seeded(slack, "Acme")
    await slack.command("U1", "/claim", "acme")
    _, key = await slack.command("U1", "/handoff", "acme <@U2|sam> they speak German with the customer")
    [said] = slack.fake.posts_to(key)
    assert "Handoff of Acme to <@U2> requested." in text_of(said)  # the invoker's answer: at once, whatever happens
    return key


def offers(slack: SlackDriver) -> list[dict]:  # type: ignore[type-arg]
    return [c for c in slack.fake.dms_to("U2") if OFFER in text_of(c)]


async def test_a_handoff_offer_survives_slack_answering_503_for_a_minute(
    slack_at: SlackDriver, db: Database, clock: Clock
) -> None:
    slack = slack_at
    slack.fake.fail("chat.postMessage", status=503, times=10_000)  # Slack is down
    await handoff(slack)
    assert offers(slack) == []
    for _ in range(4):  # a minute of outage: the offer waits in the outbox, tried again after each back-off
        clock.advance(seconds=15)
        await slack.outbox.tick()
        assert offers(slack) == []
    slack.fake.failures.clear()  # Slack is back
    clock.advance(minutes=2)
    await slack.outbox.tick()
    await slack.outbox.tick()
    [offer] = offers(slack)  # delivered, once
    assert buttons_of(offer)["Accept"][0] == ActionId.ACCEPT_HANDOFF
    async with db.sessions() as session:
        [row] = (await session.execute(select(OutboxMessage).where(OutboxMessage.target == "U2"))).scalars().all()
    assert row.status == OutboxStatus.SENT and row.attempts > 1 and row.message_id


async def test_a_throttled_receiver_does_not_slow_the_clickers_answer(slack: SlackDriver, db: Database) -> None:
    await handoff(slack)
    [offer] = offers(slack)
    accept = buttons_of(offer)["Accept"]
    slack.fake.fail("chat.postMessage", status=429, times=3, retry_after="1")  # Uma's DM is throttled 3 times
    started = time.monotonic()
    _, key = await slack.click("U2", *accept, message=offer, drain=False)
    await slack.face.work.drain()  # Sam's click is answered...
    answered_in = time.monotonic() - started
    assert key is not None and "You now own Acme" in text_of(slack.fake.posts_to(key)[0])
    told = [c for c in slack.fake.dms_to("U1") if "accepted" in text_of(c)]
    assert told == []  # ...before Uma's throttled DM went out
    await slack.outbox.drain()
    finished_in = time.monotonic() - started
    [told] = [c for c in slack.fake.dms_to("U1") if "accepted" in text_of(c)]  # then it goes out, once
    assert answered_in < 3.0, answered_in  # Slack's limit, with Retry-After 1 s three times on the other DM
    assert finished_in > answered_in


async def test_a_card_slack_refuses_with_not_in_channel_tells_the_proposer_and_the_lead_once(
    slack: SlackDriver, db: Database
) -> None:
    await support_team(slack)
    slack.fake.fail("chat.postMessage", status=200, error="not_in_channel")  # the bot was never added to C0WOW
    said = await answer(slack, "U2", "wow acme handwritten thank-you card --cost 15 --deadline 24h")
    assert "Proposed gesture #1" in said
    assert len([c for c in slack.fake.called("chat.postMessage") if c.get("channel") == CHANNEL]) == 1  # refused
    for person in ("U2", "U_LEAD"):  # the proposer and the team's lead
        [told] = slack.fake.dms_to(person)
        assert f"could not deliver the gesture card to the channel {CHANNEL}" in told["text"]
        assert "not_in_channel" in told["text"]
    assert slack.fake.dms_to("U1") == [] and slack.fake.dms_to("U3") == []
    await slack.outbox.tick()
    await answer(slack, "U1", "wow vote 1 yes")  # the card changes: no update of a card that never was
    assert len(slack.fake.dms_to("U2")) == 1 and len(slack.fake.dms_to("U_LEAD")) == 1  # told once
    assert slack.fake.called("chat.update") == []
    assert len([c for c in slack.fake.called("chat.postMessage") if c.get("channel") == CHANNEL]) == 1
    async with db.sessions() as session:
        failed = await session.execute(select(OutboxMessage).where(OutboxMessage.status == OutboxStatus.FAILED))
        [card] = failed.scalars().all()
    assert card.purpose == "gesture-card" and "not_in_channel" in (card.last_error or "")
