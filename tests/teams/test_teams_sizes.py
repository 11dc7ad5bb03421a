"""Teams' size limit at the wire: the fake Bot Connector refuses a message over 100 KB with 413, like Teams. A list
too long for one message shows its first part and says how many more there are; a 413 anyway gets a shortened
reply, never "Something went wrong". SQLite and PostgreSQL."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

from sqlalchemy import insert, select

from bot.teams.sizes import MESSAGE_BUDGET, utf16_size
from db.models import Customer, Tier, Workspace
from handlers import Reply

from ..conftest import Database
from .conftest import PEOPLE, TENANT, TeamsWire, card_of, text_of
from .fake_connector import MAX_MESSAGE_BYTES


async def add_customers(db: Database, how_many: int) -> None:
    """`how_many` customers in the Teams workspace, with long names in other alphabets (big facts)."""
    async with db.sessions() as session, session.begin():
        workspace = (await session.execute(select(Workspace))).scalar_one()
        now = datetime(2026, 11, 23, tzinfo=UTC)
        rows = [
            {
                "workspace_id": workspace.id,
                "name": f"Kunde Nr. {n} Müller & Söhne — Ελληνικά 株式会社",
                "name_key": f"kunde nr. {n} müller & söhne — ελληνικά 株式会社",
                "tier": Tier.PREMIUM,
                "created_at": now,
            }
            for n in range(how_many)
        ]
        await session.execute(insert(Customer), rows)


def facts(card: dict) -> list[dict]:
    return next(item["facts"] for item in card["body"] if item["type"] == "FactSet")


async def test_customers_with_1500_entries_is_one_message_teams_takes_with_a_note_on_the_rest(
    wire: TeamsWire, db: Database
) -> None:
    await wire.say("admin", "customer add Acme")
    await add_customers(db, 1499)

    started = time.perf_counter()
    await wire.say("admin", "customers")
    await wire.say("admin", "customers --page 75")
    seconds = time.perf_counter() - started

    refused = [r for r in wire.connector.sent(ok_only=False) if r.status == 413]
    assert not refused
    first, last = wire.dm("admin")[-2:]
    for answer in (first, last):
        assert len(json.dumps(answer).encode()) < MAX_MESSAGE_BYTES
        assert utf16_size(answer) <= MESSAGE_BUDGET + 2048  # our budget, give or take the connector's own fields
    shown = facts(card_of(first))
    assert len(shown) == 20 and shown[0]["title"] == "Acme"  # the list's start, in its order
    assert "Page 1 of 75" in text_of(card_of(first)) and "customers --page 2" in text_of(card_of(first))
    assert facts(card_of(last))[-1]["title"] == "Kunde Nr. 999 Müller & Söhne — Ελληνικά 株式会社"
    assert seconds < 20, f"took {seconds:.1f}s"


async def test_a_413_anyway_gets_a_shortened_reply_not_something_went_wrong(wire: TeamsWire, db: Database) -> None:
    await wire.say("admin", "customer add Acme")
    await add_customers(db, 199)
    wire.connector.fail(413, times=1, path_contains="a:personal-admin")

    await wire.say("admin", "customers")

    attempts = wire.connector.sent("POST", "a:personal-admin", ok_only=False)
    assert [r.status for r in attempts[-2:]] == [413, 201]
    answer = card_of(wire.dm("admin")[-1])
    assert "Something went wrong" not in text_of(answer)
    assert "Page 1 of 10" in text_of(answer) and 0 < len(facts(answer)) <= 20
    assert utf16_size(answer) <= 20 * 1024  # what the resend is cut to (SHORT_BUDGET)


async def test_a_long_proactive_message_is_cut_to_fit_too(wire: TeamsWire) -> None:
    await wire.say("ann", "mine")
    history = "\n".join(f"2026-11-{1 + n % 28:02d} Ann Agent claimed Kunde {n} — 顧客 {n}" for n in range(4000))
    await wire.notifier.send_direct(workspace=TENANT, user_id=PEOPLE["ann"][0], reply=Reply(history))

    sent = wire.connector.sent("POST", "/v3/conversations/a:personal-ann/activities")[-1].body
    assert utf16_size(sent) <= MESSAGE_BUDGET + 2048
    assert sent["text"].startswith("2026-11-01 Ann Agent claimed Kunde 0")
    assert "of 4,000 lines" in sent["text"]
