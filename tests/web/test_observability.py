"""GET /metrics, /healthz and /readyz over real HTTP on build_app, and the structured log lines, on both databases."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer
from alembic import command
from alembic.script import ScriptDirectory
from prometheus_client.parser import text_string_to_metric_families

from app import RUNTIME, build_app
from bot.settings import Settings
from bot.web.health import READINESS
from bot.web.webhooks import PATH as WEBHOOK_PATH
from bot.web.webhooks import sign
from db import migrate
from db.models import Platform
from db.structured_logs import JSON_FIELDS
from handlers import Invocation

from ..conftest import Clock, Database

SECRET = "observability-webhook-secret"
CUSTOMER_WORDS = "Zyxwv-quokka our invoices vanished again"  # must never reach a log line


async def serve(db_url: str, clock: Clock, monkeypatch: pytest.MonkeyPatch, **env: str) -> TestClient:
    for name in ("METRICS_TOKEN", "METRICS_ENABLED", "DASHBOARD_TOKEN", "DASHBOARD_TOKENS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TICKET_WEBHOOK_SECRET", SECRET)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    app, _ = await build_app(Settings(database_url=db_url, ownerbot_admins=frozenset({"U1"})), clock=clock)
    client = TestClient(TestServer(app, host="127.0.0.1"))
    await client.start_server()
    return client


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def value(found: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str) -> float:
    return found.get((name, tuple(sorted(labels.items()))), 0.0)


async def say(client: TestClient, user: str, text: str) -> bool:
    handlers = client.server.app[RUNTIME].handlers
    reply = await handlers.command(Invocation(platform=Platform.CONSOLE, workspace="T1", user_id=user, text=text))
    return not reply.error


async def post_webhook(client: TestClient, payload: dict[str, object]) -> int:
    body = json.dumps(payload).encode()
    headers = {"Content-Type": "application/json", "X-Ownerbot-Signature": sign(SECRET, body)}
    response = await client.post(WEBHOOK_PATH, data=body, headers=headers)
    return response.status


def helpdesk_comment(event_id: str) -> dict[str, object]:
    return {
        "event": "commented",
        "source": "acmedesk",
        "event_id": event_id,
        "updated_at": "2026-11-23T09:00:00Z",
        "ticket": {"id": "T-100", "subject": "Exports time out", "status": "open"},
        "customer": {"external_id": "crm-42", "name": "Globex"},
        "comment": {"author": "customer", "body": CUSTOMER_WORDS},
    }


async def test_metrics_count_commands_webhooks_and_their_outcomes(
    db: Database, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = await serve(db.url, clock, monkeypatch)
    try:
        before = samples(await (await client.get("/metrics")).text())
        assert await say(client, "U1", "customer add Acme Corp")
        assert await say(client, "U1", "claim acme corp")
        assert not await say(client, "U1", "claim nobody-at-all")  # refused: no such customer
        assert not await say(client, "U1", "frobnicate")  # not a command
        assert await post_webhook(client, helpdesk_comment("evt-1")) == 200
        assert await post_webhook(client, helpdesk_comment("evt-1")) == 200  # the same event again
        unsigned = await client.post(WEBHOOK_PATH, data=b"{}", headers={"Content-Type": "application/json"})
        assert unsigned.status == 401
        response = await client.get("/metrics")
        assert response.status == 200 and response.headers["Content-Type"].startswith("text/plain")
        after = samples(await response.text())
    finally:
        await client.close()

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("ownerbot_commands_total", command="claim", outcome="ok") == 1
    assert delta("ownerbot_commands_total", command="claim", outcome="refused") == 1
    assert delta("ownerbot_commands_total", command="customer", outcome="ok") == 1
    assert delta("ownerbot_commands_total", command="other", outcome="refused") == 1
    assert delta("ownerbot_command_seconds_count", command="claim") == 2
    assert delta("ownerbot_webhook_deliveries_total", source="acmedesk", outcome="applied") == 1
    assert delta("ownerbot_webhook_deliveries_total", source="acmedesk", outcome="duplicate") == 1
    assert delta("ownerbot_webhook_deliveries_total", source="unknown", outcome="unauthorized") == 1
    assert ("ownerbot_nudges_due", ()) in after and ("ownerbot_nudges_overdue", ()) in after


async def test_metrics_can_require_a_token_or_be_off(
    db: Database, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = "metrics-token-0123456789abcdef"
    client = await serve(db.url, clock, monkeypatch, METRICS_TOKEN=token)
    try:
        assert (await client.get("/metrics")).status == 401
        assert (await client.get("/metrics", headers={"Authorization": "Bearer wrong-wrong-wrong-wrong"})).status == 401
        ok = await client.get("/metrics", headers={"Authorization": f"Bearer {token}"})
        assert ok.status == 200 and "ownerbot_commands" in await ok.text()
    finally:
        await client.close()
    off = await serve(db.url, clock, monkeypatch, METRICS_ENABLED="false")
    try:
        assert (await off.get("/metrics")).status == 404
    finally:
        await off.close()


async def test_one_log_line_per_command_with_its_fields_and_never_the_customers_words(
    db: Database, clock: Clock, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from pythonjsonlogger.json import JsonFormatter

    caplog.set_level(logging.INFO)
    client = await serve(db.url, clock, monkeypatch, DASHBOARD_TOKEN="dashboard-token-0123456789")
    try:
        assert await say(client, "U1", "customer add Globex")
        assert await say(client, "U1", "claim globex")
        assert await say(client, "U1", f"idea globex {CUSTOMER_WORDS}")
        assert await say(client, "U1", "ticket open globex Exports time out")
        assert await say(client, "U1", f"ticket note 1 --from-customer {CUSTOMER_WORDS}")
        assert not await say(client, "U1", f"handoff globex {CUSTOMER_WORDS}")  # refused: nobody named
        assert await post_webhook(client, helpdesk_comment("evt-2")) == 200
        renamed = {**helpdesk_comment("evt-3"), "event": "updated", "comment": None}
        renamed["ticket"] = {"id": "T-100", "subject": CUSTOMER_WORDS}  # a new subject: the customer's words too
        assert await post_webhook(client, renamed) == 200
        answer = await client.get("/healthz", headers={"X-Request-Id": "req-abc-123"})
        assert answer.headers["X-Request-Id"] == "req-abc-123"
    finally:
        await client.close()
    formatter = JsonFormatter(JSON_FIELDS)
    lines = [json.loads(formatter.format(record)) for record in caplog.records]
    commands = [line for line in lines if line.get("event") == "command"]
    assert [(c["command"], c["outcome"]) for c in commands] == [
        ("customer", "ok"),
        ("claim", "ok"),
        ("idea", "ok"),
        ("ticket", "ok"),
        ("ticket", "ok"),
        ("handoff", "refused"),
    ]
    for line in commands:
        assert line["workspace"] == "console:T1" and line["platform"] == "console"
        assert len(line["request_id"]) == 16 and line["duration_ms"] >= 0
    assert len({c["request_id"] for c in commands}) == len(commands)
    hooks = [line for line in lines if line.get("event") == "webhook"]
    assert [(h["webhook"], h["outcome"], h["status"]) for h in hooks] == [("acmedesk", "applied", 200)] * 2
    assert hooks[1]["changes"] == "subject" and hooks[1]["ticket_id"] == hooks[0]["ticket_id"]
    everything = "\n".join(json.dumps(line, default=str) for line in lines) + caplog.text
    assert "quokka" not in everything and "invoices vanished" not in everything
    assert SECRET not in everything and "dashboard-token-0123456789" not in everything


async def test_healthz_and_readyz_say_why_not(
    db: Database, clock: Clock, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    client = await serve(db.url, clock, monkeypatch)
    try:
        healthy = await client.get("/healthz")
        assert healthy.status == 200 and (await healthy.json())["status"] == "ok"
        starting = await client.get("/readyz")
        assert starting.status == 503 and (await starting.json())["reason"] == "starting"
        client.server.app[READINESS].started = True
        assert (await client.get("/readyz")).status == 200
        client.server.app[READINESS].stopping = True
        stopping = await client.get("/readyz")
        assert stopping.status == 503 and (await stopping.json())["reason"].startswith("stopping")
    finally:
        await client.close()

    empty = tmp_path / "never-migrated.sqlite3"
    client = await serve(f"sqlite+aiosqlite:///{empty}", clock, monkeypatch)
    try:
        answer = await client.get("/healthz")
        reason = (await answer.json())["reason"]
        assert answer.status == 503 and "schema not at head" in reason and "no schema" in reason
        assert "run ./ownerbot db upgrade" in reason
        client.server.app[READINESS].started = True
        assert (await client.get("/readyz")).status == 503
    finally:
        await client.close()

    behind = f"sqlite+aiosqlite:///{tmp_path / 'behind.sqlite3'}"
    migrate.upgrade(behind)
    command.downgrade(migrate.alembic_config(behind), "-1")
    client = await serve(behind, clock, monkeypatch)
    try:
        answer = await client.get("/healthz")
        reason = (await answer.json())["reason"]
        scripts = ScriptDirectory.from_config(migrate.alembic_config(behind))
        below_head = scripts.get_revision(scripts.get_current_head()).down_revision  # one migration below the newest
        assert answer.status == 503 and f"schema not at head (database at {below_head}" in reason
    finally:
        await client.close()

    unreachable = await serve("postgresql+asyncpg://nobody@127.0.0.1:1/none", clock, monkeypatch)
    try:
        answer = await unreachable.get("/healthz")
        body = await answer.json()
        assert answer.status == 503 and body["reason"].startswith("database unreachable: ")
        assert "127.0.0.1" not in body["reason"] and "nobody" not in body["reason"]
    finally:
        await unreachable.close()
