"""The leads' dashboard over real HTTP against build_app, and the `field` chat command, on SQLite and PostgreSQL."""

from __future__ import annotations

import re

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select

from bot.web import dashboard
from db.models import OwnershipEvent

from ..conftest import Chat, Clock, Database
from .conftest import TOKEN, start

AUTH = {"Authorization": f"Bearer {TOKEN}"}
EVIL = "<script>alert(1)</script>"


async def opened(chat: Chat, user: str, line: str) -> int:
    reply = await chat.say(user, line)
    assert not reply.error, reply.text
    return int(re.search(r"#(\d+)", reply.text).group(1))  # type: ignore[union-attr]


async def ok(chat: Chat, user: str, line: str) -> None:
    reply = await chat.say(user, line)
    assert not reply.error, f"{line}: {reply.text}"


async def scenario(chat: Chat, clock: Clock) -> dict[str, list[int]]:
    """Monday 10:00: five customers; claims at +30m and +1h30; U1 gets seven premium tickets (overloaded);
    Umbrella's ticket waits 2h for an owner; Globex is handed to U3 (accepted), Initech released; one unhappy."""
    for line in (
        "customer add Acme --tier premium",
        "customer add Globex",
        "customer add Initech",
        "customer add Umbrella",
        f'customer add "{EVIL}"',
        "team create Support",
        "team add Support U_LEAD --lead yes",
        "wow budget 50",
    ):
        await ok(chat, "U_ADMIN" if line.startswith("team") else "U_LEAD", line)
    clock.advance(minutes=30)
    await ok(chat, "U1", "claim acme")
    await ok(chat, "U2", "claim globex")
    acme = [await opened(chat, "U1", f"ticket open acme Login broken {n}") for n in range(7)]
    globex = [await opened(chat, "U2", "ticket open globex Invoice question")]
    clock.advance(hours=1)
    await ok(chat, "U3", "claim initech")
    initech = [await opened(chat, "U3", "ticket open initech Export fails")]
    umbrella = [await opened(chat, "U_LEAD", "ticket open umbrella Nobody answers")]  # flagged: no owner yet
    clock.advance(hours=2)
    await ok(chat, "U2", "claim umbrella")
    clock.advance(minutes=30)
    await ok(chat, "U2", "handoff globex <@U3> U3 knows the billing module")
    await ok(chat, "U3", "accept globex")
    await ok(chat, "U3", "release initech going on leave tomorrow")
    await ok(chat, "U3", f"ticket mood {globex[0]} unhappy")
    clock.advance(hours=1)  # Monday 15:00: Acme's premium tickets are 4h30 without an update
    return {"acme": acme, "globex": globex, "initech": initech, "umbrella": umbrella}


async def test_off_without_a_token(db: Database, clock: Clock, monkeypatch: pytest.MonkeyPatch) -> None:
    client, statuses = await start(db, clock, monkeypatch, None)
    try:
        assert "dashboard: off (DASHBOARD_TOKEN is not set)" in [s.line() for s in statuses]
        for path in ("/dashboard", "/dashboard.json", "/dashboard?token=anything-at-all-123"):
            response = await client.get(path, headers={"Authorization": "Bearer anything-at-all-123"})
            assert response.status == 404
            assert "Set-Cookie" not in response.headers
    finally:
        await client.close()


async def test_wrong_or_missing_token_is_refused_and_reveals_nothing(
    chat: Chat, clock: Clock, web_client: TestClient
) -> None:
    await ok(chat, "U_LEAD", "customer add Sekrit Industries")
    for headers, path in [
        ({}, "/dashboard"),
        ({}, "/dashboard.json"),
        ({"Authorization": "Bearer wrong-token-wrong-token"}, "/dashboard"),
        ({"Authorization": f"Basic {TOKEN}"}, "/dashboard.json"),
        ({"Authorization": f"Bearer {TOKEN}x"}, "/dashboard"),
        ({}, "/dashboard?token=wrong-token-wrong-token"),
        ({"Cookie": f"{dashboard.COOKIE}={TOKEN}"}, "/dashboard"),
    ]:
        response = await web_client.get(path, headers=headers, allow_redirects=False)
        body = await response.text()
        assert response.status == 401, (headers, path)
        assert "Sekrit" not in body and "T1" not in body and "Set-Cookie" not in response.headers


async def test_token_once_in_the_query_sets_a_strict_cookie(chat: Chat, web_client: TestClient) -> None:
    await ok(chat, "U_LEAD", "customer add Sekrit Industries")
    first = await web_client.get(f"/dashboard?workspace=console:T1&token={TOKEN}", allow_redirects=False)
    assert first.status == 303 and first.headers["Location"] == "/dashboard?workspace=console:T1"
    cookie = first.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and TOKEN not in cookie
    page = await web_client.get("/dashboard?workspace=console:T1")  # the client keeps the cookie
    assert page.status == 200 and "Sekrit Industries" in await page.text()
    data = await (await web_client.get("/dashboard.json")).json()
    assert data["unowned"] == ["Sekrit Industries"]
    missing = await web_client.get("/dashboard?workspace=console:nope")
    assert missing.status == 404 and "Sekrit" not in await missing.text()


async def test_the_numbers_match_the_scenario(chat: Chat, clock: Clock, db: Database, web_client: TestClient) -> None:
    t = await scenario(chat, clock)
    response = await web_client.get("/dashboard.json", headers=AUTH)
    assert response.status == 200
    data = await response.json()
    assert data["workspace"] == "console:T1"
    assert [line["id"] for line in data["stale"]] == t["acme"]
    assert {line["owner"] for line in data["stale"]} == {"u1"}
    assert [line["id"] for line in data["breaches"]] == t["acme"] + t["globex"]  # first responses: 1h / 4h
    assert [(line["id"], line["customer"], line["detail"]) for line in data["unhappy"]] == [
        (t["globex"][0], "Globex", "set to unhappy by u3")
    ]
    assert sorted(data["unowned"]) == sorted(["Initech", EVIL])
    load = {row["name"]: row for row in data["load"]}
    assert set(load) == {"u1", "u2", "u3"} and data["median_open"] == 1
    assert (load["u1"]["customers"], load["u1"]["open_tickets"], load["u1"]["overdue"]) == (1, 7, 7)
    assert load["u1"]["far_above_median"] and not load["u2"]["far_above_median"]
    assert (load["u2"]["customers"], load["u2"]["open_tickets"], load["u2"]["overdue"]) == (1, 1, 0)  # Umbrella
    assert (load["u3"]["customers"], load["u3"]["open_tickets"], load["u3"]["overdue"]) == (1, 1, 1)  # Globex
    moves = data["reassigns"]
    async with db.sessions() as session:  # the accepted handoff and the release
        assert (
            await session.scalar(
                select(func.count())
                .select_from(OwnershipEvent)
                .where(OwnershipEvent.kind.in_(("handoff-accepted", "release")))
            )
            == moves["customer_moves"]
            == 2
        )
    assert (moves["customers"], moves["per_customer"]) == (5, 0.4)
    assert (moves["ticket_moves"], moves["tickets"], moves["per_ticket"]) == (2, 10, 0.2)
    assert sorted(moves["hot_customers"]) == [["Globex", 1], ["Initech", 1]]
    owner = data["time_to_owner"]
    # customers: Acme and Globex 30m, Initech 1h30, Umbrella 3h30 -> median 1h; the <script> one still waits
    assert (owner["customers"], owner["customers_counted"], owner["customers_waiting"]) == (3600, 4, 1)
    # tickets: nine opened for owned customers (0), Umbrella's waited 2h -> median 0
    assert (owner["tickets"], owner["tickets_counted"], owner["tickets_waiting"]) == (0, 10, 0)
    [support] = data["gestures"]
    assert (support["team"], support["budget_cents"], support["used_cents"], support["pending"]) == (
        "Support",
        5000,
        0,
        [],
    )

    page = await web_client.get("/dashboard", headers=AUTH)
    text = await page.text()
    assert page.status == 200 and page.headers["Content-Type"].startswith("text/html")
    assert EVIL not in text and "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "far above the median" in text and "Login broken 6" in text and "set to unhappy by u3" in text

    clock.advance(days=31)  # the window moves on: nothing in the last 30 days any more
    later = await (await web_client.get("/dashboard.json", headers=AUTH)).json()
    assert later["reassigns"]["customer_moves"] == 0 and later["time_to_owner"]["customers_counted"] == 0


async def test_field_in_chat_for_leads_only(chat: Chat, clock: Clock, db: Database) -> None:
    t = await scenario(chat, clock)
    refused = await chat.say("U1", "field")
    assert refused.error and "Only leads and admins" in refused.text
    for user in ("U_LEAD", "U_ADMIN"):
        reply = await chat.say(user, "field")
        assert not reply.error, reply.text
        fields = dict(reply.fields)
        assert fields["Stale tickets"].count("#") == 7 and f"#{t['acme'][0]} Acme" in fields["Stale tickets"]
        assert fields["Unhappy customers"] == f"#{t['globex'][0]} Globex (set to unhappy by u3)"
        assert "far above the team median of 1" in fields["u1"] and "far above" not in fields["u3"]
        assert fields["Re-assigns (30 days)"].startswith("2 over 5 customer(s) (0.40 each); 2 over 10 ticket(s)")
        assert fields["Time to owner (30 days)"].startswith("customers 1h 00m median (4 counted, 1 waiting)")
        assert fields["Gestures: Support"] == "0.00 USD of 50.00 USD used; 0 open vote(s); nothing to deliver"


def test_token_settings() -> None:
    from bot.settings import DashboardSettings, SettingsError, load_settings

    with pytest.raises(SettingsError, match="DASHBOARD_TOKEN"):
        load_settings(DashboardSettings, dashboard_token="short")
    assert load_settings(DashboardSettings, dashboard_token="  ").dashboard_token is None
