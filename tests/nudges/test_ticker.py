"""The APScheduler ticker only ticks: it calls the tick functions on an interval, contains their failures,
and the app wires the nudge sweeper into it."""

from __future__ import annotations

import asyncio
from pathlib import Path

from app import JOBS, RUNTIME, build_app
from bot.settings import Settings, SettingsError, load_settings
from bot.ticker import Ticker
from jobs.gesture_closer import CloseReport
from jobs.nudge_sweep import TickResult
from jobs.outbox_sender import SendReport

from ..conftest import Database


async def test_ticker_calls_every_tick_function_and_survives_a_failing_one() -> None:
    calls: list[str] = []

    async def failing() -> None:
        calls.append("failing")
        raise RuntimeError("boom")

    async def healthy() -> None:
        calls.append("healthy")

    ticker = Ticker([failing, healthy], seconds=0.05)
    ticker.start()
    try:
        for _ in range(100):
            if calls.count("healthy") >= 3:
                break
            await asyncio.sleep(0.02)
    finally:
        await ticker.shutdown()
    assert calls.count("healthy") >= 3 and calls.count("failing") >= 3
    assert not ticker.scheduler.running
    settled = len(calls)
    await asyncio.sleep(0.15)
    assert len(calls) == settled  # shut down: nothing runs any more


async def test_app_wires_nudges_and_gesture_deadlines_into_the_ticker(
    sqlite_db: Database, tmp_path: Path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("NUDGE_TICK_SECONDS", "5")
    app, _ = await build_app(Settings(database_url=sqlite_db.url, console_inbox=tmp_path / "inbox"))
    assert app[RUNTIME].policy.tick_seconds == 5
    returns, sweep, close_gestures, send, prune = app[JOBS].ticks()  # custody … retention
    assert await returns() == 0  # no step-out or cover is over: nothing ends
    assert isinstance(await sweep(), TickResult)
    assert await close_gestures() == CloseReport()  # nothing due: closes nothing, raises nothing
    assert await send() == SendReport()  # nothing owed: sends nothing
    assert app[JOBS].outbox is app[RUNTIME].outbox  # one sender, woken by the handlers and run by the ticker
    assert not any((await prune()).values())  # nothing old: prunes nothing


def test_bad_nudge_setting_fails_naming_it(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from nudges.settings import NudgeSettings

    monkeypatch.setenv("NUDGE_DAILY_CAP", "zero")
    try:
        load_settings(NudgeSettings)
    except SettingsError as error:
        assert str(error).startswith("Setting NUDGE_DAILY_CAP is invalid")
    else:
        raise AssertionError("a bad NUDGE_DAILY_CAP must fail at start")
