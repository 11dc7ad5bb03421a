"""An outbox sender in its own OS process, for the multi-process test: `python -m tests.outbox.sender_worker ...`.
Sends what is due at a fixed `--now` into a shared ConsoleNotifier inbox until a few rounds find nothing."""

from __future__ import annotations

import argparse
import asyncio
from datetime import datetime
from pathlib import Path

from bot.console import ConsoleNotifier
from db.engine import create_engine, create_session_factory
from db.models import Platform
from jobs.outbox_sender import OutboxSender


async def send(args: argparse.Namespace) -> None:
    engine = create_engine(args.url)
    try:
        now = datetime.fromisoformat(args.now)
        sender = OutboxSender(
            create_session_factory(engine),
            {Platform.CONSOLE: ConsoleNotifier(Path(args.inbox))},
            lambda: now,
            worker=args.worker,
            batch=args.batch,
        )
        idle = 0
        while idle < 5:  # the others may still hold what is left; a few empty rounds in a row: done
            report = await sender.send_due()
            idle = 0 if report.sent else idle + 1
            await asyncio.sleep(0.02)
    finally:
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--inbox", required=True)
    parser.add_argument("--now", required=True)
    parser.add_argument("--worker", required=True)
    parser.add_argument("--batch", type=int, default=20)
    asyncio.run(send(parser.parse_args()))


if __name__ == "__main__":
    main()
