"""Hostile and broken helpdesk deliveries: wrong content type, deep nesting, non-UTF-8 signature headers, NUL and
lone surrogates in fields, and an event the database refuses (kept as failed, answered at once on every redelivery,
listed by `ownerbot webhooks`)."""

from __future__ import annotations

import asyncio
import json

import pytest
from sqlalchemy import select, text

from bot.web.webhooks import MAX_DEPTH, PATH, sign
from db.models import Customer, Ticket, WebhookDelivery
from ownership.helpdesk import failed_deliveries

from ..conftest import Database
from ..snapshot import changed_tables, snapshot
from .conftest import SECRET, Webhook, count
from .test_webhook import DAY, generic


async def test_a_body_that_is_not_json_by_its_content_type_is_415(webhook: Webhook, db: Database) -> None:
    body = generic("created", f"{DAY}T10:00:00Z")
    before = await snapshot(db.engine)
    for content_type in ("text/plain", "application/x-www-form-urlencoded", "application/xml", ""):
        status, answer = await webhook.post(body, headers={"Content-Type": content_type})
        assert status == 415 and "Content-Type: application/json" in answer["error"]
    assert changed_tables(before, await snapshot(db.engine)) == []
    status, _ = await webhook.post(body, headers={"Content-Type": "application/json; charset=utf-8"})
    assert status == 200  # a charset parameter is fine


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 5000, 100_000])
async def test_deep_nesting_is_a_400_before_parsing(webhook: Webhook, db: Database, depth: int) -> None:
    opening = json.dumps(generic("created", f"{DAY}T10:00:00Z"))[:-1]
    before = await snapshot(db.engine)
    status, answer = await webhook.post(None, raw=(opening + ', "x": ' + "[" * depth + "]" * depth + "}").encode())
    assert status == 400 and f"nested deeper than {MAX_DEPTH} levels" in answer["error"], answer
    assert changed_tables(before, await snapshot(db.engine)) == []
    status, answer = await webhook.post(None, raw=(opening + ', "x": "' + "[{" * 100 + r'\\"}').encode())
    assert status == 200, answer  # brackets inside a string (even after an escaped backslash) are only text


async def raw_post(webhook: Webhook, headers: bytes, body: bytes) -> bytes:
    reader, writer = await asyncio.open_connection(webhook.client.host, webhook.client.port)
    head = f"POST {PATH} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n"
    writer.write(head.encode() + headers + b"Connection: close\r\n\r\n" + body)
    await writer.drain()
    answer = await reader.read()
    writer.close()
    return answer


async def test_non_utf8_and_malformed_signature_headers_are_401(webhook: Webhook, db: Database) -> None:
    body = json.dumps(generic("created", f"{DAY}T10:00:00Z")).encode()
    before = await snapshot(db.engine)
    for header in (
        b"X-Ownerbot-Signature: sha256=\xff\xfe\xc3\x28\r\n",
        b"X-Ownerbot-Signature: " + sign(SECRET, body).encode() + b"\xff\r\n",
        b"X-Zendesk-Webhook-Signature: \xff\xfe\r\nX-Zendesk-Webhook-Signature-Timestamp: 2026\r\n",
        b"X-Zendesk-Webhook-Signature: abc\r\nX-Zendesk-Webhook-Signature-Timestamp: \xd9\xa1\xff\r\n",
    ):
        answer = await raw_post(webhook, header, body)
        assert answer.startswith(b"HTTP/1.1 401"), answer[:120]
    assert changed_tables(before, await snapshot(db.engine)) == []


async def test_nul_and_lone_surrogates_in_fields_are_dropped_and_the_event_applies(
    webhook: Webhook, db: Database
) -> None:
    body = generic("created", f"{DAY}T10:00:00Z")
    body["ticket"] = {"id": "T-\u0000100", "subject": "Exports\u0000 time out \ud800", "status": "open"}
    body["customer"] = {"external_id": "crm-42", "name": "Glo\u0000bex \u202eInc", "email": "hank@globex.example"}
    raw = json.dumps(body).encode()  # json.dumps writes \u0000 and \ud800 as escapes, as a helpdesk would
    for _ in range(2):  # the redelivery is a duplicate, not a second failure
        status, answer = await webhook.post(None, raw=raw)
        assert status == 200, answer
    async with db.sessions() as session:
        [ticket] = (await session.execute(select(Ticket))).scalars().all()
        [customer] = (await session.execute(select(Customer))).scalars().all()
    assert ticket.subject == "Exports time out" and ticket.external_ref == "T-100"
    assert customer.name == "Globex Inc"  # the bidi override is dropped from a name a machine gave us


async def refuse_subject(db: Database, subject: str) -> None:
    """The database itself refuses a ticket with this subject (as a constraint or a full disk would)."""
    async with db.engine.begin() as connection:
        if db.dialect == "sqlite":
            await connection.execute(
                text(
                    "CREATE TRIGGER refuse BEFORE INSERT ON tickets "
                    f"WHEN NEW.subject = '{subject}' BEGIN SELECT RAISE(ABORT, 'refused'); END"
                )
            )
        else:
            await connection.execute(
                text(
                    "CREATE OR REPLACE FUNCTION refuse() RETURNS trigger AS $$ BEGIN "
                    f"IF NEW.subject = '{subject}' THEN RAISE EXCEPTION 'refused'; END IF; RETURN NEW; END $$ "
                    "LANGUAGE plpgsql"
                )
            )
            await connection.execute(
                text("CREATE TRIGGER refuse BEFORE INSERT ON tickets FOR EACH ROW EXECUTE FUNCTION refuse()")
            )


async def drop_refusal(db: Database) -> None:
    async with db.engine.begin() as connection:
        await connection.execute(text("DROP TRIGGER refuse" + ("" if db.dialect == "sqlite" else " ON tickets")))


async def test_an_event_that_fails_to_apply_is_kept_as_failed_and_never_retried(webhook: Webhook, db: Database) -> None:
    await refuse_subject(db, "Cannot be stored")
    try:
        body = generic("created", f"{DAY}T10:00:00Z")
        body["ticket"] = {"id": "T-9", "subject": "Cannot be stored", "status": "open"}
        status, answer = await webhook.post(body)
        assert status == 422 and answer["status"] == "failed" and "will not be tried again" in answer["error"]
        assert await count(db, Ticket) == 0 and await count(db, Customer) == 0  # nothing of the event was applied
        before = await snapshot(db.engine)
        for _ in range(3):  # the helpdesk redelivers: answered at once, not applied, not failing again
            status, again = await webhook.post(body)
            assert status == 422 and again["status"] == "failed"
        assert changed_tables(before, await snapshot(db.engine)) == []
    finally:
        await drop_refusal(db)
    async with db.sessions() as session:
        [failed] = await failed_deliveries(session)
    assert (failed.status, failed.source, failed.ref) == ("failed", "acmedesk", "T-9")
    assert failed.error and "Cannot be stored" not in failed.error  # the kind of error, not the customer's words
    status, _ = await webhook.post(generic("created", f"{DAY}T11:00:00Z"))  # other events still apply
    assert status == 200 and await count(db, WebhookDelivery, WebhookDelivery.status == "applied") == 1
