"""The dashboard's board, filters, trends, ideas, CSV exports, links, scoped tokens and Secure cookie, over real
HTTP against build_app, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import json

import pytest
from aiohttp.test_utils import TestClient, TestServer

from app import build_app
from bot.settings import Settings
from bot.web import dashboard
from bot.web.webhooks import PATH as WEBHOOK_PATH
from bot.web.webhooks import sign

from ..conftest import Chat, Clock, Database
from .test_dashboard import ok, opened

TOKEN = "lead-dashboard-token-0123456789"
OTHER = "other-workspace-token-987654321"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
SECRET = "board-webhook-secret"


async def serve(db: Database, clock: Clock, monkeypatch: pytest.MonkeyPatch, **env: str) -> TestClient:
    for name in ("DASHBOARD_TOKEN", "DASHBOARD_TOKENS", "TRUSTED_PROXIES", "HELPDESK_TICKET_URLS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TICKET_WEBHOOK_SECRET", SECRET)
    monkeypatch.setenv("TICKET_WEBHOOK_WORKSPACE", "console:T1")
    env.setdefault("DASHBOARD_TOKEN", TOKEN)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    app, _ = await build_app(Settings(database_url=db.url), clock=clock)
    client = TestClient(TestServer(app, host="127.0.0.1"))
    await client.start_server()
    return client


async def field(chat: Chat, clock: Clock) -> dict[str, int]:
    """Monday 10:00: premium Acme (U1), standard Globex (U2), basic Initech (nobody), each with tickets of
    several priorities; then the clock runs two days so every first response is past due."""
    for line in (
        "customer add Acme --tier premium",
        "customer add Globex",
        "customer add Initech --tier basic",
        'customer add "=HYPERLINK(1)"',
        "team create Support",
        "team add Support U1",
    ):
        await ok(chat, "U_ADMIN", line)
    await ok(chat, "U1", "claim acme")
    await ok(chat, "U2", "claim globex")
    ids = {
        "acme-low": await opened(chat, "U1", "ticket open acme Typo in footer --priority low"),
        "globex-urgent": await opened(chat, "U2", "ticket open globex Checkout down --priority urgent"),
        "acme-urgent": await opened(chat, "U1", "ticket open acme Login broken --priority urgent"),
        "initech-high": await opened(chat, "U_LEAD", "ticket open initech Export fails --priority high"),
    }
    clock.advance(hours=1)
    ids["acme-normal"] = await opened(chat, "U1", "ticket open acme Slow search")
    await ok(chat, "U1", f"ticket mood {ids['acme-normal']} unhappy")
    clock.advance(days=2)
    return ids


async def test_one_row_per_ticket_with_every_problem_most_urgent_first(
    chat: Chat, clock: Clock, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = await field(chat, clock)
    client = await serve(db, clock, monkeypatch)
    try:
        data = await (await client.get("/dashboard.json", headers=AUTH)).json()
        order = [row["id"] for row in data["tickets"]]
        # premium urgent (12), standard urgent (8), premium normal (6), premium low (3), basic high (3; later due)
        assert order == [
            ids["acme-urgent"],
            ids["globex-urgent"],
            ids["acme-normal"],
            ids["acme-low"],
            ids["initech-high"],
        ]
        assert len(order) == len(set(order))  # one row per ticket
        row = {r["id"]: r for r in data["tickets"]}
        slow = row[ids["acme-normal"]]
        assert (slow["tier"], slow["priority"], slow["owner"], slow["team"]) == ("premium", "normal", "u1", "Support")
        assert any("first response" in p for p in slow["problems"]) and any("no update" in p for p in slow["problems"])
        assert "set to unhappy by u1" in slow["problems"]  # every problem of the ticket in its one row
        assert slow["age"] == (2 * 24 * 60) * 60 and slow["overdue_by"] > 0
        assert row[ids["initech-high"]]["owner"] is None and row[ids["initech-high"]]["tier"] == "basic"
        assert data["unowned_open_tickets"] == 1

        premium = await (await client.get("/dashboard.json?tier=premium", headers=AUTH)).json()
        assert [r["id"] for r in premium["tickets"]] == [ids["acme-urgent"], ids["acme-normal"], ids["acme-low"]]
        nobody = await (await client.get("/dashboard.json?owner=nobody", headers=AUTH)).json()
        assert [r["id"] for r in nobody["tickets"]] == [ids["initech-high"]]
        team = await (await client.get("/dashboard.json?team=support", headers=AUTH)).json()
        assert {r["owner"] for r in team["tickets"]} == {"u1"}

        page = await (await client.get("/dashboard?tier=premium", headers=AUTH)).text()
        assert page.count('<tr data-ticket="') == 3 and "Overdue by" in page and 'name="viewport"' in page
        assert page.count("<svg") == 4 and "<script" not in page  # the trend charts, drawn on the server
        assert "nobody (unowned)" in page

        exported = await client.get("/dashboard.csv?table=tickets&tier=premium", headers=AUTH)
        assert exported.status == 200 and exported.headers["Content-Type"].startswith("text/csv")
        assert "attachment" in exported.headers["Content-Disposition"]
        rows = list(csv.reader(io.StringIO(await exported.text())))
        assert rows[0][:4] == ["ticket", "customer", "subject", "tier"]
        assert [int(r[0]) for r in rows[1:]] == [ids["acme-urgent"], ids["acme-normal"], ids["acme-low"]]
        for table in dashboard.TABLES:
            answer = await client.get(f"/dashboard.csv?table={table}", headers=AUTH)
            assert answer.status == 200, table
        unowned = await (await client.get("/dashboard.csv?table=unowned", headers=AUTH)).text()
        assert "'=HYPERLINK(1)" in unowned  # a formula stays text in a spreadsheet
        assert (await client.get("/dashboard.csv?table=secrets", headers=AUTH)).status == 400
        assert (await client.get("/dashboard.csv?table=tickets")).status == 401
    finally:
        await client.close()


async def test_weekly_trends_ideas_and_the_field_trend_line(
    chat: Chat, clock: Clock, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    await ok(chat, "U_ADMIN", "customer add Acme --tier premium")
    await ok(chat, "U_ADMIN", "customer add Globex")
    await ok(chat, "U1", "claim acme")
    fast = await opened(chat, "U1", "ticket open acme Quick one")
    clock.advance(minutes=20)
    await ok(chat, "U1", f"ticket note {fast} on it")  # first response in 20m: premium's 1h met
    slow = await opened(chat, "U1", "ticket open acme Slow one")
    clock.advance(hours=3)
    await ok(chat, "U1", f"ticket note {slow} sorry for the wait")  # 3h: missed
    await ok(chat, "U1", f"ticket csat {fast} good")
    await ok(chat, "U1", "idea acme #exports a CSV export of invoices")
    await ok(chat, "U1", "idea acme #Exports schedule the export")
    await ok(chat, "U1", "idea globex dark mode please")
    clock.advance(days=7)  # the next week
    await ok(chat, "U1", f"ticket csat {slow} bad")  # bad: unhappy too
    await ok(chat, "U1", "handoff acme <@U2> U2 covers premium accounts now")
    await ok(chat, "U2", "accept acme")
    client = await serve(db, clock, monkeypatch)
    try:
        data = await (await client.get("/dashboard.json", headers=AUTH)).json()
    finally:
        await client.close()
    weeks = data["trends"]
    assert len(weeks) == 12 and weeks[-1]["week"] == "2026-11-30" and weeks[-2]["week"] == "2026-11-23"
    last, before = weeks[-1], weeks[-2]
    assert before["hit_rate"]["premium"] == 0.5 and before["decided"]["premium"] == 2
    assert before["median_first_response"] == (20 * 60 + 3 * 3600) / 2
    assert (before["csat_good"], before["csat_bad"], last["csat_good"], last["csat_bad"]) == (1, 0, 0, 1)
    assert (before["reassigns"], last["reassigns"], last["unhappy_customers"]) == (0, 1, 1)
    assert all(w["reassigns"] == 0 and w["csat_good"] == 0 for w in weeks[:-2])
    ideas = [(i["customer"], i["theme"], i["ideas"]) for i in data["ideas"]]
    assert ideas == [("Acme", "exports", 2), ("Globex", "other", 1)]

    reply = await chat.say("U_LEAD", "field")
    trend = dict(reply.fields)["Trend (12 weeks)"]
    assert "premium service level 50% → —" in trend and "CSAT 0 good / 1 bad this week" in trend
    assert "re-assigns 1 this week" in trend


async def test_links_to_the_helpdesk_and_tokens_scoped_to_a_workspace(
    chat: Chat, clock: Clock, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = Chat(chat.handlers, workspace="T2")
    await other.say("V1", "mine")  # a second workspace exists
    client = await serve(
        db,
        clock,
        monkeypatch,
        DASHBOARD_TOKEN="",
        DASHBOARD_TOKENS=f"console:T1={TOKEN}, console:T2={OTHER}",
        HELPDESK_TICKET_URLS="acmedesk=https://help.example.com/tickets/{ref}",
    )
    try:
        body = json.dumps(
            {
                "event": "created",
                "source": "acmedesk",
                "updated_at": "2026-11-23T09:00:00Z",
                "ticket": {"id": "T 100/a", "subject": "Exports time out", "priority": "urgent"},
                "customer": {"name": "Globex"},
            }
        ).encode()
        headers = {"Content-Type": "application/json", "X-Ownerbot-Signature": sign(SECRET, body)}
        assert (await client.post(WEBHOOK_PATH, data=body, headers=headers)).status == 200
        clock.advance(days=1)
        mine = await (await client.get("/dashboard.json", headers=AUTH)).json()  # its own workspace by default
        assert mine["workspace"] == "console:T1"
        [row] = mine["tickets"]
        assert row["links"] == [{"label": "Acmedesk", "url": "https://help.example.com/tickets/T%20100%2Fa"}]
        page = await (await client.get("/dashboard", headers=AUTH)).text()
        assert 'href="https://help.example.com/tickets/T%20100%2Fa"' in page
        refused = await client.get("/dashboard.json?workspace=console:T2", headers=AUTH)
        assert refused.status == 404 and "Globex" not in await refused.text()
        theirs = await (await client.get("/dashboard.json", headers={"Authorization": f"Bearer {OTHER}"})).json()
        assert theirs["workspace"] == "console:T2" and theirs["tickets"] == []
    finally:
        await client.close()


@pytest.mark.parametrize(
    ("proxies", "headers", "secure"),
    [
        ("", {"X-Forwarded-Proto": "https"}, False),  # nobody is trusted: a client cannot claim HTTPS
        ("127.0.0.1", {"X-Forwarded-Proto": "https"}, True),
        ("127.0.0.0/8", {"Forwarded": "for=1.2.3.4;proto=https"}, True),
        ("127.0.0.1", {"X-Forwarded-Proto": "http"}, False),
        ("10.0.0.0/8", {"X-Forwarded-Proto": "https"}, False),  # the request does not come from the proxy
    ],
)
async def test_the_cookie_is_secure_when_the_browser_used_https(
    chat: Chat,
    clock: Clock,
    db: Database,
    monkeypatch: pytest.MonkeyPatch,
    proxies: str,
    headers: dict[str, str],
    secure: bool,
) -> None:
    client = await serve(db, clock, monkeypatch, TRUSTED_PROXIES=proxies)
    try:
        answer = await client.get(f"/dashboard?token={TOKEN}", headers=headers, allow_redirects=False)
        cookie = answer.headers["Set-Cookie"]
        assert answer.status == 303 and "HttpOnly" in cookie and "SameSite=Strict" in cookie
        assert ("Secure" in cookie) is secure
    finally:
        await client.close()


def test_settings_refuse_bad_token_maps_and_proxies() -> None:
    from bot.settings import DashboardSettings, SettingsError, load_settings

    with pytest.raises(SettingsError, match="DASHBOARD_TOKENS"):
        load_settings(DashboardSettings, dashboard_tokens="slack:T1")
    with pytest.raises(SettingsError, match="DASHBOARD_TOKENS"):
        load_settings(DashboardSettings, dashboard_tokens="nowhere=0123456789abcdef0")
    with pytest.raises(SettingsError, match="DASHBOARD_TOKENS"):
        load_settings(DashboardSettings, dashboard_tokens="slack:T1=short")
    with pytest.raises(SettingsError, match="TRUSTED_PROXIES"):
        load_settings(DashboardSettings, trusted_proxies="not-an-ip")
    with pytest.raises(SettingsError, match="HELPDESK_TICKET_URLS"):
        load_settings(DashboardSettings, helpdesk_ticket_urls="zendesk=https://x.example/tickets")
    two = load_settings(DashboardSettings, dashboard_tokens="slack:T1=0123456789abcdef0,slack:T1=fedcba98765432100")
    assert [w for _, w in two.scopes()] == ["slack:T1", "slack:T1"]  # rotation: old and new side by side
