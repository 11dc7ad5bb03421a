"""Real OS processes sweeping one database: every nudge exactly once, and a SIGKILL mid-sweep loses nothing."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

from db import outbox
from db.models import DeliveryStatus, NudgeDelivery

from ..conftest import Clock, Database
from .conftest import Desk

ROOT = Path(__file__).resolve().parents[2]


def start(db: Database, inbox: Path, now: str, worker: str, *extra: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.nudges.sweep_worker",
            "--url",
            db.url,
            "--inbox",
            str(inbox),
            "--now",
            now,
            "--worker",
            worker,
            *extra,
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stderr=subprocess.PIPE,
    )


def finish(process: subprocess.Popen[bytes]) -> None:
    _, err = process.communicate(timeout=90)
    assert process.returncode == 0, err.decode()[-3000:]


def delivered(desk: Desk) -> Counter[str]:
    """Delivery ids (from each message's Done button) across every inbox."""
    ids: Counter[str] = Counter()
    for box in sorted(desk.inbox.inbox.glob("user-*.jsonl")):
        for record in desk.inbox.read(box.stem):
            for b in record["reply"]["buttons"]:
                if b["label"] in ("Done", "Customer is happy"):
                    ids[b["value"]] += 1
    return ids


async def status_counts(db: Database) -> dict[DeliveryStatus, int]:
    async with db.sessions() as session:
        rows = await session.execute(select(NudgeDelivery.status, func.count()).group_by(NudgeDelivery.status))
        return dict(rows.all())  # type: ignore[arg-type]


async def outbox_counts(db: Database) -> dict[str, int]:
    async with db.sessions() as session:
        return await outbox.counts(session)


async def seed(desk: Desk, count: int) -> None:
    for index in range(count):
        await desk.ticket(f"Customer {index:03d}", tier="premium", owner=("U1", "U2", "U3")[index % 3])


async def test_three_processes_deliver_every_nudge_exactly_once(
    desk: Desk, db: Database, clock: Clock, tmp_path: Path
) -> None:
    await seed(desk, 60)
    now = (clock.now + timedelta(hours=4)).isoformat()
    workers = [  # each rests 50 ms between its batches of 5, so that 2 cores' scheduling can't hand one all 60
        start(db, desk.inbox.inbox, now, f"proc-{i}", "--gate", str(tmp_path), "--pause", "0.05") for i in range(3)
    ]
    deadline = time.monotonic() + 60
    # all three started (their imports take a while), then all at once
    while len(await asyncio.to_thread(lambda: list(tmp_path.glob("ready-*")))) < 3:
        assert all(w.poll() is None for w in workers), "a sweeper died before it started"
        assert time.monotonic() < deadline, "the sweepers never started"
        await asyncio.sleep(0.05)
    (tmp_path / "go").touch()
    for worker in workers:
        finish(worker)
    ids = delivered(desk)
    assert len(ids) == 60 and set(ids.values()) == {1}, ids.most_common(3)
    counts = await status_counts(db)
    assert counts == {DeliveryStatus.SENT: 61}  # 60 stale nudges and the lead's digest, nothing left behind
    async with db.sessions() as session:
        by_worker = Counter((await session.execute(select(NudgeDelivery.claimed_by))).scalars())
    assert len(by_worker) >= 2, by_worker  # the work really was shared


async def test_a_process_killed_mid_sweep_loses_nothing(desk: Desk, db: Database, clock: Clock, tmp_path: Path) -> None:
    await seed(desk, 30)
    now = clock.now + timedelta(hours=4)
    hang = tmp_path / "claimed.json"
    doomed = start(db, desk.inbox.inbox, now.isoformat(), "doomed", "--hang-signal", str(hang), "--batch", "10")
    deadline = time.monotonic() + 60
    while not hang.exists():
        assert doomed.poll() is None, doomed.stderr.read().decode()[-3000:] if doomed.stderr else ""
        assert time.monotonic() < deadline, "the doomed sweeper never claimed anything"
        await asyncio.sleep(0.05)
    os.kill(doomed.pid, signal.SIGKILL)  # after claiming and committing, before anything was sent
    doomed.wait(timeout=10)
    assert doomed.returncode == -signal.SIGKILL
    stuck = (await outbox_counts(db)).get("sending", 0)
    assert stuck > 0 and delivered(desk) == Counter()  # claimed by the dead process's sender, sent by nobody

    finish(start(db, desk.inbox.inbox, now.isoformat(), "survivor-early"))  # the lease still holds
    assert (await outbox_counts(db)).get("sending") == stuck
    later = (now + timedelta(seconds=121)).isoformat()
    finish(start(db, desk.inbox.inbox, later, "survivor"))
    ids = delivered(desk)
    assert len(ids) == 30 and set(ids.values()) == {1}
    assert (await status_counts(db)) == {DeliveryStatus.SENT: 31}
    assert (await outbox_counts(db)) == {"sent": 31}
