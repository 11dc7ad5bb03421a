"""The real server (build_app) on 127.0.0.1 with or without DASHBOARD_TOKEN, running on the test clock."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp.test_utils import TestClient, TestServer

from app import build_app
from bot.platforms import PlatformStatus
from bot.settings import Settings

from ..conftest import Clock, Database

TOKEN = "lead-dashboard-token-0123456789"


async def start(
    db: Database, clock: Clock, monkeypatch: pytest.MonkeyPatch, token: str | None
) -> tuple[TestClient, list[PlatformStatus]]:
    if token is None:
        monkeypatch.delenv("DASHBOARD_TOKEN", raising=False)
    else:
        monkeypatch.setenv("DASHBOARD_TOKEN", token)
    app, statuses = await build_app(Settings(database_url=db.url), clock=clock)
    client = TestClient(TestServer(app, host="127.0.0.1"))
    await client.start_server()
    return client, statuses


@pytest.fixture
async def web_client(db: Database, clock: Clock, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[TestClient]:
    client, _ = await start(db, clock, monkeypatch, TOKEN)
    yield client
    await client.close()
