"""Helpers for the ticket tests: row counts, a ticket by id, and a signed-webhook HTTP client on build_app."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select

from app import build_app
from bot.settings import Settings
from bot.web.webhooks import PATH, sign
from db.models import Ticket

from ..conftest import Database

SECRET = "test-webhook-secret-not-real"


async def count(db: Database, model: type, *where: Any) -> int:
    async with db.sessions() as session:
        return await session.scalar(select(func.count()).select_from(model).where(*where)) or 0


async def ticket(db: Database, ticket_id: int) -> Ticket:
    async with db.sessions() as session:
        found = await session.get(Ticket, ticket_id)
        assert found is not None
        return found


@dataclass
class Webhook:
    client: TestClient

    async def post(
        self,
        payload: Any,
        *,
        secret: str | None = SECRET,
        headers: dict[str, str] | None = None,
        raw: bytes | None = None,
    ) -> tuple[int, dict[str, Any]]:
        body = raw if raw is not None else json.dumps(payload).encode()
        sent = {"Content-Type": "application/json"}
        if secret is not None:
            sent["X-Ownerbot-Signature"] = sign(secret, body)
        sent.update(headers or {})
        response = await self.client.post(PATH, data=body, headers=sent)
        return response.status, await response.json()


async def start_webhook(db: Database, monkeypatch: pytest.MonkeyPatch, secret: str | None) -> AsyncIterator[Webhook]:
    if secret is None:
        monkeypatch.delenv("TICKET_WEBHOOK_SECRET", raising=False)
    else:
        monkeypatch.setenv("TICKET_WEBHOOK_SECRET", secret)
    monkeypatch.setenv("TICKET_WEBHOOK_WORKSPACE", "console:T1")  # the workspace the `chat` fixture talks in
    app, _ = await build_app(Settings(database_url=db.url))
    client = TestClient(TestServer(app, host="127.0.0.1"))
    await client.start_server()
    try:
        yield Webhook(client)
    finally:
        await client.close()


@pytest.fixture
async def webhook(db: Database, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Webhook]:
    """The real server (build_app) on 127.0.0.1 with TICKET_WEBHOOK_SECRET set, writing into workspace T1."""
    async for hook in start_webhook(db, monkeypatch, SECRET):
        yield hook


@pytest.fixture
async def disabled_webhook(db: Database, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Webhook]:
    async for hook in start_webhook(db, monkeypatch, None):
        yield hook
