"""The sweep sends as fast as nudges come due: one tick plans and sends everything due, batch after batch (on
SQLite in small transactions, so commands never wait behind a whole tick), never a fixed number per tick."""

from __future__ import annotations

from collections import Counter

from db.models import Platform
from jobs.nudge_sweep import NudgeSweeper
from nudges.settings import NudgeSettings

from ..conftest import Clock, Database
from .conftest import Desk


async def test_one_tick_sends_every_due_nudge_batch_after_batch(desk: Desk, db: Database, clock: Clock) -> None:
    owners = ("U1", "U2", "U3")
    for index in range(9):
        await desk.ticket(f"Kunde Nº{index} Ünlü", tier="premium", owner=owners[index % 3])
    clock.advance(hours=4)  # all nine are stale at once
    small = NudgeSettings(daily_cap=50, batch_size=2)  # five batches' worth of subjects and of nudges
    sweeper = NudgeSweeper(db.sessions, {Platform.CONSOLE: desk.inbox}, policy=small, clock=clock, worker="pace")
    result = await sweeper.tick()
    assert result.sent >= 9
    done = Counter(
        button["value"]
        for user in owners
        for record in desk.got(user, "no update")
        for button in record["reply"]["buttons"]
        if button["label"] == "Done"
    )
    assert len(done) == 9 and set(done.values()) == {1}  # each once
    again = await sweeper.tick()
    assert again.sent == 0 and again.planned == 0
