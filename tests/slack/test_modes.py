"""How Slack is switched on: off without settings, bad settings named, OAuth installs, Socket Mode."""

from __future__ import annotations

import asyncio
import re
import time
from urllib.parse import unquote

import pytest
from sqlalchemy import func, select

from app import RUNTIME
from bot.settings import SettingsError
from db import migrate
from db.models import Member, Platform
from db.models.slack import slack_bots, slack_installations, slack_oauth_states
from handlers import Reply
from handlers.ports import DeliveryFailed

from ..conftest import Database
from .conftest import FakeSlack, SlackDriver, slack_env, start_ownerbot, text_of


async def test_models_and_migrations_agree(db: Database) -> None:
    await asyncio.to_thread(migrate.check, db.url)  # raises if the Slack tables drifted from 0004_slack


async def test_without_slack_settings_the_server_starts_and_says_slack_is_off(
    db: Database, fake_slack: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    slack_env(monkeypatch, fake_slack, SLACK_SIGNING_SECRET="", SLACK_BOT_TOKEN="")
    client = await start_ownerbot(db)
    try:
        [slack] = [s for s in client.statuses if s.name == "slack"]  # type: ignore[attr-defined]
        assert not slack.enabled and "SLACK_SIGNING_SECRET" in slack.line() and "SLACK_BOT_TOKEN" in slack.line()
        assert (await client.post("/slack/events", data=b"x")).status == 404
        assert (await client.get("/healthz")).status == 200
    finally:
        await client.close()


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"SLACK_BOT_TOKEN": "xoxp-a-user-token"}, "Setting SLACK_BOT_TOKEN is invalid"),
        ({"SLACK_APP_TOKEN": "xoxb-wrong-kind"}, "Setting SLACK_APP_TOKEN is invalid"),
        ({"SLACK_API_URL": "slack.example.com"}, "Setting SLACK_API_URL is invalid"),
        ({"SLACK_CLIENT_ID": "111.222"}, "SLACK_CLIENT_SECRET is needed too"),
    ],
)
async def test_bad_slack_settings_fail_at_start_with_one_line(
    sqlite_db: Database, fake_slack: FakeSlack, monkeypatch: pytest.MonkeyPatch, env: dict[str, str], named: str
) -> None:
    slack_env(monkeypatch, fake_slack, **env)
    with pytest.raises(SettingsError, match=named) as raised:
        await start_ownerbot(sqlite_db)
    assert "\n" not in str(raised.value) and "xoxp-a-user-token" not in str(raised.value)


async def test_oauth_install_stores_the_workspace_and_its_token_is_used(
    db: Database, fake_slack: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    slack_env(
        monkeypatch,
        fake_slack,
        SLACK_BOT_TOKEN="",
        SLACK_CLIENT_ID="111.222",
        SLACK_CLIENT_SECRET="oauth-client-secret",
    )
    fake_slack.installs["code-T7"] = {
        "ok": True,
        "app_id": "A0OWNERBOT",
        "authed_user": {"id": "U9"},
        "scope": "commands,chat:write,users:read",
        "token_type": "bot",
        "access_token": "xoxb-installed-T7",
        "bot_user_id": "UBOT7",
        "team": {"id": "T7", "name": "Seven"},
        "enterprise": None,
        "is_enterprise_install": False,
    }
    client = await start_ownerbot(db)
    try:
        [slack] = [s for s in client.statuses if s.name == "slack"]  # type: ignore[attr-defined]
        assert slack.enabled and "install at /slack/install" in slack.detail
        page = await client.get("/slack/install")
        html = await page.text()
        assert page.status == 200 and "https://slack.com/oauth/v2/authorize" in html
        state = re.search(r"state=([^&\"]+)", unquote(html.replace("&amp;", "&"))).group(1)  # type: ignore[union-attr]
        assert "client_id=111.222" in html and "users:read" in unquote(html)
        cookie = page.cookies["slack-app-oauth-state"].value
        done = await client.get(
            f"/slack/oauth_redirect?code=code-T7&state={state}", headers={"Cookie": f"slack-app-oauth-state={cookie}"}
        )
        assert done.status == 200, await done.text()
        async with db.engine.connect() as connection:
            installed = (
                await connection.execute(select(slack_installations.c.team_id, slack_installations.c.bot_token))
            ).all()
            bots = (await connection.execute(select(slack_bots.c.team_id))).scalars().all()
            states = await connection.scalar(select(func.count()).select_from(slack_oauth_states))
        assert installed == [("T7", "xoxb-installed-T7")] and bots == ["T7"] and states == 0

        driver = SlackDriver(client, fake_slack)
        fake_slack.reset()
        _, key = await driver.command("U9", "/mine", team="T7")
        assert "You own no customers yet" in text_of(fake_slack.posts_to(key)[0])
        assert {c.token for c in fake_slack.calls} == {"xoxb-installed-T7"}

        fake_slack.reset()
        _, key = await driver.command("U1", "/mine", team="T8")  # a workspace that never installed ownerbot
        [refused] = fake_slack.posts_to(key)  # bolt's own answer: no installation, nothing done
        assert "reinstall this app" in refused["text"] and fake_slack.called("users.info") == []
        async with db.sessions() as session:
            assert await session.scalar(select(func.count()).select_from(Member)) == 1

        notifier = client.server.app[RUNTIME].notifiers[Platform.SLACK]
        ref = await notifier.send_direct(workspace="T7", user_id="U9", reply=Reply("Your nudge"))
        assert ref.channel_id == "DU9" and fake_slack.calls[-1].token == "xoxb-installed-T7"
        with pytest.raises(DeliveryFailed) as failed:
            await notifier.send_direct(workspace="T8", user_id="U1", reply=Reply("Your nudge"))
        assert failed.value.permanent
    finally:
        await client.close()


async def test_socket_mode_takes_commands_over_the_websocket(
    db: Database, fake_slack: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    slack_env(monkeypatch, fake_slack, SLACK_SIGNING_SECRET="", SLACK_APP_TOKEN="xapp-1-A0OWNERBOT-socket")
    client = await start_ownerbot(db)
    try:
        [slack] = [s for s in client.statuses if s.name == "slack"]  # type: ignore[attr-defined]
        assert slack.enabled and slack.detail.startswith("Socket Mode")
        assert (await client.post("/slack/events", data=b"x")).status == 404  # no public endpoint needed
        for _ in range(200):
            if fake_slack.sockets:
                break
            await asyncio.sleep(0.02)
        [socket] = fake_slack.sockets
        assert fake_slack.called("apps.connections.open")[0] is not None
        await socket.send_json(
            {
                "envelope_id": "env-1",
                "type": "slash_commands",
                "accepts_response_payload": True,
                "payload": {
                    "token": "x",
                    "team_id": "T1",
                    "team_domain": "t1",
                    "channel_id": "C1",
                    "channel_name": "support",
                    "user_id": "U1",
                    "user_name": "u1",
                    "command": "/mine",
                    "text": "",
                    "api_app_id": "A0OWNERBOT",
                    "response_url": fake_slack.response_url("sock"),
                    "trigger_id": "trigger.sock",
                },
            }
        )
        deadline = time.monotonic() + 10
        while not fake_slack.socket_acks and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        [acked] = fake_slack.socket_acks  # the answer rides in the envelope's ack: nothing to the response_url
        assert acked["envelope_id"] == "env-1"
        assert "You own no customers yet" in text_of(acked["payload"])
        assert fake_slack.posts_to("sock") == []
    finally:
        await client.close()


def test_the_manifest_creates_what_the_code_serves() -> None:
    from pathlib import Path

    from bot.slack import listeners

    lines = (Path(listeners.__file__).parent / "manifest.yml").read_text().splitlines()
    commands = [line.split("/", 1)[1].strip() for line in lines if line.strip().startswith("- command: /")]
    assert commands == list(listeners.SLASH_COMMANDS)
    start = lines.index("    bot:")
    scopes = []
    for line in lines[start + 1 :]:
        if not line.strip().startswith("- "):
            break
        scopes.append(line.strip()[2:])
    assert scopes == listeners.BOT_SCOPES
    text = "\n".join(lines)
    for needed in (
        "home_tab_enabled: true",
        "app_home_opened",
        "app_mention",
        "message.im",
        "request_url: https://ownerbot.example.com/slack/events",
        "/slack/oauth_redirect",
    ):
        assert needed in text
