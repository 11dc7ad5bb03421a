"""Outbox throughput: messages per second one sender delivers to an instant local fake platform, against a bare
loop that posts the same messages to the same fake with no outbox (no rows, no claims, no marks).

    .venv/bin/python -m bench.outbox                     # SQLite and PostgreSQL (127.0.0.1, database ownerbot_bench)
    .venv/bin/python -m bench.outbox --db sqlite --messages 2000

The fake platform is a local aiohttp server that answers every post at once with a message id; the notifier
posts to it over HTTP, as a real one would. The messages are owed (enqueued) before the clock starts: what is
timed is the sender's claim, send, and mark-sent-right-after-the-answer. Printed: both rates and their ratio
(goal: >= 0.5x), each the median of `--repeat` runs measured in this same run.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
from aiohttp import web
from sqlalchemy import delete, text

from db import migrate, outbox
from db.engine import create_engine, create_session_factory
from db.models import OutboxMessage, Platform
from handlers import Reply
from handlers.ports import MessageRef
from handlers.reply_json import reply_to_json
from jobs.outbox_sender import OutboxSender

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
PG_SERVER = "postgresql+asyncpg://postgres@127.0.0.1:5432"


class FakePlatform:
    """An instant chat platform on localhost: POST /post answers {"id": n} at once."""

    def __init__(self) -> None:
        self.ids = itertools.count(1)
        self.received = 0

    async def post(self, request: web.Request) -> web.Response:
        await request.read()
        self.received += 1
        return web.json_response({"id": str(next(self.ids))})


class HttpNotifier:
    """A Notifier that posts to the fake platform over HTTP."""

    platform = Platform.CONSOLE

    def __init__(self, url: str, http: aiohttp.ClientSession) -> None:
        self.url = url
        self.http = http

    async def _post(self, target: str, reply: Reply) -> MessageRef:
        async with self.http.post(self.url, json={"to": target, "text": reply.text}) as response:
            answer = await response.json()
        return MessageRef(Platform.CONSOLE, "local", target, answer["id"])

    async def send_direct(self, *, workspace: str, user_id: str, reply: Reply) -> MessageRef:
        return await self._post(user_id, reply)

    async def post_channel(self, *, workspace: str, channel_id: str, reply: Reply) -> MessageRef:
        return await self._post(channel_id, reply)

    async def update(self, *, ref: MessageRef, reply: Reply) -> None:
        await self._post(ref.channel_id, reply)


def replies(count: int) -> list[tuple[str, Reply]]:
    return [(f"U{n % 50}", Reply(f"Message {n}: Acme's ticket #{n} waits for an answer.")) for n in range(count)]


async def bare_loop(notifier: HttpNotifier, messages: list[tuple[str, Reply]]) -> float:
    started = time.perf_counter()
    for target, reply in messages:
        await notifier.send_direct(workspace="local", user_id=target, reply=reply)
    return time.perf_counter() - started


async def through_outbox(url: str, notifier: HttpNotifier, messages: list[tuple[str, Reply]], run: int) -> float:
    engine = create_engine(url)
    sessions = create_session_factory(engine)
    try:
        async with sessions() as session, session.begin():
            await session.execute(delete(OutboxMessage))
            for n, (target, reply) in enumerate(messages):
                await outbox.enqueue(
                    session,
                    key=f"bench:{run}:{n}",
                    platform=Platform.CONSOLE,
                    workspace="local",
                    target=target,
                    direct=True,
                    purpose="notice",
                    content=reply_to_json(reply),
                    now=NOW,
                )
        sender = OutboxSender(sessions, {Platform.CONSOLE: notifier}, lambda: NOW)
        started = time.perf_counter()
        report = await sender.send_due()
        elapsed = time.perf_counter() - started
        if report.sent != len(messages):
            raise SystemExit(f"expected {len(messages)} sent, got {report}")
        return elapsed
    finally:
        await engine.dispose()


async def database_url(kind: str, workdir: Path) -> str:
    if kind == "sqlite":
        url = f"sqlite+aiosqlite:///{workdir / 'bench.sqlite3'}"
    else:
        admin = create_engine(f"{PG_SERVER}/test", isolation_level="AUTOCOMMIT")
        async with admin.connect() as connection:
            await connection.execute(text("DROP DATABASE IF EXISTS ownerbot_bench WITH (FORCE)"))
            await connection.execute(text("CREATE DATABASE ownerbot_bench"))
        await admin.dispose()
        url = f"{PG_SERVER}/ownerbot_bench"
    await asyncio.to_thread(migrate.upgrade, url)
    return url


async def run(args: argparse.Namespace) -> int:
    fake = FakePlatform()
    app = web.Application()
    app.router.add_post("/post", fake.post)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    workdir = Path(tempfile.mkdtemp(prefix="ownerbot-bench-outbox-"))
    messages = replies(args.messages)
    try:
        async with aiohttp.ClientSession() as http:
            notifier = HttpNotifier(f"http://127.0.0.1:{port}/post", http)
            for kind in args.db:
                url = await database_url(kind, workdir)
                bare, sent = [], []
                for index in range(args.repeat):
                    bare.append(await bare_loop(notifier, messages))
                    sent.append(await through_outbox(url, notifier, messages, index))
                bare_rate = len(messages) / statistics.median(bare)
                outbox_rate = len(messages) / statistics.median(sent)
                print(
                    f"{kind}: {len(messages)} messages, median of {args.repeat}: bare loop {bare_rate:,.0f} msg/s, "
                    f"one outbox sender {outbox_rate:,.0f} msg/s, ratio {outbox_rate / bare_rate:.2f}x (goal >= 0.5x)",
                    flush=True,
                )
    finally:
        await runner.cleanup()
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgres"], nargs="+", default=["sqlite", "postgres"])
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    sys.exit(asyncio.run(run(parser.parse_args())))


if __name__ == "__main__":
    main()
