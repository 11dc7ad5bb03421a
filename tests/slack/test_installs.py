"""Installs over OAuth: a workspace that uninstalls ownerbot or revokes its token is forgotten (its installs
deleted, its pending messages skipped), and Enterprise Grid installs are found by their enterprise id."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select

from app import RUNTIME
from db.models import OutboxMessage, OutboxStatus, Platform
from db.models.slack import slack_bots, slack_installations
from db.outbox import enqueue
from handlers import Reply
from handlers.ports import DeliveryFailed

from ..conftest import Database
from .conftest import FakeSlack, SlackDriver, slack_env, start_ownerbot, text_of


def oauth_answer(token: str, team: str | None, enterprise: str | None = None) -> dict[str, Any]:
    return {
        "ok": True,
        "app_id": "A0OWNERBOT",
        "authed_user": {"id": "U9"},
        "scope": "commands,chat:write,users:read",
        "token_type": "bot",
        "access_token": token,
        "bot_user_id": "UBOT7",
        "team": {"id": team, "name": "Seven"} if team else None,
        "enterprise": {"id": enterprise, "name": "Grid Org"} if enterprise else None,
        "is_enterprise_install": team is None,
    }


@pytest.fixture
async def oauth(db: Database, fake_slack: FakeSlack, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[TestClient]:
    slack_env(monkeypatch, fake_slack, SLACK_BOT_TOKEN="", SLACK_CLIENT_ID="111.222", SLACK_CLIENT_SECRET="secret")
    client = await start_ownerbot(db)
    yield client
    await client.close()


async def install(client: TestClient, code: str) -> None:
    page = await client.get("/slack/install")
    html = await page.text()
    state = re.search(r"state=([^&\"]+)", unquote(html.replace("&amp;", "&"))).group(1)  # type: ignore[union-attr]
    cookie = page.cookies["slack-app-oauth-state"].value
    done = await client.get(
        f"/slack/oauth_redirect?code={code}&state={state}", headers={"Cookie": f"slack-app-oauth-state={cookie}"}
    )
    assert done.status == 200, await done.text()


async def owe_messages(db: Database, workspace: str, count: int) -> None:
    async with db.sessions() as session, session.begin():
        for n in range(count):
            await enqueue(
                session,
                key=f"test:{workspace}:{n}",
                platform=Platform.SLACK,
                workspace=workspace,
                target="U9",
                direct=True,
                purpose="notice",
                now=datetime(2026, 11, 23, tzinfo=UTC),
                content='{"text":"a nudge"}',
                due_at=datetime(2100, 1, 1, tzinfo=UTC),  # not due yet: still pending when the event comes
            )


async def statuses(db: Database, workspace: str) -> list[OutboxStatus]:
    async with db.sessions() as session:
        found = await session.execute(select(OutboxMessage.status).where(OutboxMessage.workspace == workspace))
        return sorted(found.scalars().all())


async def rows(db: Database, table: Any) -> int:
    async with db.engine.connect() as connection:
        return int(await connection.scalar(select(func.count()).select_from(table)) or 0)


async def test_app_uninstalled_deletes_the_installs_and_skips_pending_messages(
    oauth: TestClient, fake_slack: FakeSlack, db: Database
) -> None:
    fake_slack.installs["code-T7"] = oauth_answer("xoxb-installed-T7", "T7")
    await install(oauth, "code-T7")
    await owe_messages(db, "T7", 3)
    await owe_messages(db, "T1", 1)  # another workspace keeps its message
    assert await rows(db, slack_installations) == 1 and await rows(db, slack_bots) == 1

    driver = SlackDriver(oauth, fake_slack)
    response = await driver.event({"type": "app_uninstalled", "event_ts": "1700000000.1"}, "Ev0BYE", team="T7")
    assert response.status == 200
    assert await rows(db, slack_installations) == 0 and await rows(db, slack_bots) == 0
    assert await statuses(db, "T7") == [OutboxStatus.SKIPPED] * 3
    assert await statuses(db, "T1") == [OutboxStatus.PENDING]
    notifier = oauth.server.app[RUNTIME].notifiers[Platform.SLACK]
    with pytest.raises(DeliveryFailed) as failed:
        await notifier.send_direct(workspace="T7", user_id="U9", reply=Reply("still there?"))
    assert failed.value.permanent


async def test_tokens_revoked_deletes_the_bot_and_skips_pending_messages(
    oauth: TestClient, fake_slack: FakeSlack, db: Database
) -> None:
    fake_slack.installs["code-T7"] = oauth_answer("xoxb-installed-T7", "T7")
    await install(oauth, "code-T7")
    await owe_messages(db, "T7", 2)
    driver = SlackDriver(oauth, fake_slack)
    user_only = {"type": "tokens_revoked", "tokens": {"oauth": ["U9"], "bot": []}, "event_ts": "1700000000.2"}
    await driver.event(user_only, "Ev0USER", team="T7")
    assert await rows(db, slack_bots) == 1 and await statuses(db, "T7") == [OutboxStatus.PENDING] * 2
    revoked = {"type": "tokens_revoked", "tokens": {"oauth": [], "bot": ["UBOT7"]}, "event_ts": "1700000000.3"}
    await driver.event(revoked, "Ev0BOT", team="T7")
    assert await rows(db, slack_bots) == 0
    assert await statuses(db, "T7") == [OutboxStatus.SKIPPED] * 2


async def test_an_org_wide_grid_install_is_found_by_its_enterprise_id(
    oauth: TestClient, fake_slack: FakeSlack, db: Database
) -> None:
    fake_slack.installs["code-E1"] = oauth_answer("xoxb-grid-org", None, enterprise="E1")
    await install(oauth, "code-E1")
    async with db.engine.connect() as connection:
        [(enterprise, team)] = (
            await connection.execute(select(slack_bots.c.enterprise_id, slack_bots.c.team_id))
        ).all()
    assert (enterprise, team) == ("E1", None)  # an org-wide install has no team of its own

    driver = SlackDriver(oauth, fake_slack)
    _, key = await driver.command("U9", "/mine", team="T7", enterprise="E1")  # a workspace of the org
    assert "You own no customers yet" in text_of(fake_slack.posts_to(key)[0])

    # What the bot says on its own (the outbox sender) finds the org's token for that workspace.
    notifier = oauth.server.app[RUNTIME].notifiers[Platform.SLACK]
    ref = await notifier.send_direct(workspace="T7", user_id="U9", reply=Reply("Your nudge"))
    assert ref.channel_id == "DU9" and fake_slack.calls[-1].token == "xoxb-grid-org"
    with pytest.raises(DeliveryFailed):  # a workspace outside the org still has no token
        await notifier.send_direct(workspace="T8", user_id="U9", reply=Reply("Your nudge"))
