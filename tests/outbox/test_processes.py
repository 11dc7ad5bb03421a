"""Three sender processes on one database deliver 500 mixed messages (DMs, channel posts, updates in place of
posts): none lost, none duplicated, every update edits the message it replaces."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

from sqlalchemy import select

from bot.console import ConsoleNotifier
from db import outbox
from db.models import OutboxMessage, OutboxStatus, Platform
from handlers import Reply
from handlers.reply_json import reply_to_json

from ..conftest import Clock, Database

ROOT = Path(__file__).resolve().parents[2]


async def owe_mixed(db: Database, clock: Clock) -> dict[str, str]:
    """300 DMs to 30 people, 150 posts in 5 channels, 50 updates of posts; returns key -> kind."""
    kinds: dict[str, str] = {}
    async with db.sessions() as session, session.begin():
        posts: list[int] = []
        for n in range(300):
            key = f"dm-{n}"
            await outbox.enqueue(
                session, key=key, platform=Platform.CONSOLE, workspace="local", target=f"U{n % 30}", direct=True,
                purpose="notice", content=reply_to_json(Reply(f"[{key}] Ünïcode 👋 message")), now=clock(),
            )  # fmt: skip
            kinds[key] = "direct"
        for n in range(150):
            key = f"post-{n}"
            made = await outbox.enqueue(
                session, key=key, platform=Platform.CONSOLE, workspace="local", target=f"C{n % 5}", direct=False,
                purpose="gesture-card", content=reply_to_json(Reply(f"[{key}] card")), now=clock(),
            )  # fmt: skip
            assert made is not None
            posts.append(made)
            kinds[key] = "channel"
        for n, original in enumerate(posts[:50]):
            key = f"update-{n}"
            await outbox.enqueue(
                session, key=key, platform=Platform.CONSOLE, workspace="local", target=f"C{n % 5}", direct=False,
                purpose="gesture-card", content=reply_to_json(Reply(f"[{key}] card, changed")), replaces_id=original,
                now=clock(),
            )  # fmt: skip
            kinds[key] = "update"
    return kinds


def start(db: Database, inbox: Path, now: str, worker: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.outbox.sender_worker", "--url", db.url, "--inbox", str(inbox), "--now", now,
         "--worker", worker],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stderr=subprocess.PIPE,
    )  # fmt: skip


async def test_three_sender_processes_deliver_500_mixed_messages_exactly_once(
    db: Database, clock: Clock, tmp_path: Path
) -> None:
    kinds = await owe_mixed(db, clock)
    assert len(kinds) == 500
    inbox = ConsoleNotifier(tmp_path / "inbox")
    workers = [start(db, inbox.inbox, clock().isoformat(), f"sender-{i}") for i in range(3)]
    for worker in workers:
        _, err = worker.communicate(timeout=180)
        assert worker.returncode == 0, err.decode()[-3000:]

    records = [r for box in sorted(inbox.inbox.glob("*.jsonl")) for r in inbox.read(box.stem)]
    seen = Counter(r["reply"]["text"].split("]")[0].lstrip("[") for r in records)
    assert set(seen) == set(kinds) and set(seen.values()) == {1}, seen.most_common(3)  # none lost, none twice
    assert {r["reply"]["text"].split("]")[0].lstrip("["): r["kind"] for r in records} == kinds
    async with db.sessions() as session:
        rows = {r.key: r for r in (await session.execute(select(OutboxMessage))).scalars()}
    assert {r.status for r in rows.values()} == {OutboxStatus.SENT}
    by_id = {r.id: r for r in rows.values()}
    for key, row in rows.items():
        if key.startswith("update-"):  # edited the very message it replaces, after that one was posted
            assert row.replaces_id is not None and row.message_id == by_id[row.replaces_id].message_id
            assert row.sent_at is not None
    senders = Counter(r.claimed_by for r in rows.values())
    assert len(senders) >= 2, senders  # the work really was shared
