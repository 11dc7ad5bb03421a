"""POST /api/webhooks/tickets over real HTTP against build_app, on SQLite and PostgreSQL, asserting the database."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bot.web.webhooks import MAX_BODY, sign, sign_zendesk
from db.models import (
    Customer,
    Mood,
    Platform,
    Priority,
    Ticket,
    TicketEvent,
    TicketEventKind,
    TicketStatus,
    WebhookDelivery,
)

from ..conftest import Chat, Database
from .conftest import SECRET, Webhook, count, ticket

# Helpdesk times are clamped to the moment of receipt (a helpdesk clock running ahead cannot push our SLA
# timestamps into the future), and the server runs on the real clock: so the events happened two days ago.
DAY = (datetime.now(UTC) - timedelta(days=2)).date().isoformat()


def generic(event: str, updated_at: str, **extra: object) -> dict[str, object]:
    body: dict[str, object] = {
        "event": event,
        "source": "acmedesk",
        "updated_at": updated_at,
        "ticket": {"id": "T-100", "subject": "Exports time out", "status": "open", "priority": "high"},
        "customer": {"external_id": "crm-42", "name": "Globex", "email": "hank@globex.example"},
    }
    body.update(extra)
    return body


async def nothing_written(db: Database) -> bool:
    return (
        await count(db, Ticket),
        await count(db, TicketEvent),
        await count(db, WebhookDelivery),
        await count(db, Customer),
    ) == (0, 0, 0, 0)


async def test_disabled_without_a_secret(disabled_webhook: Webhook, db: Database) -> None:
    status, body = await disabled_webhook.post(generic("created", f"{DAY}T09:00:00Z"))
    assert status == 503 and "TICKET_WEBHOOK_SECRET" in body["error"]
    assert await nothing_written(db)


async def test_unsigned_and_wrongly_signed_requests_are_refused(webhook: Webhook, db: Database) -> None:
    payload = generic("created", f"{DAY}T09:00:00Z")
    assert (await webhook.post(payload, secret=None))[0] == 401
    status, body = await webhook.post(payload, secret="not-the-secret")
    assert status == 401 and "signature" in body["error"]
    raw = json.dumps(payload).encode()
    status, _ = await webhook.post(None, raw=raw, secret=None, headers={"X-Ownerbot-Signature": ""})
    assert status == 401
    status, _ = await webhook.post(None, raw=raw, secret=None, headers={"X-Ownerbot-Signature": sign(SECRET, raw)[7:]})
    assert status == 401  # the hex digest without its "sha256=" prefix
    assert await nothing_written(db)
    status, _ = await webhook.post(None, raw=raw, secret=SECRET)
    assert status == 200  # the same body, correctly signed
    assert await count(db, Ticket) == 1
    tampered = raw.replace(b"Exports", b"Imports")
    status, _ = await webhook.post(None, raw=tampered, secret=None, headers={"X-Ownerbot-Signature": sign(SECRET, raw)})
    assert status == 401
    status, _ = await webhook.post(
        None,
        raw=raw,
        secret=None,
        headers={
            "X-Zendesk-Webhook-Signature": sign_zendesk(SECRET, f"{DAY}T09:00:00Z", raw),
            "X-Zendesk-Webhook-Signature-Timestamp": f"{DAY}T09:00:01Z",
        },
    )
    assert status == 401  # the timestamp is part of what Zendesk signs
    assert (await count(db, Ticket), await count(db, WebhookDelivery)) == (1, 1)


async def test_generic_lifecycle_tone_csat_and_duplicates(webhook: Webhook, db: Database) -> None:
    status, body = await webhook.post(generic("created", f"{DAY}T09:00:00Z"))
    assert status == 200, body
    assert body["status"] == "applied" and body["ticket_created"] and body["customer_created"] and body["flagged"]
    t = await ticket(db, body["ticket_id"])
    assert (t.source, t.external_ref, t.subject, t.priority, t.status) == (
        "acmedesk",
        "T-100",
        "Exports time out",
        Priority.HIGH,
        TicketStatus.OPEN,
    )
    assert t.owner_id is None
    async with db.sessions() as session:
        customer = await session.get(Customer, t.customer_id)
    assert customer is not None
    assert (customer.name, customer.external_id, customer.email_domain, customer.owner_id) == (
        "Globex",
        "crm-42",
        "globex.example",
        None,
    )
    assert await count(db, TicketEvent, TicketEvent.kind == TicketEventKind.FLAGGED_UNOWNED) == 1

    # the same delivery again: applied once
    status, again = await webhook.post(generic("created", f"{DAY}T09:00:00Z"))
    assert (status, again["status"]) == (200, "duplicate")
    assert (await count(db, Ticket), await count(db, TicketEvent), await count(db, Customer)) == (1, 2, 1)

    agent = generic(
        "commented",
        f"{DAY}T09:20:00Z",
        comment={"author": "agent", "body": "<p>We are on it &amp; will update you.</p>"},
    )
    assert (await webhook.post(agent))[0] == 200
    t = await ticket(db, t.id)
    assert t.first_response_at is not None and t.first_response_at.isoformat() == f"{DAY}T09:20:00+00:00"

    angry = generic(
        "commented",
        f"{DAY}T10:00:00Z",
        comment={"author": "customer", "body": "This is unacceptable, the export is still broken!!"},
    )
    status, body = await webhook.post(angry)
    assert status == 200 and body["unhappy"] is True
    t = await ticket(db, t.id)
    assert t.mood == Mood.UNHAPPY and "unacceptable" in (t.mood_reason or "") and "broken" in (t.mood_reason or "")
    async with db.sessions() as session:
        text = await session.scalar(select(TicketEvent.text).where(TicketEvent.kind == TicketEventKind.NOTE))
    assert text == "We are on it & will update you."  # HTML stripped

    solved = generic("solved", f"{DAY}T11:00:00Z")
    solved["ticket"] = {"id": "T-100"}  # a partial update: only what changed
    assert (await webhook.post(solved))[0] == 200
    t = await ticket(db, t.id)
    assert t.status == TicketStatus.RESOLVED and t.resolved_at is not None
    assert t.subject == "Exports time out"

    rated = generic("updated", f"{DAY}T12:00:00Z", csat={"rating": "good", "comment": "fast"})
    rated["ticket"] = {"id": "T-100", "status": "solved"}
    await webhook.post(rated)
    assert (await ticket(db, t.id)).mood == Mood.HAPPY
    rated = generic("updated", f"{DAY}T12:30:00Z", csat={"rating": "bad", "comment": "it broke again"})
    rated["ticket"] = {"id": "T-100", "status": "solved"}
    await webhook.post(rated)
    t = await ticket(db, t.id)
    assert (t.status, t.csat, t.mood) == (TicketStatus.RESOLVED, "bad", Mood.UNHAPPY)
    assert t.mood_reason == "bad satisfaction rating: it broke again"
    async with db.sessions() as session:
        platforms = set((await session.execute(select(TicketEvent.platform))).scalars())
    assert platforms == {Platform.WEBHOOK}
    assert await count(db, WebhookDelivery) == 6


async def test_known_customers_are_matched_and_their_owner_gets_the_ticket(
    chat: Chat, webhook: Webhook, db: Database
) -> None:
    await chat.say("U_LEAD", "customer add Globex --external-id crm-42")
    await chat.say("U_LEAD", "customer add Hooli")
    await chat.say("U1", "claim globex")
    status, body = await webhook.post(generic("created", f"{DAY}T09:00:00Z"))
    assert status == 200 and not body["customer_created"] and not body["flagged"]
    by_external_id = await ticket(db, body["ticket_id"])
    async with db.sessions() as session:
        globex = (await session.execute(select(Customer).where(Customer.name == "Globex"))).scalar_one()
        hooli = (await session.execute(select(Customer).where(Customer.name == "Hooli"))).scalar_one()
        hooli.email_domain = "hooli.example"
        await session.commit()
    assert (by_external_id.customer_id, by_external_id.owner_id) == (globex.id, globex.owner_id)
    mine = await chat.say("U1", "tickets")
    assert mine.fields[0][0] == f"#{by_external_id.id} Globex"

    by_domain = generic("created", f"{DAY}T09:05:00Z", customer={"email": "gavin@Hooli.example"})
    by_domain["ticket"] = {"id": "T-200", "subject": "SSO loop"}
    status, body = await webhook.post(by_domain)
    assert status == 200 and not body["customer_created"] and body["flagged"]  # Hooli has no owner yet
    assert (await ticket(db, body["ticket_id"])).customer_id == hooli.id
    assert await count(db, Customer) == 2


async def test_zendesk_events_signed_the_zendesk_way(chat: Chat, webhook: Webhook, db: Database) -> None:
    await chat.say("U_LEAD", "customer add Initech --external-id 900123")
    await chat.say("U2", "claim initech")

    async def send(payload: dict[str, object], timestamp: str) -> tuple[int, dict[str, object]]:
        raw = json.dumps(payload).encode()
        return await webhook.post(
            None,
            raw=raw,
            secret=None,
            headers={
                "X-Zendesk-Webhook-Signature": sign_zendesk(SECRET, timestamp, raw),
                "X-Zendesk-Webhook-Signature-Timestamp": timestamp,
            },
        )

    detail = {
        "id": "35436",
        "subject": "Printer on fire",
        "status": "NEW",
        "priority": "URGENT",
        "organization_id": "900123",
        "requester_id": "20978392",
        "created_at": f"{DAY}T08:00:00Z",
        "updated_at": f"{DAY}T08:00:00Z",
    }
    created = {
        "type": "zen:event-type:ticket.created",
        "account_id": 8888,
        "id": "01HZ-CREATED",
        "time": f"{DAY}T08:00:00Z",
        "zendesk_event_version": "2022-11-06",
        "subject": "zen:ticket:35436",
        "detail": detail,
        "event": {},
    }
    status, body = await send(created, f"{DAY}T08:00:01Z")
    assert status == 200, body
    t = await ticket(db, int(body["ticket_id"]))  # type: ignore[arg-type]
    assert (t.source, t.external_ref, t.priority, t.status) == ("zendesk", "35436", Priority.URGENT, TicketStatus.OPEN)
    assert t.opened_at.isoformat() == f"{DAY}T08:00:00+00:00"
    async with db.sessions() as session:
        initech = (await session.execute(select(Customer).where(Customer.external_id == "900123"))).scalar_one()
    assert (t.customer_id, t.owner_id) == (initech.id, initech.owner_id)

    comment = {
        **created,
        "type": "zen:event-type:ticket.comment_added",
        "id": "01HZ-COMMENT",
        "time": f"{DAY}T08:30:00Z",
        "detail": {**detail, "status": "OPEN", "updated_at": f"{DAY}T08:30:00Z"},
        "event": {
            "comment": {
                "id": "1",
                "body": "Honestly this is the worst service, we are furious.",
                "is_public": True,
                "author": {"id": "20978392", "is_staff": False},
            }
        },
    }
    status, body = await send(comment, f"{DAY}T08:30:01Z")
    assert status == 200 and body["unhappy"] is True
    status, body = await send(comment, f"{DAY}T08:30:05Z")  # Zendesk retried with a new signature timestamp
    assert (status, body["status"]) == (200, "duplicate")
    assert await count(db, TicketEvent, TicketEvent.kind == TicketEventKind.CUSTOMER_MESSAGE) == 1

    reply = {
        **comment,
        "id": "01HZ-REPLY",
        "time": f"{DAY}T09:00:00Z",
        "detail": {**detail, "status": "PENDING", "updated_at": f"{DAY}T09:00:00Z"},
        "event": {"comment": {"body": "Sorry! Could you send us a photo?", "author": {"is_staff": True}}},
    }
    assert (await send(reply, f"{DAY}T09:00:01Z"))[0] == 200
    t = await ticket(db, t.id)
    assert t.status == TicketStatus.PENDING and t.pending_since is not None
    assert t.first_response_at is not None and t.first_response_at.isoformat() == f"{DAY}T09:00:00+00:00"

    solved = {
        **created,
        "type": "zen:event-type:ticket.status_changed",
        "id": "01HZ-SOLVED",
        "time": f"{DAY}T09:45:00Z",
        "detail": {**detail, "status": "SOLVED", "updated_at": f"{DAY}T09:45:00Z"},
        "event": {"current": "SOLVED", "previous": "PENDING"},
    }
    assert (await send(solved, f"{DAY}T09:45:01Z"))[0] == 200
    t = await ticket(db, t.id)
    assert t.status == TicketStatus.RESOLVED and t.pending_seconds == 45 * 60
    assert await count(db, Ticket) == 1


async def test_freshdesk_automation_bodies(webhook: Webhook, db: Database) -> None:
    def freshdesk(event: str, **fields: object) -> dict[str, object]:
        return {
            "freshdesk_webhook": {
                "ticket_id": 4711,
                "ticket_event": event,
                "ticket_subject": "Cannot add users",
                "ticket_status": "Open",
                "ticket_priority": "Medium",
                "ticket_company_name": "Vandelay Industries",
                "ticket_requester_email": "art@vandelay.example",
                **fields,
            }
        }

    status, body = await webhook.post(freshdesk("created"))
    assert status == 200 and body["customer_created"] and body["flagged"], body
    t = await ticket(db, body["ticket_id"])
    assert (t.source, t.external_ref, t.priority) == ("freshdesk", "4711", Priority.NORMAL)
    # no ticket_updated_at in the template: the body's digest is the idempotency key, so a redelivery is a no-op
    assert (await webhook.post(freshdesk("created")))[1]["status"] == "duplicate"

    status, body = await webhook.post(
        freshdesk(
            "customer_replied",
            ticket_status=2,
            ticket_latest_public_comment="<div>I am really disappointed, this is terrible.</div>",
        )
    )
    assert status == 200 and body["unhappy"]
    status, body = await webhook.post(
        freshdesk(
            "resolved",
            ticket_status=4,
            ticket_priority=3,
            ticket_updated_at=f"{DAY}T09:30:00Z",
            ticket_satisfaction_rating="Extremely Unhappy",
        )
    )
    assert status == 200, body
    t = await ticket(db, t.id)
    assert (t.status, t.priority, t.csat, t.mood) == (TicketStatus.RESOLVED, Priority.HIGH, "bad", Mood.UNHAPPY)
    async with db.sessions() as session:
        customer = await session.get(Customer, t.customer_id)
    assert customer is not None and (customer.name, customer.email_domain) == (
        "Vandelay Industries",
        "vandelay.example",
    )


async def test_malformed_missing_and_oversized_bodies_write_nothing(webhook: Webhook, db: Database) -> None:
    cases: list[tuple[bytes, int, str]] = [
        (b"{not json", 400, "malformed JSON"),
        (b"\xff\xfe", 400, "malformed JSON"),
        (b"[1, 2]", 400, "must be a JSON object"),
        (json.dumps({"ticket": {"id": 1}, "updated_at": "x"}).encode(), 400, "Missing field: event"),
        (json.dumps({"event": "created", "updated_at": "x"}).encode(), 400, "Missing field: ticket"),
        (
            json.dumps({"event": "created", "ticket": {"subject": "x"}, "updated_at": "x"}).encode(),
            400,
            "Missing field: ticket.id",
        ),
        (json.dumps({"event": "created", "ticket": {"id": 1}}).encode(), 400, "Missing field: updated_at"),
        (
            json.dumps({"event": "exploded", "ticket": {"id": 1}, "updated_at": "x"}).encode(),
            400,
            '"exploded" is not one of',
        ),
        (
            json.dumps({"event": "created", "ticket": {"id": 1, "subject": "x"}, "updated_at": "x"}).encode(),
            400,
            "names no customer",
        ),
        (
            json.dumps(
                {
                    "event": "created",
                    "ticket": {"id": 1, "status": "exploded"},
                    "updated_at": "x",
                    "customer": {"name": "A"},
                }
            ).encode(),
            400,
            'ticket.status "exploded"',
        ),
        (
            json.dumps({"event": "commented", "ticket": {"id": 1}, "updated_at": "x"}).encode(),
            400,
            "Missing field: comment",
        ),
        (
            json.dumps({"type": "zen:event-type:ticket.created", "id": "e", "time": "t"}).encode(),
            400,
            "Missing field: detail",
        ),
        (
            json.dumps({"type": "zen:event-type:user.created", "id": "e", "detail": {}}).encode(),
            400,
            "Only ticket events",
        ),
        (
            json.dumps(
                {"event": "created", "ticket": {"id": 1}, "updated_at": "x", "customer": {"external_id": "9" * 200}}
            ).encode(),
            400,
            "customer.external_id is longer",
        ),
        (
            json.dumps({"freshdesk_webhook": {"ticket_subject": "x"}}).encode(),
            400,
            "Missing field: freshdesk_webhook.ticket_id",
        ),
    ]
    for raw, expected_status, message in cases:
        status, body = await webhook.post(None, raw=raw)
        assert status == expected_status, (raw, body)
        assert message in body["error"], (raw, body)
    huge = json.dumps(generic("created", f"{DAY}T09:00:00Z", comment={"body": "x" * (MAX_BODY + 10)})).encode()
    status, body = await webhook.post(None, raw=huge)
    assert status == 413 and "256 KiB" in body["error"]
    assert await nothing_written(db)


async def test_concurrent_redeliveries_apply_once(webhook: Webhook, db: Database) -> None:
    payload = generic("created", f"{DAY}T09:00:00Z")
    results = await asyncio.gather(*(webhook.post(payload) for _ in range(12)))
    statuses = sorted(body["status"] for status, body in results if status == 200)
    assert len(statuses) == 12, results
    assert statuses.count("applied") == 1 and statuses.count("duplicate") == 11
    assert (await count(db, Ticket), await count(db, Customer), await count(db, WebhookDelivery)) == (1, 1, 1)
    assert await count(db, TicketEvent, TicketEvent.kind == TicketEventKind.OPENED) == 1


async def test_concurrent_first_events_of_one_ticket_make_one_ticket(webhook: Webhook, db: Database) -> None:
    """Different events for a ticket we have not seen yet, racing: one ticket, every event applied."""
    payloads = [
        generic("commented", f"{DAY}T09:{minute:02d}:00Z", comment={"author": "agent", "body": f"update {minute}"})
        for minute in range(8)
    ]
    results = await asyncio.gather(*(webhook.post(p) for p in payloads))
    assert all(status == 200 and body["status"] == "applied" for status, body in results), results
    assert (await count(db, Ticket), await count(db, Customer)) == (1, 1)
    assert await count(db, TicketEvent, TicketEvent.kind == TicketEventKind.NOTE) == 8


async def test_long_texts_closed_tickets_and_future_times_do_not_fail_deliveries(
    webhook: Webhook, db: Database
) -> None:
    created = generic("created", f"{DAY}T09:00:00Z")
    created["ticket"] = {"id": "T-100", "subject": "S" * 500, "status": "closed"}
    status, body = await webhook.post(created)
    assert status == 200, body
    t = await ticket(db, body["ticket_id"])
    assert len(t.subject) == 300 and t.status == TicketStatus.CLOSED and t.closed_at is not None
    late = generic("commented", f"{DAY}T10:00:00Z", comment={"author": "customer", "body": "x " * 5000})
    late["ticket"] = {"id": "T-100"}
    status, body = await webhook.post(late)
    assert status == 200 and "comment not recorded: the ticket is closed" in body["changes"]
    reopened = generic("commented", f"{DAY}T11:00:00Z", comment={"author": "customer", "body": "y" * 5000})
    reopened["ticket"] = {"id": "T-100", "status": "open"}
    status, body = await webhook.post(reopened)
    assert status == 200 and body["changes"][0] == "status closed → open", body
    async with db.sessions() as session:
        text = await session.scalar(
            select(TicketEvent.text).where(TicketEvent.kind == TicketEventKind.CUSTOMER_MESSAGE)
        )
    assert text is not None and len(text) == 4000
    future = generic("updated", "2999-01-01T00:00:00Z")
    future["ticket"] = {"id": "T-100", "status": "pending"}
    before = datetime.now(UTC)
    assert (await webhook.post(future))[0] == 200
    t = await ticket(db, t.id)
    assert t.pending_since is not None and before <= t.pending_since <= datetime.now(UTC)


async def test_settings_and_start_status(db: Database, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from app import build_app
    from bot.settings import Settings, SettingsError

    monkeypatch.setenv("TICKET_WEBHOOK_SECRET", SECRET)
    monkeypatch.setenv("TICKET_WEBHOOK_WORKSPACE", "slack:T0123")
    app, statuses = await build_app(Settings(database_url=db.url))
    line = next(s.line() for s in statuses if s.name == "helpdesk webhook")
    assert line == "helpdesk webhook: on (POST /api/webhooks/tickets into slack:T0123)"
    assert SECRET not in " ".join(s.line() for s in statuses)
    await app.cleanup()
    monkeypatch.delenv("TICKET_WEBHOOK_SECRET")
    app, statuses = await build_app(Settings(database_url=db.url))
    line = next(s.line() for s in statuses if s.name == "helpdesk webhook")
    assert line.startswith("helpdesk webhook: off (TICKET_WEBHOOK_SECRET is not set")
    await app.cleanup()
    monkeypatch.setenv("TICKET_WEBHOOK_WORKSPACE", "myspace")
    try:
        await build_app(Settings(database_url=db.url))
    except SettingsError as error:
        assert str(error).startswith("Setting TICKET_WEBHOOK_WORKSPACE is invalid")
    else:
        raise AssertionError("a bad TICKET_WEBHOOK_WORKSPACE must stop the start")
