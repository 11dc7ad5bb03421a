"""Proactive messages through the Teams Notifier, and Bot Connector throttling, at the wire."""

from __future__ import annotations

from datetime import UTC

import pytest
from sqlalchemy import delete, select

from db.models import Customer, HandoffRequest, Platform, TeamsConversation, TeamsMember
from handlers import Button, Reply
from handlers.ports import DeliveryFailed

from ..conftest import Database
from .conftest import CHANNEL, PEOPLE, TENANT, TeamsWire, actions_of, card_of, count, text_of


async def test_proactive_dm_reaches_the_personal_chat_and_can_be_updated(wire: TeamsWire) -> None:
    await wire.say("ann", "mine")
    nudge = Reply(
        "Acme has waited 2 hours for a first response.",
        fields=[("Ticket", "#4 Login broken")],
        buttons=[Button("Snooze 1h", "ownerbot.nudge.snooze", "4:60")],
    )
    ref = await wire.notifier.send_direct(workspace=TENANT, user_id=PEOPLE["ann"][0], reply=nudge)

    sent = wire.connector.sent("POST", "/v3/conversations/a:personal-ann/activities")
    proactive = [r for r in sent if r.path.endswith("/activities")]  # a new message, not a reply to one
    assert len(proactive) == 1
    card = card_of(proactive[0].body)
    assert "Acme has waited 2 hours" in text_of(card) and "Ticket: #4 Login broken" in text_of(card)
    assert actions_of(card)["Snooze 1h"] == {"action_id": "ownerbot.nudge.snooze", "value": "4:60"}
    assert (ref.platform, ref.workspace, ref.channel_id) == (Platform.TEAMS, TENANT, "a:personal-ann")
    assert ref.message_id.startswith("sent-")

    await wire.notifier.update(ref=ref, reply=Reply("Snoozed for an hour."))
    updates = wire.connector.sent("PUT", f"/v3/conversations/a:personal-ann/activities/{ref.message_id}")
    assert len(updates) == 1 and updates[0].body["text"] == "Snoozed for an hour."


async def test_dm_to_someone_only_seen_in_a_team_opens_a_chat_first(wire: TeamsWire, db: Database) -> None:
    await wire.members_added([wire.account("sam")])
    ref = await wire.notifier.send_direct(workspace=TENANT, user_id=PEOPLE["sam"][0], reply=Reply("Hello Sam"))

    created = wire.connector.sent("POST", "/v3/conversations")
    created = [r for r in created if r.path.rstrip("/") == "/v3/conversations"]
    assert len(created) == 1
    assert created[0].body["members"] == [{"id": PEOPLE["sam"][1]}]
    assert created[0].body["channelData"] == {"tenant": {"id": TENANT}} and created[0].body["isGroup"] is False
    new_chat = ref.channel_id
    assert new_chat.startswith("a:created-")
    assert [r.body["text"] for r in wire.connector.sent("POST", f"/v3/conversations/{new_chat}/activities")] == [
        "Hello Sam"
    ]
    async with db.sessions() as session:
        chat = (
            await session.execute(select(TeamsConversation).where(TeamsConversation.user_id == PEOPLE["sam"][0]))
        ).scalar_one()
    assert (chat.kind, chat.conversation_id) == ("personal", new_chat)

    await wire.notifier.send_direct(workspace=TENANT, user_id=PEOPLE["sam"][0], reply=Reply("Again"))
    assert (
        len([r for r in wire.connector.sent("POST", "/v3/conversations") if r.path.rstrip("/") == "/v3/conversations"])
        == 1
    )


async def test_someone_who_never_talked_to_the_bot_is_a_clear_permanent_failure(wire: TeamsWire, db: Database) -> None:
    # Sam is known to ownerbot's domain (e.g. imported), but never talked to the bot on Teams.
    async with db.sessions() as session, session.begin():
        from datetime import datetime

        from ownership.people import member_on_sight, workspace_on_sight

        now = datetime(2026, 11, 23, tzinfo=UTC)
        ws = await workspace_on_sight(session, platform=Platform.TEAMS, external_id=TENANT, now=now)
        await member_on_sight(
            session, workspace=ws, platform_user_id=PEOPLE["sam"][0], display_name="Sam Jones", now=now
        )
    with pytest.raises(DeliveryFailed) as failed:
        await wire.notifier.send_direct(workspace=TENANT, user_id=PEOPLE["sam"][0], reply=Reply("Nudge"))
    assert failed.value.permanent
    assert "Sam Jones has never talked to ownerbot on Teams" in str(failed.value)
    assert "say hi" in str(failed.value)
    assert not wire.connector.sent()

    with pytest.raises(DeliveryFailed) as no_channel:
        await wire.notifier.post_channel(workspace=TENANT, channel_id=CHANNEL, reply=Reply("Digest"))
    assert no_channel.value.permanent and "add ownerbot to the team" in str(no_channel.value)


async def test_the_lead_is_told_when_a_handoff_offer_cannot_reach_the_receiver(wire: TeamsWire, db: Database) -> None:
    await wire.say("admin", "customer add Acme")
    await wire.say("ann", "claim acme")
    await wire.say("sam", "mine")
    async with db.sessions() as session, session.begin():  # Sam's chat is gone (the bot lost track of him)
        await session.execute(delete(TeamsConversation).where(TeamsConversation.user_id == PEOPLE["sam"][0]))
        await session.execute(delete(TeamsMember).where(TeamsMember.user_id == PEOPLE["sam"][0]))

    await wire.say("ann", 'handoff acme "Sam Jones" the customer needs a German speaker')
    told = [text_of(a) for a in wire.dm("ann")]
    assert any("Handoff of Acme to <at>Sam Jones</at> requested" in t for t in told)
    assert "Sam Jones has never talked to ownerbot on Teams" in told[-1]
    assert await count(db, HandoffRequest) == 1  # the handoff stands; only the DM failed, and Ann knows


async def test_throttled_replies_are_retried_until_they_go_through(wire: TeamsWire, db: Database) -> None:
    await wire.say("admin", "customer add Acme")
    wire.connector.fail(429, times=2, retry_after="0", path_contains="a:personal-ann")
    await wire.say("ann", "claim acme")

    attempts = wire.connector.sent("POST", "/v3/conversations/a:personal-ann/activities", ok_only=False)
    assert [r.status for r in attempts] == [429, 429, 201]
    assert attempts[-1].body["text"] == "<at>Ann Agent</at> now owns Acme."
    async with db.sessions() as session:
        assert await session.scalar(select(Customer.owner_id)) is not None

    wire.connector.fail(503, times=1, path_contains="a:personal-ann")
    ref = await wire.notifier.send_direct(workspace=TENANT, user_id=PEOPLE["ann"][0], reply=Reply("Nudge"))
    proactive = [
        r
        for r in wire.connector.sent("POST", "/v3/conversations/a:personal-ann/activities", ok_only=False)
        if r.path.endswith("/activities")
    ]
    assert [r.status for r in proactive] == [503, 201] and ref.message_id


async def test_connector_that_stays_throttled_gives_a_retryable_failure(wire: TeamsWire) -> None:
    await wire.say("ann", "mine")
    wire.connector.fail(429, times=10, retry_after="0.05", path_contains="a:personal-ann")
    with pytest.raises(DeliveryFailed) as failed:
        await wire.notifier.send_direct(workspace=TENANT, user_id=PEOPLE["ann"][0], reply=Reply("Nudge"))
    assert not failed.value.permanent and failed.value.retry_after == 0.05
    assert len(wire.connector.sent("POST", "a:personal-ann", ok_only=False)) == 1 + 4  # the hello, then 4 tries


async def test_retry_waits_follow_retry_after_then_double() -> None:
    from bot.teams.backoff import with_backoff

    class Response:
        def __init__(self, status: int, headers: dict[str, str]) -> None:
            self.status_code, self.headers = status, headers

    class Throttled(Exception):
        def __init__(self, status: int, headers: dict[str, str]) -> None:
            self.response = Response(status, headers)

    failures = [Throttled(429, {"Retry-After": "3"}), Throttled(502, {}), Throttled(500, {})]
    waits: list[float] = []

    async def call() -> str:
        if failures:
            raise failures.pop(0)
        return "sent"

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    assert await with_backoff(call, attempts=4, base_seconds=0.5, what="test", sleep=sleep) == "sent"
    assert waits == [3.0, 1.0, 2.0]

    async def refused() -> str:
        raise Throttled(403, {})

    with pytest.raises(Throttled):
        await with_backoff(refused, attempts=4, base_seconds=0.5, what="test", sleep=sleep)
    assert waits == [3.0, 1.0, 2.0]  # a 403 is not retried
