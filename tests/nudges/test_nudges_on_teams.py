"""Nudges on Teams, at the wire: real Teams activity JSON (messages, Action.Submit clicks, `adaptiveCard/action`
invokes) into the real server (app.build_app), the server's own nudge sweeper (from app[JOBS]) ticking
with a time-travel clock, and a fake Bot Connector recording the proactive DMs. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from app import JOBS, RUNTIME, build_app
from bot.settings import Settings
from db.models import DeliveryStatus, NudgeDelivery, NudgeEpisode, NudgeKind, Platform, Ticket
from handlers import ActionId
from jobs.nudge_sweep import NudgeSweeper, TickResult
from ownership.onboarding import CustomerRow, import_customers
from ownership.people import member_on_sight, workspace_on_sight

from ..conftest import Clock, Database
from ..slack.conftest import SLACK_ENV
from ..teams.conftest import PEOPLE, TENANT, TeamsWire, actions_of, card_of, connector, text_of  # noqa: F401 (fixture)
from ..teams.fake_connector import FakeBotConnector

LABELS = ["Done", "Snooze 1h", "Snooze 4h", "Snooze to next working morning", "Hand off"]


@pytest.fixture
async def wire(
    db: Database, connector: FakeBotConnector, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[TeamsWire]:
    """ownerbot's real server (build_app: its notifiers and its sweeper) with Teams in emulator mode on loopback
    and Slack off; the whole server runs on the test's clock (Monday 23 November 2026, 08:00 UTC)."""
    for name in (*SLACK_ENV, "MICROSOFT_APP_ID", "MICROSOFT_APP_PASSWORD", "MICROSOFT_APP_TENANT_ID", "HOST"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TEAMS_RETRY_BASE_SECONDS", "0")
    monkeypatch.setenv("TEAMS_EMULATOR", "true")  # emulator mode only when asked for
    monkeypatch.setenv("TEAMS_SERVICE_HOSTS", "127.0.0.1")  # the fake Bot Connector
    clock.now = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
    app, statuses = await build_app(
        Settings(database_url=db.url, ownerbot_admins=frozenset({PEOPLE["admin"][0]})), clock=clock
    )
    assert any(s.name == "teams" and s.enabled for s in statuses), statuses
    client = TestClient(TestServer(app, host="127.0.0.1"))
    await client.start_server()
    yield TeamsWire(client, connector, app[RUNTIME].notifiers[Platform.TEAMS], outbox=app[RUNTIME].outbox)
    await client.close()


def sweeper_of(wire: TeamsWire) -> NudgeSweeper:
    return wire.client.server.app[JOBS].nudges


async def tick(wire: TeamsWire, clock: Clock, **advance: float) -> TickResult:
    clock.advance(**advance)
    return await sweeper_of(wire).tick()


def said_to(wire: TeamsWire, who: str) -> str:
    return text_of(wire.dm(who)[-1])


def nudges_to(wire: TeamsWire, who: str, words: str = "no update") -> list[dict[str, Any]]:
    return [a for a in wire.dm(who) if a.get("attachments") and words in text_of(a)]


async def open_ticket(wire: TeamsWire, db: Database, who: str, customer: str, subject: str) -> int:
    await wire.say(who, f"ticket open {customer} {subject}")
    async with db.sessions() as session:
        ticket_id = (await session.execute(select(Ticket.id).where(Ticket.subject == subject))).scalar_one()
    await wire.say(who, f"ticket note {ticket_id} Asked the customer for details")  # the first response
    return ticket_id


async def desk(wire: TeamsWire, clock: Clock) -> None:
    """admin, lead lee and agent ann have talked to the bot in their personal chats (references stored)."""
    for who in ("admin", "lee", "ann"):
        await wire.say(who, "mine")
    await wire.say("admin", "role @lee lead", mentions=["lee"])
    await wire.say("admin", "hours set mon-fri 09:00-17:00 --tz Europe/Berlin")  # the team's business hours
    await tick(wire, clock)  # 08:00 UTC, the start of lee's day in Berlin: the lead's daily digest
    assert nudges_to(wire, "lee", "digest")


async def deliveries(db: Database, **where: Any) -> list[NudgeDelivery]:
    async with db.sessions() as session:
        query = select(NudgeDelivery).where(NudgeDelivery.kind.in_([NudgeKind.STALE, NudgeKind.DELIVERY_FAILED]))
        for key, value in where.items():
            query = query.where(getattr(NudgeDelivery, key) == value)
        return list((await session.execute(query.order_by(NudgeDelivery.id))).scalars())


async def test_stale_ticket_nudge_is_a_proactive_card_and_done_works_by_submit_and_by_invoke(
    wire: TeamsWire, db: Database, clock: Clock
) -> None:
    await desk(wire, clock)
    await wire.say("lee", "customer add Acme --tier premium")
    await wire.say("lee", "customer add Globex --tier premium")
    await wire.say("ann", "claim acme")
    await wire.say("ann", "claim globex")
    acme = await open_ticket(wire, db, "ann", "acme", "Export times out")
    globex = await open_ticket(wire, db, "ann", "globex", "Login broken")
    before = len(wire.dm("ann"))

    await tick(wire, clock, hours=3, minutes=59)
    assert len(wire.dm("ann")) == before
    result = await tick(wire, clock, minutes=1)  # 12:00 UTC: four hours without an update
    assert result.sent == 2
    cards = {a["attachments"][0]["content"]["body"][0]["text"].split(" (")[0]: a for a in nudges_to(wire, "ann")}
    assert set(cards) == {f"Ticket #{acme}", f"Ticket #{globex}"}
    for _number, activity in ((acme, cards[f"Ticket #{acme}"]), (globex, cards[f"Ticket #{globex}"])):
        card = card_of(activity)
        assert "has had no update" in text_of(card) and "owner: Ann Agent" in text_of(card)
        assert list(actions_of(card)) == LABELS
        assert all(a["type"] == "Action.Execute" and a["fallback"]["type"] == "Action.Submit" for a in card["actions"])
        assert actions_of(card)["Snooze 4h"]["value"].endswith(":4h")
    sent = await deliveries(db, status=DeliveryStatus.SENT)
    assert len(sent) == 2 and {d.message_channel for d in sent} == {"a:personal-ann"}
    posted = {
        r.body["attachments"][0]["content"]["body"][0]["text"].split(" (")[0]
        for r in wire.connector.sent("POST", "/v3/conversations/a:personal-ann/activities")
        if r.body.get("attachments")
    }
    assert posted >= set(cards)  # proactive POSTs into ann's stored personal conversation

    by_message = {}
    async with db.sessions() as session:
        for delivery in sent:
            episode = await session.get(NudgeEpisode, delivery.episode_id)
            by_message[episode.ticket_id] = delivery.message_id

    # Acme: Action.Submit (a message whose value is the button's data); the card is replaced in place.
    done = actions_of(card_of(cards[f"Ticket #{acme}"]))["Done"]
    assert done["action_id"] == ActionId.NUDGE_DONE
    response = await wire.submit("ann", done, reply_to=by_message[acme])
    assert response.status == 200
    [update] = [
        r.body for r in wire.connector.sent("PUT", f"/v3/conversations/a:personal-ann/activities/{by_message[acme]}")
    ]
    assert "Done: stale follow-up recorded" in text_of(update)

    # Globex: Action.Execute (an adaptiveCard/action invoke); the invoke response is the new card.
    done = actions_of(card_of(cards[f"Ticket #{globex}"]))["Done"]
    response = await wire.invoke("ann", done, reply_to=by_message[globex])
    assert response.status == 200
    body = await response.json()
    assert body["type"] == "application/vnd.microsoft.card.adaptive"
    assert "Done: stale follow-up recorded" in text_of(body["value"])

    async with db.sessions() as session:
        episodes = (
            (await session.execute(select(NudgeEpisode).where(NudgeEpisode.kind == NudgeKind.STALE))).scalars().all()
        )
    assert {e.ticket_id for e in episodes} == {acme, globex}
    assert all(e.done_at == datetime(2026, 11, 23, 12, 0, tzinfo=UTC) for e in episodes)
    await tick(wire, clock, minutes=30)  # the lead would have heard now
    await tick(wire, clock, hours=2)
    assert nudges_to(wire, "lee") == [] and nudges_to(wire, "admin") == []


async def test_a_nudge_to_someone_who_never_talked_to_the_bot_fails_for_good_and_the_lead_is_told(
    wire: TeamsWire, db: Database, clock: Clock, connector: FakeBotConnector
) -> None:
    await desk(wire, clock)
    # Kim is known to ownerbot (onboarded from the CRM export as Initech's owner) but never talked to the bot.
    async with db.sessions() as session, session.begin():
        ws = await workspace_on_sight(session, platform=Platform.TEAMS, external_id=TENANT, now=clock.now)
        await member_on_sight(
            session, workspace=ws, platform_user_id=PEOPLE["kim"][0], display_name="Kim Park", now=clock.now
        )
        await import_customers(
            session,
            workspace=ws,
            platform=Platform.TEAMS,
            now=clock.now,
            rows=[CustomerRow(line=2, name="Initech", tier="premium", external_id="CRM-7", owner="Kim Park")],
        )
    initech = await open_ticket(wire, db, "lee", "initech", "Printer on fire")
    async with db.sessions() as session:
        ticket = await session.get(Ticket, initech)
        assert ticket is not None and ticket.owner_id is not None

    result = await tick(wire, clock, hours=4)
    assert result.failed == 1 and result.sent == 0
    [failed] = await deliveries(db, kind=NudgeKind.STALE, step=0)
    assert failed.status == DeliveryStatus.FAILED and "never talked to ownerbot" in (failed.error or "")
    assert not [r for r in connector.sent() if "kim" in r.path]  # no chat was made up for Kim

    await tick(wire, clock)  # the lead is told, through Teams, with the reason
    [told] = nudges_to(wire, "lee", "could not be delivered")
    shown = text_of(told)
    assert f"Ticket #{initech} (Initech: Printer on fire)" in shown
    assert "Kim Park has never talked to ownerbot on Teams" in shown and "say hi" in shown
    assert list(actions_of(card_of(told))) == ["Done"]
    await tick(wire, clock, minutes=30)
    assert len(nudges_to(wire, "lee", "could not be delivered")) == 1


async def test_hand_off_from_a_nudge_card_to_someone_with_a_full_teams_name(
    wire: TeamsWire, db: Database, clock: Clock
) -> None:
    await desk(wire, clock)
    await wire.say("sam", "mine")
    await wire.say("lee", "customer add Acme --tier premium")
    await wire.say("ann", "claim acme")
    await open_ticket(wire, db, "ann", "acme", "Export times out")
    await tick(wire, clock, hours=4)
    [nudge] = nudges_to(wire, "ann")
    response = await wire.invoke("ann", actions_of(card_of(nudge))["Hand off"])
    prompt = (await response.json())["value"]  # the invoke answers with the prompt card
    assert "the reason they should take Acme" in text_of(prompt)
    send = actions_of(prompt)["Send"]
    assert send["action_id"] == ActionId.NUDGE_HANDOFF_SUBMIT

    # Teams names have spaces, and a card's text input can't @mention: the full name must work, quoted or not.
    response = await wire.invoke("ann", {**send, "input": "@Sam Jones needs a German speaker for the migration"})
    assert response.status == 200
    answer = await response.json()
    assert "<at>Sam Jones</at>" in str(answer["value"]) and "know" not in str(answer["value"]), answer
    from db.models import HandoffRequest, Member

    async with db.sessions() as session:
        [offer] = (await session.execute(select(HandoffRequest))).scalars().all()
        to = await session.get(Member, offer.to_member_id)
    assert (
        to is not None and to.display_name == "Sam Jones" and offer.reason == "needs a German speaker for the migration"
    )
    assert any("Acme" in text_of(a) for a in wire.dm("sam"))
