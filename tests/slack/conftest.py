"""A fake Slack at the HTTP boundary, and a driver that talks to ownerbot exactly like Slack does.

`FakeSlack` is a local aiohttp server speaking the Slack Web API methods ownerbot calls (real-shaped JSON),
plus `response_url` endpoints; it records every call. `SlackDriver` posts signed requests (v0 HMAC-SHA256 of
`v0:{timestamp}:{body}`) in Slack's formats to the real ownerbot server built by app.build_app.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import pytest
from aiohttp import WSMsgType, web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from app import RUNTIME, build_app
from bot.settings import Settings
from bot.slack import SLACK_FACE
from db.clock import Clock, utc_now
from db.models import Customer, Member

from ..conftest import Clock as TravelClock
from ..conftest import Database

SIGNING_SECRET = "test-signing-secret-0123456789"
BOT_TOKEN = "xoxb-test-bot-token"
SLACK_ENV = (
    "SLACK_SIGNING_SECRET",
    "SLACK_BOT_TOKEN",
    "SLACK_CLIENT_ID",
    "SLACK_CLIENT_SECRET",
    "SLACK_APP_TOKEN",
    "SLACK_API_URL",
    "SLACK_RETRY_BASE_SECONDS",
    "SLACK_RETRY_JITTER_SECONDS",
)

PEOPLE = {
    "U_ADMIN": ("T1", "Ada Admin", "Europe/Berlin"),
    "U_LEAD": ("T1", "Lee Lead", "Europe/Berlin"),
    "U1": ("T1", "Uma", "Europe/Berlin"),
    "U2": ("T1", "Sam", "America/New_York"),
    "U3": ("T1", "Kim", "Asia/Tokyo"),
    "U4": ("T1", "Noor", "UTC"),
    "U5": ("T1", "Ola", "UTC"),
    "U6": ("T1", "Pat", "UTC"),
    "V1": ("T2", "Vic", "UTC"),
    "U9": ("T7", "Nina", "UTC"),
}

# The workspace's channels as Slack knows them: id -> (name, private, the bot is a member, archived).
CHANNELS = {
    "C1": ("support", False, True, False),
    "C0OLD": ("old-wins", False, False, True),
    "C0WOW": ("wow", False, False, False),
    "G0VIP": ("vip-desk", True, True, False),
    "G0HUSH": ("hush", True, False, False),
}


def channel_json(channel_id: str) -> dict[str, Any]:
    name, private, member, archived = CHANNELS[channel_id]
    return {
        "id": channel_id,
        "name": name,
        "is_channel": not private,
        "is_group": False,
        "is_private": private,
        "is_member": member,
        "is_archived": archived,
    }


@dataclass
class Call:
    method: str
    args: dict[str, Any]
    token: str | None
    status: int = 200


@dataclass
class FakeSlack:
    """Records `calls` (Web API) and `posts` (response_url); `fail(method, status, times, retry_after)` injects
    rate limits and outages."""

    base: str = ""
    calls: list[Call] = field(default_factory=list)
    posts: list[dict[str, Any]] = field(default_factory=list)
    failures: dict[str, list[tuple[int, str | None]]] = field(default_factory=dict)
    ts: itertools.count = field(default_factory=lambda: itertools.count(1))
    installs: dict[str, dict[str, Any]] = field(default_factory=dict)  # oauth code -> oauth.v2.access answer
    sockets: list[web.WebSocketResponse] = field(default_factory=list)  # Socket Mode connections
    socket_acks: list[dict[str, Any]] = field(default_factory=list)  # what ownerbot answered over them
    holds: dict[str, asyncio.Event] = field(default_factory=dict)  # methods that wait until released

    def hold(self, method: str) -> asyncio.Event:
        """Make `method` hang until the returned event is set (a slow Slack)."""
        self.holds[method] = asyncio.Event()
        return self.holds[method]

    @property
    def api_url(self) -> str:
        return f"{self.base}/api/"

    def response_url(self, key: str) -> str:
        return f"{self.base}/respond/{key}"

    def fail(
        self, method: str, status: int = 429, times: int = 1, retry_after: str | None = "0", error: str | None = None
    ) -> None:
        """The next `times` calls fail: HTTP `status`, or with status 200 Slack's `{"ok": false, "error": ...}`."""
        self.failures.setdefault(method, []).extend([(status, error if status == 200 else retry_after)] * times)

    def called(self, method: str, *, ok_only: bool = True) -> list[dict[str, Any]]:
        return [c.args for c in self.calls if c.method == method and (c.status == 200 or not ok_only)]

    def attempts(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def answered_in_ack(self, key: str, body: bytes) -> None:
        """A command answered in its HTTP response: Slack shows it as it would a post to the response_url."""
        answer = json.loads(body) if body.strip().startswith(b"{") else {}
        if isinstance(answer, dict) and ("text" in answer or "blocks" in answer):
            self.posts.append({"key": key, "body": answer, "status": 200, "in_ack": True})

    def posts_to(self, key: str) -> list[dict[str, Any]]:
        return [p["body"] for p in self.posts if p["key"] == key and p["status"] == 200]

    def dms_to(self, user: str) -> list[dict[str, Any]]:
        return [c for c in self.called("chat.postMessage") if c.get("channel") == f"D{user}"]

    def reset(self) -> None:
        self.calls.clear()
        self.posts.clear()

    def _next_ts(self) -> str:
        return f"1700000000.{next(self.ts):06d}"

    async def api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if method in self.holds:
            await self.holds[method].wait()
        args: dict[str, Any] = dict(request.query)
        if request.can_read_body:
            if request.content_type == "application/json":
                args.update(await request.json())
            else:
                args.update(dict(await request.post()))
        auth = request.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ") or args.get("token")
        queued = self.failures.get(method)
        if queued:
            status, retry_after = queued.pop(0)
            self.calls.append(Call(method, args, token, status))
            if status == 200:
                return web.json_response({"ok": False, "error": retry_after})
            headers = {"Retry-After": retry_after} if retry_after is not None else {}
            error = "ratelimited" if status == 429 else "fatal_error"
            return web.json_response({"ok": False, "error": error}, status=status, headers=headers)
        self.calls.append(Call(method, args, token))
        return web.json_response(self.answer(method, args))

    def answer(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        if method == "auth.test":
            return {
                "ok": True,
                "url": "https://acme.slack.com/",
                "team": "Acme",
                "user": "ownerbot",
                "team_id": "T1",
                "user_id": "UBOT",
                "bot_id": "BBOT",
                "is_enterprise_install": False,
            }
        if method == "users.info":
            user = args["user"]
            if user not in PEOPLE:
                return {"ok": False, "error": "user_not_found"}
            team, name, tz = PEOPLE[user]
            return {
                "ok": True,
                "user": {
                    "id": user,
                    "team_id": team,
                    "name": name.lower(),
                    "deleted": False,
                    "real_name": f"{name} Real",
                    "tz": tz,
                    "tz_offset": 0,
                    "is_bot": False,
                    "is_admin": False,
                    "profile": {"display_name": name, "real_name": f"{name} Real", "team": team},
                },
            }
        if method == "conversations.info":  # like Slack: ids only, and private channels only to their members
            found = CHANNELS.get(str(args.get("channel", "")))
            if found is None or (found[1] and not found[2]):
                return {"ok": False, "error": "channel_not_found"}
            return {"ok": True, "channel": channel_json(str(args["channel"]))}
        if method == "conversations.list":  # two pages, to show the cursor is followed
            visible = [c for c, (_n, private, member, _a) in CHANNELS.items() if member or not private]
            first = not args.get("cursor")
            page = visible[:2] if first else visible[2:]
            return {
                "ok": True,
                "channels": [channel_json(c) for c in page],
                "response_metadata": {"next_cursor": "page2" if first else ""},
            }
        if method == "conversations.open":
            return {"ok": True, "channel": {"id": f"D{args['users']}"}}
        if method == "chat.postMessage":
            ts = self._next_ts()
            return {
                "ok": True,
                "channel": args["channel"],
                "ts": ts,
                "message": {
                    "type": "message",
                    "text": args.get("text"),
                    "ts": ts,
                    "bot_id": "BBOT",
                    "blocks": args.get("blocks", []),
                },
            }
        if method == "chat.update":
            return {"ok": True, "channel": args["channel"], "ts": args["ts"], "text": args.get("text")}
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": self._next_ts()}
        if method in ("views.open", "views.publish", "views.update"):
            view = args["view"] if isinstance(args["view"], dict) else json.loads(args["view"])
            return {"ok": True, "view": {**view, "id": f"V{next(self.ts)}", "team_id": "T1"}}
        if method == "apps.connections.open":
            return {"ok": True, "url": self.base.replace("http://", "ws://") + "/socket"}
        if method == "oauth.v2.access":
            found = self.installs.get(args.get("code", ""))
            return found if found else {"ok": False, "error": "invalid_code"}
        return {"ok": False, "error": "unknown_method"}

    async def respond(self, request: web.Request) -> web.Response:
        key = request.match_info["key"]
        body = await request.json()
        queued = self.failures.get("response_url")
        if queued:
            status, _ = queued.pop(0)
            self.posts.append({"key": key, "body": body, "status": status})
            return web.Response(status=status, text="service_unavailable")
        self.posts.append({"key": key, "body": body, "status": 200})
        return web.Response(text="ok")

    async def socket(self, request: web.Request) -> web.WebSocketResponse:
        """Socket Mode: say hello, then record every envelope acknowledgement ownerbot sends back."""
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.sockets.append(ws)
        await ws.send_json(
            {
                "type": "hello",
                "num_connections": 1,
                "debug_info": {"host": "fake-slack"},
                "connection_info": {"app_id": "A0OWNERBOT"},
            }
        )
        async for message in ws:
            if message.type == WSMsgType.TEXT:
                self.socket_acks.append(json.loads(message.data))
        return ws


def sign(body: str, timestamp: int, secret: str = SIGNING_SECRET) -> str:
    digest = hmac.new(secret.encode(), f"v0:{timestamp}:{body}".encode(), hashlib.sha256).hexdigest()
    return f"v0={digest}"


def text_of(message: dict[str, Any]) -> str:
    """Everything a person would read in a message or view: the blocks' text, fields and button labels."""
    parts: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") in ("mrkdwn", "plain_text") and "text" in node:
                parts.append(str(node["text"]))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    blocks = message.get("blocks")
    walk(json.loads(blocks) if isinstance(blocks, str) else blocks or [])
    return "\n".join(parts)


def buttons_of(message: dict[str, Any]) -> dict[str, str]:
    """Button label -> (action_id, value), as Slack would show them."""
    blocks = message.get("blocks")
    blocks = json.loads(blocks) if isinstance(blocks, str) else blocks or []
    found = {}
    for block in blocks:
        for element in block.get("elements", []) if block.get("type") == "actions" else []:
            found[element["text"]["text"]] = (element["action_id"], element.get("value", ""))
    return found


class SlackDriver:
    """Sends what Slack sends: form-encoded slash commands, `payload=` interactivity, Events API JSON."""

    def __init__(self, client: TestClient, fake: FakeSlack) -> None:
        self.client = client
        self.fake = fake
        self.face = client.server.app[SLACK_FACE]
        self.outbox = client.server.app[RUNTIME].outbox
        self.keys = itertools.count(1)
        self.triggers = itertools.count(1)

    async def post(
        self,
        body: str,
        content_type: str,
        *,
        timestamp: int | None = None,
        signature: str | None = None,
        headers: dict[str, str] | None = None,
        drain: bool = True,
        answer_key: str | None = None,
    ) -> web.Response:
        """Post a signed request; `answer_key`: a command's, under which an answer in its ack is recorded."""
        timestamp = int(time.time()) if timestamp is None else timestamp
        response = await self.client.post(
            "/slack/events",
            data=body.encode(),
            headers={
                "Content-Type": content_type,
                "X-Slack-Request-Timestamp": str(timestamp),
                "X-Slack-Signature": signature or sign(body, timestamp),
                **(headers or {}),
            },
        )
        if answer_key is not None:
            self.fake.answered_in_ack(answer_key, await response.read())
        await response.read()
        if drain:
            await self.face.work.drain()
            await self.outbox.drain()  # what the request owes others goes out after it, in the background
        return response

    async def command(
        self,
        user: str,
        command: str,
        text: str = "",
        *,
        team: str = "T1",
        channel: str = "C1",
        enterprise: str | None = None,
        **post: Any,
    ) -> tuple[web.Response, str]:
        """A slash command; returns the HTTP response and the response_url key to read answers from.
        `enterprise`: sent from a workspace of that Enterprise Grid org, which installed ownerbot org-wide."""
        key = f"cmd{next(self.keys)}"
        grid = {"enterprise_id": enterprise, "enterprise_name": "Grid Org"} if enterprise else {}
        body = urlencode(
            {
                **grid,
                "token": "legacy-verification-token",
                "team_id": team,
                "team_domain": team.lower(),
                "channel_id": channel,
                "channel_name": "support",
                "user_id": user,
                "user_name": user.lower(),
                "command": command,
                "text": text,
                "api_app_id": "A0OWNERBOT",
                "is_enterprise_install": "true" if enterprise else "false",
                "response_url": self.fake.response_url(key),
                "trigger_id": f"trigger.{next(self.triggers)}",
            }
        )
        return await self.post(body, "application/x-www-form-urlencoded", answer_key=key, **post), key

    async def interact(self, payload: dict[str, Any], **post: Any) -> web.Response:
        return await self.post(urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded", **post)

    async def click(
        self,
        user: str,
        action_id: str,
        value: str,
        *,
        team: str = "T1",
        channel: str | None = None,
        message: dict[str, Any] | None = None,
        home: bool = False,
        drain: bool = True,
    ) -> tuple[web.Response, str | None]:
        """A button press on a message (with a response_url) or on the App Home (without one)."""
        key = None if home else f"btn{next(self.keys)}"
        channel = channel or f"D{user}"
        payload: dict[str, Any] = {
            "type": "block_actions",
            "user": {"id": user, "username": user.lower(), "name": user.lower(), "team_id": team},
            "api_app_id": "A0OWNERBOT",
            "token": "legacy-verification-token",
            "trigger_id": f"trigger.{next(self.triggers)}",
            "team": {"id": team, "domain": team.lower()},
            "enterprise": None,
            "is_enterprise_install": False,
            "actions": [
                {
                    "action_id": action_id,
                    "block_id": "b1",
                    "value": value,
                    "type": "button",
                    "text": {"type": "plain_text", "text": "button"},
                    "action_ts": f"{time.time():.6f}",
                }
            ],
        }
        if home:
            payload["container"] = {"type": "view", "view_id": "VHOME"}
            payload["view"] = {"id": "VHOME", "type": "home", "team_id": team}
        else:
            ts = (message or {}).get("ts", "1700000000.999999")
            payload["container"] = {"type": "message", "message_ts": ts, "channel_id": channel, "is_ephemeral": False}
            payload["channel"] = {"id": channel, "name": "directmessage"}
            payload["message"] = {
                "type": "message",
                "ts": ts,
                "text": "offer",
                "blocks": (message or {}).get("blocks", []),
            }
            payload["response_url"] = self.fake.response_url(key or "")
        return await self.interact(payload, drain=drain), key

    async def submit(
        self, user: str, view: dict[str, Any], typed: str, *, team: str = "T1", picked: str | None = None
    ) -> web.Response:
        """Submit a modal Slack showed (the view ownerbot passed to views.open) with `typed` in its text input and,
        when it has a users_select, `picked` chosen in it (None: left empty)."""
        inputs = [b for b in view["blocks"] if b["type"] == "input"]
        block = next(b for b in inputs if b["element"]["type"] == "plain_text_input")
        values: dict[str, Any] = {
            block["block_id"]: {block["element"]["action_id"]: {"type": "plain_text_input", "value": typed}}
        }
        for picker in (b for b in inputs if b["element"]["type"] == "users_select"):
            values[picker["block_id"]] = {
                picker["element"]["action_id"]: {"type": "users_select", "selected_user": picked}
            }
        payload = {
            "type": "view_submission",
            "team": {"id": team, "domain": team.lower()},
            "user": {"id": user, "username": user.lower(), "name": user.lower(), "team_id": team},
            "api_app_id": "A0OWNERBOT",
            "token": "legacy-verification-token",
            "trigger_id": f"trigger.{next(self.triggers)}",
            "view": {
                **view,
                "id": "VMODAL",
                "team_id": team,
                "hash": "1700000000.abc",
                "state": {"values": values},
            },
            "response_urls": [],
            "is_enterprise_install": False,
            "enterprise": None,
        }
        return await self.interact(payload)

    async def event(
        self, event: dict[str, Any], event_id: str, *, team: str = "T1", retry: int | None = None, **post: Any
    ) -> web.Response:
        body = json.dumps(
            {
                "token": "legacy-verification-token",
                "team_id": team,
                "api_app_id": "A0OWNERBOT",
                "event": event,
                "type": "event_callback",
                "event_id": event_id,
                "event_time": int(time.time()),
                "authorizations": [
                    {
                        "enterprise_id": None,
                        "team_id": team,
                        "user_id": "UBOT",
                        "is_bot": True,
                        "is_enterprise_install": False,
                    }
                ],
                "is_ext_shared_channel": False,
                "event_context": "4-eyJldCI6ImFwcF9tZW50aW9uIn0",
            }
        )
        headers = {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"} if retry else {}
        return await self.post(body, "application/json", headers=headers, **post)

    def last_modal(self) -> dict[str, Any]:
        opened = self.fake.called("views.open")
        assert opened, "no modal was opened"
        view = opened[-1]["view"]
        return view if isinstance(view, dict) else json.loads(view)


@pytest.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    fake = FakeSlack()
    app = web.Application()
    app.router.add_route("*", "/api/{method}", fake.api)
    app.router.add_post("/respond/{key}", fake.respond)
    app.router.add_get("/socket", fake.socket)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    fake.base = str(server.make_url("")).rstrip("/")
    yield fake
    await server.close()


def slack_env(monkeypatch: pytest.MonkeyPatch, fake: FakeSlack, **values: str) -> None:
    for name in SLACK_ENV:
        monkeypatch.delenv(name, raising=False)
    defaults = {
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_API_URL": fake.api_url,
        # Retries happen as in production, without the waits (test_safety proves the waits themselves).
        "SLACK_RETRY_BASE_SECONDS": "0",
        "SLACK_RETRY_JITTER_SECONDS": "0",
    }
    for name, value in {**defaults, **values}.items():
        if value:
            monkeypatch.setenv(name, value)


async def start_ownerbot(db: Database, clock: Clock = utc_now) -> TestClient:
    app, statuses = await build_app(Settings(database_url=db.url, ownerbot_admins=frozenset({"U_ADMIN"})), clock=clock)
    client = TestClient(TestServer(app, host="127.0.0.1"))
    await client.start_server()
    client.statuses = statuses  # type: ignore[attr-defined]
    return client


@pytest.fixture
async def slack(db: Database, fake_slack: FakeSlack, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[SlackDriver]:
    """ownerbot's real server with Slack on (one workspace, bot token), in front of the fake Slack."""
    slack_env(monkeypatch, fake_slack)
    client = await start_ownerbot(db)
    yield SlackDriver(client, fake_slack)
    await client.close()


@pytest.fixture
async def slack_at(
    db: Database, fake_slack: FakeSlack, clock: TravelClock, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[SlackDriver]:
    """Like `slack`, on the tests' travelling clock (`clock.advance(minutes=1)`)."""
    slack_env(monkeypatch, fake_slack)
    client = await start_ownerbot(db, clock)
    yield SlackDriver(client, fake_slack)
    await client.close()


async def owner_of(db: Database, customer: str) -> str | None:
    async with db.sessions() as session:
        return (
            await session.execute(
                select(Member.platform_user_id)
                .join(Customer, Customer.owner_id == Member.id)
                .where(Customer.name == customer)
            )
        ).scalar_one_or_none()


async def seeded(slack: SlackDriver, *customers: str) -> None:
    """T1 with an admin and a lead (who adds the customers), everyone having used /mine once."""
    for user in ("U_ADMIN", "U_LEAD"):
        await slack.command(user, "/mine")
    await slack.command("U_ADMIN", "/ownerbot", "role <@U_LEAD|lee> lead")
    for name in customers:
        _response, key = await slack.command("U_LEAD", "/ownerbot", f'customer add "{name}"')
        assert "Added" in text_of(slack.fake.posts_to(key)[0]), slack.fake.posts_to(key)
    slack.fake.reset()
