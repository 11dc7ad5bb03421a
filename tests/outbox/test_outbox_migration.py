"""0009_outbox moves what the gesture messages table still owed into the outbox: unsent messages are pending
rows, sent ones keep their platform message id (so the next change edits the card in place), and a sent card
that was out of date owes an update in place."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from sqlalchemy import select

from db import migrate
from db.engine import create_engine, create_session_factory
from db.models import OutboxMessage, OutboxStatus

COLUMNS = (
    "id, proposal_id, purpose, direct, target, platform, workspace, message_id, ref_channel_id, want_version, "
    "sent_version, dirty, attempts, created_at"
)
ROWS = [
    (1, 7, "card", 0, "C1", "slack", "T1", "1700.1", "C1", 3, 2, 1, 1, "2026-11-20 10:00:00.000000"),  # stale card
    (2, 7, "outcome-dm", 1, "U2", "slack", "T1", None, None, 1, 0, 1, 0, "2026-11-20 10:00:00.000000"),  # unsent
    (3, 8, "card", 0, "C1", "slack", "T1", "1700.2", "C1", 1, 1, 0, 1, "2026-11-20 10:00:00.000000"),  # up to date
]


async def outbox_rows(url: str) -> dict[str, OutboxMessage]:
    engine = create_engine(url)
    try:
        async with create_session_factory(engine)() as session:
            return {r.key: r for r in (await session.execute(select(OutboxMessage))).scalars()}
    finally:
        await engine.dispose()


def test_gesture_messages_become_outbox_rows(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    url = f"sqlite+aiosqlite:///{path}"
    migrate.upgrade(url, "0006_nudges")
    with sqlite3.connect(path) as connection:  # rows a running 0006 server left (their proposals don't matter)
        connection.execute("PRAGMA foreign_keys=OFF")
        connection.executemany(f"INSERT INTO gesture_messages ({COLUMNS}) VALUES ({', '.join('?' * 14)})", ROWS)
    migrate.upgrade(url)
    rows = asyncio.run(outbox_rows(url))
    card = rows["gesture:7:card:C1"]
    assert (card.status, card.message_id, card.message_channel, card.render) == (
        OutboxStatus.SENT,
        "1700.1",
        "C1",
        "gesture:7:card",
    )
    update = rows["gesture:7:card:C1:update:1"]
    assert (update.status, update.replaces_id, update.purpose) == (OutboxStatus.PENDING, card.id, "gesture-card")
    dm = rows["gesture:7:outcome-dm:U2"]
    assert (dm.status, dm.direct, dm.purpose, dm.message_id) == (OutboxStatus.PENDING, True, "gesture-dm", None)
    assert rows["gesture:8:card:C1"].status == OutboxStatus.SENT and len(rows) == 4
    migrate.check(url)
