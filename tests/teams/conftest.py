"""Teams test rig: the real ownerbot aiohttp route, a fake Bot Connector, and real Teams activity JSON."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select

from app import build_runtime
from bot import teams
from bot.runtime import Runtime
from bot.settings import Settings, TeamsSettings
from bot.teams.notifier import TeamsNotifier
from db.models import Platform
from jobs.outbox_sender import OutboxSender

from ..conftest import Clock, Database
from .fake_connector import FakeBotConnector

BOT_ID = "28:ownerbot-app-id"
TENANT = "tenant-a-0000"
OTHER_TENANT = "tenant-b-9999"
CHANNEL = "19:support-channel@thread.tacv2"
TEAM = "19:support-team@thread.tacv2"
PEOPLE = {  # key -> (Entra object id, Bot Framework id, display name)
    "admin": ("aad-admin-0001", "29:admin-bf", "Ada Admin"),
    "ann": ("aad-ann-0002", "29:ann-bf", "Ann Agent"),
    "sam": ("aad-sam-0003", "29:sam-bf", "Sam Jones"),
    "eve": ("aad-eve-0004", "29:eve-bf", "Eve Elsewhere"),
    "kim": ("aad-kim-0005", "29:kim-bf", "Kim Park"),
    "lee": ("aad-lee-0006", "29:lee-bf", "Lee Lead"),
}


def roster_entry(who: str, tenant: str = TENANT) -> dict[str, Any]:
    """A person as the Bot Connector's roster serves them (TeamsChannelAccount JSON)."""
    aad, bf, name = PEOPLE[who]
    given, _, surname = name.partition(" ")
    return {
        "id": bf,
        "name": name,
        "aadObjectId": aad,
        "givenName": given,
        "surname": surname,
        "email": f"{who}@contoso.example",
        "userPrincipalName": f"{who}@contoso.example",
        "tenantId": tenant,
        "userRole": "user",
    }


@pytest.fixture
def connector() -> Iterator[FakeBotConnector]:
    """The fake Bot Connector; its roster is the whole team (everyone in PEOPLE but Eve, from another tenant)."""
    fake = FakeBotConnector(roster={PEOPLE[who][1]: roster_entry(who) for who in PEOPLE if who != "eve"})
    fake.start()
    yield fake
    fake.stop()


class TeamsWire:
    """Posts real Teams activity JSON to /api/messages, like the Bot Connector service does."""

    def __init__(
        self,
        client: TestClient,
        connector: FakeBotConnector,
        notifier: TeamsNotifier,
        token: str | None = None,
        outbox: OutboxSender | None = None,
    ) -> None:
        self.client = client
        self.outbox = outbox
        self.connector = connector
        self.notifier = notifier
        self.token = token
        self._ids = itertools.count(1)

    def account(self, who: str) -> dict[str, str]:
        aad, bf, name = PEOPLE[who]
        return {"id": bf, "name": name, "aadObjectId": aad}

    def _base(self, who: str, *, tenant: str, channel: bool, kind: str = "message") -> dict[str, Any]:
        _aad, _bf, _ = PEOPLE[who]
        activity_id = f"{1700000000000 + next(self._ids)}"
        if channel:
            conversation = {
                "isGroup": True,
                "conversationType": "channel",
                "tenantId": tenant,
                "id": f"{CHANNEL};messageid={activity_id}",
            }
            channel_data = {
                "teamsChannelId": CHANNEL,
                "teamsTeamId": TEAM,
                "channel": {"id": CHANNEL},
                "team": {"id": TEAM},
                "tenant": {"id": tenant},
            }
        else:
            conversation = {"conversationType": "personal", "tenantId": tenant, "id": f"a:personal-{who}"}
            channel_data = {"tenant": {"id": tenant}}
        return {
            "type": kind,
            "id": activity_id,
            "timestamp": "2026-11-23T10:00:00.000Z",
            "localTimestamp": "2026-11-23T11:00:00.000+01:00",
            "localTimezone": "Europe/Berlin",
            "serviceUrl": self.connector.url,
            "channelId": "msteams",
            "from": self.account(who),
            "conversation": conversation,
            "recipient": {"id": BOT_ID, "name": "ownerbot"},
            "locale": "en-US",
            "channelData": channel_data,
        }

    async def post(self, activity: dict[str, Any], *, headers: dict[str, str] | None = None) -> web.Response:
        headers = dict(headers or {})
        if self.token and "Authorization" not in headers:
            headers["Authorization"] = f"Bearer {self.token}"
        response = await self.client.post("/api/messages", json=activity, headers=headers)
        await response.read()
        if self.outbox is not None:  # what the turn owes others goes out in the background: wait for it
            await self.outbox.drain()
        return response

    async def say(
        self,
        who: str,
        text: str,
        *,
        tenant: str = TENANT,
        mentions: list[str] = (),  # type: ignore[assignment]
        channel: bool = False,
    ) -> dict[str, Any]:
        """A message; in a channel the bot is @mentioned first. `mentions` are people @mentioned in `text` as
        `@key` (replaced by Teams' <at>Name</at> markup and mention entities)."""
        activity = self._base(who, tenant=tenant, channel=channel)
        entities: list[dict[str, Any]] = [
            {"type": "clientInfo", "locale": "en-US", "country": "US", "platform": "Web", "timezone": "Europe/Berlin"}
        ]
        for key in mentions:
            _aad, bf, name = PEOPLE[key]
            text = text.replace(f"@{key}", f"<at>{name}</at>")
            entities.append({"type": "mention", "text": f"<at>{name}</at>", "mentioned": {"id": bf, "name": name}})
        if channel:
            text = f"<at>ownerbot</at> {text}"
            entities.append(
                {"type": "mention", "text": "<at>ownerbot</at>", "mentioned": {"id": BOT_ID, "name": "ownerbot"}}
            )
        activity.update(text=text, textFormat="plain", entities=entities)
        response = await self.post(activity)
        assert response.status == 200, await response.text()
        return activity

    async def submit(
        self, who: str, data: dict[str, Any], *, reply_to: str, tenant: str = TENANT, channel: bool = False
    ) -> web.Response:
        """An Action.Submit click: a message with no text whose `value` is the card's data plus its inputs."""
        activity = self._base(who, tenant=tenant, channel=channel)
        activity.update(replyToId=reply_to, value=data, text="")
        return await self.post(activity)

    async def invoke(
        self,
        who: str,
        data: dict[str, Any],
        *,
        tenant: str = TENANT,
        verb: str | None = None,
        reply_to: str = "card-1",
        channel: bool = False,
    ) -> web.Response:
        """An Action.Execute click: an `adaptiveCard/action` invoke (on a card in a channel when `channel`)."""
        activity = self._base(who, tenant=tenant, channel=channel, kind="invoke")
        activity.update(
            name="adaptiveCard/action",
            replyToId=reply_to,
            value={
                "action": {"type": "Action.Execute", "verb": verb or data.get("action_id"), "data": data},
                "trigger": "manual",
            },
        )
        return await self.post(activity)

    async def members_added(
        self, members: list[dict[str, str]], *, tenant: str = TENANT, channel: bool = True, by: str = "admin"
    ) -> web.Response:
        activity = self._base(by, tenant=tenant, channel=channel, kind="conversationUpdate")
        if channel:
            activity["conversation"]["id"] = CHANNEL
            activity["channelData"]["eventType"] = "teamMemberAdded"
        activity["membersAdded"] = members
        return await self.post(activity)

    # --- reading what the bot sent ------------------------------------------------------------------------
    def to(self, conversation_id: str, method: str = "POST") -> list[dict[str, Any]]:
        """Activities the bot sent into a conversation (replies and new messages), oldest first."""
        return [
            r.body
            for r in self.connector.sent(method, f"/v3/conversations/{conversation_id}")
            if r.path.count("/") >= 4
        ]

    def dm(self, who: str) -> list[dict[str, Any]]:
        return self.to(f"a:personal-{who}")


def card_of(activity: dict[str, Any]) -> dict[str, Any]:
    attachments = activity.get("attachments") or []
    assert attachments, f"expected a card, got {activity.get('text')!r}"
    assert attachments[0]["contentType"] == "application/vnd.microsoft.card.adaptive"
    return attachments[0]["content"]


def text_of(activity_or_card: dict[str, Any]) -> str:
    """Every piece of text in an activity or card (text, text blocks, facts), for assertions."""
    if activity_or_card.get("attachments"):
        activity_or_card = card_of(activity_or_card)
    if activity_or_card.get("type") != "AdaptiveCard":
        return str(activity_or_card.get("text") or "")
    parts = []
    for item in activity_or_card.get("body", []):
        parts.append(item.get("text", ""))
        parts.extend(f"{f['title']}: {f['value']}" for f in item.get("facts", []))
        parts.append(item.get("label", ""))
    return "\n".join(p for p in parts if p)


def actions_of(card: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Card button title -> its data."""
    return {a["title"]: a["data"] for a in card.get("actions", [])}


async def count(db: Database, model: type) -> int:
    async with db.sessions() as session:
        return await session.scalar(select(func.count()).select_from(model)) or 0


def teams_settings(**overrides: Any) -> TeamsSettings:
    values: dict[str, Any] = {
        "host": "127.0.0.1",
        "teams_emulator": True,
        "teams_service_hosts": "127.0.0.1",  # the fake Bot Connector's host
        "teams_retry_base_seconds": 0.0,
        "_env_file": None,
    }
    values.update(overrides)
    return TeamsSettings(**values)


def runtime_of(db: Database, clock: Clock) -> Runtime:
    """The composition root's runtime on the test database and clock, with Ada as the admin."""
    return build_runtime(Settings(database_url=db.url, ownerbot_admins=frozenset({PEOPLE["admin"][0]})), clock=clock)


async def start_wire(
    db: Database, clock: Clock, connector: FakeBotConnector, settings: TeamsSettings, token: str | None = None
) -> tuple[TeamsWire, TestClient]:
    """Teams alone on a web app of its own, registered on a runtime like the composition root does."""
    runtime = runtime_of(db, clock)
    app = web.Application()
    status = teams.register(app, runtime, settings)
    assert status.enabled, status.detail

    async def close_engine(_: web.Application) -> None:
        await runtime.outbox.drain()
        await runtime.engine.dispose()

    app.on_cleanup.append(close_engine)
    client = TestClient(TestServer(app, host="127.0.0.1"))
    await client.start_server()
    return TeamsWire(client, connector, runtime.notifiers[Platform.TEAMS], token, runtime.outbox), client


@pytest.fixture
async def wire(db: Database, clock: Clock, connector: FakeBotConnector) -> AsyncIterator[TeamsWire]:
    """Emulator-mode wiring (no app id; the server is on loopback), on SQLite and PostgreSQL."""
    talk, client = await start_wire(db, clock, connector, teams_settings())
    yield talk
    await client.close()
