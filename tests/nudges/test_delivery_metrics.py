"""Every nudge the sweep sends, retries or gives up on is counted (ownerbot_messages_total) and logged once."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from prometheus_client import REGISTRY

from db.models import Platform
from handlers.ports import DeliveryFailed
from jobs.nudge_sweep import NudgeSweeper
from nudges.settings import NudgeSettings

from ..conftest import Clock, Database
from .conftest import Desk
from .test_delivery import ScriptedPlatform


def messages(outcome: str) -> float:
    """Console messages with this outcome, whatever their purpose (a nudge, the lead's digest, …)."""
    return sum(
        sample.value
        for metric in REGISTRY.collect()
        if metric.name == "ownerbot_messages"
        for sample in metric.samples
        if sample.name == "ownerbot_messages_total"
        and sample.labels.get("platform") == "console"
        and sample.labels.get("outcome") == outcome
    )


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def delivery_lines() -> Iterator[Lines]:
    """What the delivery logger writes, caught at the logger itself (whatever other tests did to the root)."""
    logger = logging.getLogger("ownerbot.delivery")
    lines, level = Lines(), logger.level
    logger.addHandler(lines)
    logger.setLevel(logging.INFO)
    try:
        yield lines
    finally:
        logger.removeHandler(lines)
        logger.setLevel(level)


async def test_sent_and_retried_nudges_are_counted_and_logged(
    desk: Desk, db: Database, clock: Clock, policy: NudgeSettings, delivery_lines: Lines
) -> None:
    assert not logging.getLogger("ownerbot.delivery").disabled
    platform = ScriptedPlatform(desk.inbox, {"U1": [DeliveryFailed("429 rate_limited", retry_after=30)]})
    desk.sweeper = NudgeSweeper(db.sessions, {Platform.CONSOLE: platform}, policy=policy, clock=clock, worker="w1")
    await desk.ticket("Acme", tier="premium")
    before = {o: messages(o) for o in ("sent", "retried", "failed")}
    first = await desk.tick(hours=4)
    second = await desk.tick(minutes=5)
    assert first.retried == 1 and second.sent >= 1
    assert messages("retried") - before["retried"] == first.retried + second.retried
    assert messages("sent") - before["sent"] == first.sent + second.sent
    assert messages("failed") == before["failed"]
    lines = [r for r in delivery_lines.records if getattr(r, "event", None) == "delivery"]
    outcomes = [(r.delivery, r.outcome, r.platform) for r in lines]  # type: ignore[attr-defined]
    assert ("nudge", "retried", "console") in outcomes  # the throttled nudge, by its purpose
    assert [o for _, o, _ in outcomes].count("retried") == first.retried + second.retried
    assert [o for _, o, _ in outcomes].count("sent") == first.sent + second.sent
    assert len(outcomes) == first.sent + first.retried + second.sent + second.retried
