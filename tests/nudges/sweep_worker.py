"""A sweeper in its own OS process, for the multi-process tests: `python -m tests.nudges.sweep_worker ...`.

Sweeps the given database at a fixed `--now` until there is nothing left to do, delivering into a shared
ConsoleNotifier inbox. With `--hang-signal FILE` it plays a process that dies mid-sweep: at its first delivery
(after claiming and committing) it writes FILE and hangs, waiting for the test's SIGKILL. With `--gate DIR` it
writes DIR/ready-<worker> once started and waits for DIR/go, so several sweepers begin at the same moment
(a sweep takes everything due at once: a process that starts a second late would find nothing left).
"""

from __future__ import annotations

import argparse
import asyncio
import json
from datetime import datetime
from pathlib import Path

from bot.console import ConsoleNotifier
from db.engine import create_engine, create_session_factory
from db.models import Platform
from handlers import Reply
from handlers.ports import MessageRef
from jobs.nudge_sweep import NudgeSweeper
from nudges.settings import NudgeSettings


class HangsAtFirstDelivery(ConsoleNotifier):
    def __init__(self, inbox: Path, signal: Path) -> None:
        super().__init__(inbox)
        self.signal = signal

    async def send_direct(self, *, workspace: str, user_id: str, reply: Reply) -> MessageRef:
        self.signal.write_text(json.dumps({"user": user_id}))
        await asyncio.sleep(3600)
        raise AssertionError("should have been killed")


async def sweep(args: argparse.Namespace) -> None:
    engine = create_engine(args.url)
    try:
        inbox = Path(args.inbox)
        notifier = HangsAtFirstDelivery(inbox, Path(args.hang_signal)) if args.hang_signal else ConsoleNotifier(inbox)
        now = datetime.fromisoformat(args.now)
        policy = NudgeSettings(daily_cap=200, batch_size=args.batch)
        sweeper = NudgeSweeper(
            create_session_factory(engine),
            {Platform.CONSOLE: notifier},
            policy=policy,
            clock=lambda: now,
            worker=args.worker,
        )
        if args.pause:  # a sweeper that rests between batches leaves the others room to take their share
            pause = args.pause

            async def rest() -> None:
                await asyncio.sleep(pause)

            sweeper._between_batches = rest  # type: ignore[method-assign]
        if args.gate:
            gate = Path(args.gate)
            (gate / f"ready-{args.worker}").touch()
            while not (gate / "go").exists():
                await asyncio.sleep(0.005)
        idle = 0
        while idle < 3:  # a few empty rounds in a row: the others hold the rest, or all is done
            result = await sweeper.tick()
            busy = result.checked or result.planned or result.sent or result.retried or result.failed
            idle = 0 if busy else idle + 1
            await asyncio.sleep(0.01)
    finally:
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--inbox", required=True)
    parser.add_argument("--now", required=True)
    parser.add_argument("--worker", required=True)
    parser.add_argument("--batch", type=int, default=5)
    parser.add_argument("--pause", type=float, default=0.0, help="seconds between two batches (both databases)")
    parser.add_argument("--hang-signal")
    parser.add_argument("--gate", help="a folder: say ready there, then wait for its `go` file")
    asyncio.run(sweep(parser.parse_args()))


if __name__ == "__main__":
    main()
