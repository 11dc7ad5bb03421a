"""Signatures and timestamps, workspace isolation, and Slack Web API rate limits / outages."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from bot.settings import SlackSettings, load_settings
from bot.slack.notifier import RetryTiming, post_to_response_url, web_client
from db.models import HandoffRequest, HandoffStatus, Member, Workspace
from handlers.ports import DeliveryFailed

from ..conftest import Clock, Database
from ..snapshot import Snapshot, snapshot
from .conftest import BOT_TOKEN, FakeSlack, SlackDriver, buttons_of, owner_of, seeded, sign, text_of


async def rows(db: Database) -> Snapshot:
    """Every table's rows (not a count of three tables): any write anywhere shows."""
    return await snapshot(db.engine)


async def test_forged_signature_and_stale_timestamp_are_refused(slack: SlackDriver, db: Database) -> None:
    await seeded(slack, "Acme")
    before = await rows(db)
    forged, _key1 = await slack.command(
        "U1", "/claim", "acme", signature=sign("team_id=T1&command=%2Fclaim&text=acme", int(time.time()))
    )
    wrong_secret, _key2 = await slack.command("U1", "/claim", "acme", signature="v0=" + "0" * 64)
    stale_ts = int(time.time()) - 301
    stale, _key3 = await slack.command("U1", "/claim", "acme", timestamp=stale_ts)  # correctly signed, too old
    assert (forged.status, wrong_secret.status, stale.status) == (401, 401, 401)
    event = {"type": "app_mention", "user": "U1", "text": "<@UBOT> claim acme", "ts": "1.1", "channel": "C1"}
    forged_event = await slack.event(event, "Ev0FORGED", signature="v0=" + "f" * 64)
    assert forged_event.status == 401
    assert await rows(db) == before and await owner_of(db, "Acme") is None
    assert slack.fake.calls == [] and slack.fake.posts == []  # not a word to anyone


async def test_a_user_from_another_workspace_sees_nothing_of_the_first(slack: SlackDriver, db: Database) -> None:
    await seeded(slack, "Acme")
    await slack.command("U1", "/claim", "acme")
    _, _key = await slack.command("U1", "/handoff", "acme <@U2|sam> they speak German with the customer")
    [offer] = slack.fake.dms_to("U2")
    accept_id, handoff_id = buttons_of(offer)["Accept"]
    slack.fake.reset()

    _, who = await slack.command("V1", "/whoowns", "acme", team="T2", channel="C9")
    _, mine = await slack.command("V1", "/mine", team="T2", channel="C9")
    _, customers = await slack.command("V1", "/ownerbot", "customers", team="T2", channel="C9")
    _, steal = await slack.command("V1", "/claim", "acme", team="T2", channel="C9")
    _, click = await slack.click("V1", accept_id, handoff_id, team="T2", channel="DV1")
    await slack.event(
        {"type": "app_home_opened", "user": "V1", "channel": "DV1", "tab": "home"}, "Ev0T2HOME", team="T2"
    )

    assert 'I don\'t know a customer called "acme"' in text_of(slack.fake.posts_to(who)[0])
    assert "You own no customers yet" in text_of(slack.fake.posts_to(mine)[0])
    assert "No customers yet" in text_of(slack.fake.posts_to(customers)[0])
    assert 'I don\'t know a customer called "acme"' in text_of(slack.fake.posts_to(steal)[0])
    [answer] = slack.fake.posts_to(click)
    assert "That handoff no longer exists." in text_of(answer) and answer["replace_original"] is False
    [home] = slack.fake.called("views.publish")
    shown = text_of(home["view"]) + "".join(text_of(p["body"]) for p in slack.fake.posts)
    for secret in ("Acme", "Uma", "Sam", "German"):
        assert secret not in shown
    assert await owner_of(db, "Acme") == "U1"
    async with db.sessions() as session:
        [pending] = list((await session.execute(select(HandoffRequest))).scalars())
        teams = set((await session.execute(select(Workspace.external_id))).scalars())
        vic = (await session.execute(select(Member).where(Member.platform_user_id == "V1"))).scalar_one()
    assert pending.status == HandoffStatus.PENDING and teams == {"T1", "T2"}
    assert vic.workspace_id != pending.workspace_id


async def test_rate_limits_and_outages_are_retried_without_losing_the_change(slack: SlackDriver, db: Database) -> None:
    await seeded(slack, "Acme")
    await slack.command("U1", "/claim", "acme")
    slack.fake.reset()
    slack.fake.fail("chat.postMessage", status=429, retry_after="0")  # Slack: slow down
    slack.fake.fail("conversations.open", status=503, retry_after=None)  # Slack: hiccup
    _, key = await slack.command("U1", "/handoff", "acme <@U2|sam> they speak German with the customer")

    async with db.sessions() as session:
        [handoff] = list((await session.execute(select(HandoffRequest))).scalars())
    assert handoff.status == HandoffStatus.PENDING and handoff.reason == "they speak German with the customer"
    assert [c.status for c in slack.fake.attempts("conversations.open")] == [503, 200]
    assert [c.status for c in slack.fake.attempts("chat.postMessage")] == [429, 200]
    [offer] = slack.fake.dms_to("U2")
    assert "<@U1> wants to hand Acme over to you." in text_of(offer)
    assert "Handoff of Acme to <@U2> requested." in text_of(slack.fake.posts_to(key)[0])  # in the ack

    slack.fake.fail("response_url", status=500)  # a click is answered on its response_url: Slack hiccups once
    _, click = await slack.click("U2", *buttons_of(offer)["Accept"], message=offer)
    assert await owner_of(db, "Acme") == "U2"
    assert [p["status"] for p in slack.fake.posts if p["key"] == click] == [500, 200]


async def test_a_throttled_dm_waits_in_the_outbox_and_goes_out_once_after_retry_after(
    slack_at: SlackDriver, db: Database, clock: Clock
) -> None:
    slack = slack_at
    await seeded(slack, "Acme")
    await slack.command("U1", "/claim", "acme")
    slack.fake.reset()
    slack.fake.fail("chat.postMessage", status=429, times=5, retry_after="30")
    _, key = await slack.command("U1", "/handoff", "acme <@U2|sam> they speak German with the customer")
    assert len(slack.fake.attempts("chat.postMessage")) == 1  # a long Retry-After is not waited out in the call
    assert "Handoff of Acme to <@U2> requested." in text_of(slack.fake.posts_to(key)[0])
    assert slack.fake.dms_to("U2") == []
    for _ in range(4):  # Slack says "in 30 s" four times more
        clock.advance(seconds=29)
        await slack.outbox.tick()
        assert slack.fake.dms_to("U2") == []  # not before it said
        clock.advance(seconds=2)
        await slack.outbox.tick()
    assert len(slack.fake.attempts("chat.postMessage")) == 5
    clock.advance(seconds=31)
    await slack.outbox.tick()
    await slack.outbox.tick()
    [offer] = slack.fake.dms_to("U2")  # once
    assert "<@U1> wants to hand Acme over to you." in text_of(offer)
    async with db.sessions() as session:  # the handoff stands
        assert (await session.execute(select(HandoffRequest.status))).scalar_one() == HandoffStatus.PENDING


async def test_a_dm_that_can_never_get_through_is_told_to_the_invoker_once(slack: SlackDriver, db: Database) -> None:
    await seeded(slack, "Acme")
    await slack.command("U1", "/claim", "acme")
    slack.fake.reset()
    slack.fake.fail("conversations.open", status=200, error="user_not_found")
    _, key = await slack.command("U1", "/handoff", "acme <@U2|sam> they speak German with the customer")
    assert "Handoff of Acme to <@U2> requested." in text_of(slack.fake.posts_to(key)[0])
    [told] = slack.fake.dms_to("U1")
    assert "I could not deliver a message to <@U2>" in text_of(told) or "could not deliver" in told["text"]
    await slack.outbox.tick()
    assert len(slack.fake.dms_to("U1")) == 1  # once
    async with db.sessions() as session:  # the handoff stands; Sam still finds it in /mine and App Home
        assert (await session.execute(select(HandoffRequest.status))).scalar_one() == HandoffStatus.PENDING


async def test_the_notifier_posts_updates_in_place_and_says_when_to_give_up(slack: SlackDriver) -> None:
    from app import RUNTIME
    from db.models import Platform
    from handlers import Button, Reply

    notifier = slack.client.server.app[RUNTIME].notifiers[Platform.SLACK]
    assert notifier.timing == RetryTiming(0.0, 0.0)  # SLACK_RETRY_*_SECONDS reach the notifier (tests: no waits)
    nudge = Reply("Acme's ticket #7 waits for a first answer.", buttons=[Button("Done", "ownerbot.nudge.done", "7")])
    ref = await notifier.post_channel(workspace="T1", channel_id="C1", reply=nudge)
    [posted] = slack.fake.called("chat.postMessage")
    assert posted["channel"] == "C1" and set(buttons_of(posted)) == {"Done"}

    slack.fake.fail("chat.update", status=429, retry_after="0")
    await notifier.update(ref=ref, reply=Reply("Acme's ticket #7 is answered."))
    [updated] = slack.fake.called("chat.update")
    assert (updated["channel"], updated["ts"]) == ("C1", ref.message_id)
    assert "is answered" in text_of(updated) and buttons_of(updated) == {}
    assert len(slack.fake.attempts("chat.update")) == 2

    slack.fake.fail("chat.postMessage", status=429, times=5, retry_after="0")
    with pytest.raises(DeliveryFailed) as limited:  # still limited after the retries: try later, not never
        await notifier.post_channel(workspace="T1", channel_id="C1", reply=nudge)
    assert limited.value.retry_after is not None and not limited.value.permanent
    slack.fake.fail("chat.postMessage", status=200, error="channel_not_found")
    with pytest.raises(DeliveryFailed) as gone:  # no retry will fix this one
        await notifier.post_channel(workspace="T1", channel_id="C404", reply=nudge)
    assert gone.value.permanent and "channel_not_found" in str(gone.value)


async def test_retries_wait_as_in_production(fake_slack: FakeSlack, monkeypatch: pytest.MonkeyPatch) -> None:
    """The other tests run with zero waits; here the waits production uses are recorded: a 5xx backs off
    doubling from 0.5 s, a 429 waits its Retry-After, a response_url 5xx doubles from 0.25 s."""
    for name in ("SLACK_RETRY_BASE_SECONDS", "SLACK_RETRY_JITTER_SECONDS"):
        monkeypatch.delenv(name, raising=False)
    unset = RetryTiming.of(load_settings(SlackSettings, slack_signing_secret="s", slack_bot_token="xoxb-1"))
    assert unset == RetryTiming(0.5, 1.0) == RetryTiming()  # unset: production's waits

    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    exact = RetryTiming(jitter_seconds=0.0, sleep=sleep)
    client = web_client(fake_slack.api_url, BOT_TOKEN, timing=exact)
    fake_slack.fail("conversations.open", status=503, times=3, retry_after=None)
    await client.conversations_open(users="U2")
    assert waits == [0.5, 1.0, 2.0]
    assert [c.status for c in fake_slack.attempts("conversations.open")] == [503, 503, 503, 200]

    waits.clear()
    fake_slack.fail("chat.postMessage", status=429, times=2, retry_after="3")
    await client.chat_postMessage(channel="C1", text="hello")
    assert waits == [3.0, 3.0]

    waits.clear()
    fake_slack.fail("response_url", status=500, times=3)
    await post_to_response_url(fake_slack.response_url("k"), {"text": "done"}, timing=exact)
    assert waits == [0.25, 0.5, 1.0]
    assert [p["status"] for p in fake_slack.posts] == [500, 500, 500, 200]

    waits.clear()  # with production's jitter: each wait lies in [base, base + 1 s)
    jittered = web_client(fake_slack.api_url, BOT_TOKEN, timing=RetryTiming(sleep=sleep))
    fake_slack.fail("chat.update", status=502, times=3, retry_after=None)
    await jittered.chat_update(channel="C1", ts="1700000000.000001", text="edited")
    assert len(waits) == 3 and all(base <= wait < base + 1.0 for base, wait in zip([0.5, 1.0, 2.0], waits, strict=True))
