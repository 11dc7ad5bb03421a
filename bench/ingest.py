"""Customer-channel ingest: events/s of customer messages through ownerbot's real `/slack/events`, against a bare
slack-bolt app that verifies and acks the same signed events and does nothing else.

    .venv/bin/python -m bench.ingest                     # SQLite and PostgreSQL (127.0.0.1, database ownerbot_bench)
    .venv/bin/python -m bench.ingest --db sqlite --events 500

Both servers listen on localhost and get the same signed Events API deliveries (Slack Connect `message` events
from a customer in another workspace, in a linked channel), `--concurrency` in flight, like Slack's fan-out. For
ownerbot the clock stops when every event is applied (a ticket opened with its tone scored, the channel message
recorded, the thread line and the owner's DM owed to the outbox), not at the ack: the listeners' background work
is drained. The owed messages are sent to a local fake Slack Web API after the clock stops (bench/outbox.py times
sending); `--deliver` lets the outbox sender run meanwhile, as in production. Printed:
both rates and their ratio (goal: >= 0.5x), each the median of `--repeat` runs measured in this same run.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import itertools
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.app.async_app import AsyncApp
from sqlalchemy import func, select

from app import RUNTIME, build_app
from bot.settings import Settings
from bot.slack import SLACK_FACE
from db.clock import utc_now
from db.models import Customer, Member, Platform, Role, Ticket, Tier
from ownership.customer_channels import link_channel
from ownership.people import member_on_sight, workspace_on_sight

from .outbox import database_url

SECRET = "bench-signing-secret-0123456789"
TEAM, CHANNEL = "T1", "C0ACME"
WORDS = (
    "Still broken, third time I ask.",
    "The export to CSV fails with a timeout since this morning.",
    "Could you add SSO for our team? Thanks a lot!",
    "This is unacceptable, our whole team is blocked 😡",
    "Danke! Das Problem mit dem Import ist noch da.",
)


class FakeSlackApi:
    """A Slack Web API that answers at once (auth.test, conversations.open, chat.postMessage)."""

    def __init__(self) -> None:
        self.ts = itertools.count(1)

    async def api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        await request.read()
        if method == "auth.test":
            return web.json_response({"ok": True, "team_id": TEAM, "user_id": "UBOT", "bot_id": "BBOT"})
        if method == "conversations.open":
            return web.json_response({"ok": True, "channel": {"id": "DBENCH"}})
        return web.json_response({"ok": True, "channel": CHANNEL, "ts": f"1800000000.{next(self.ts):06d}"})


def deliveries(count: int, run: str) -> list[str]:
    bodies = []
    for n in range(count):
        ts = f"17{n:08d}.{hash(run) % 1000000:06d}"
        event = {
            "type": "message",
            "channel": CHANNEL,
            "channel_type": "channel",
            "user": f"W{n % 7}",
            "team": "T9",
            "user_team": "T9",
            "text": f"{WORDS[n % len(WORDS)]} (case {n})",
            "ts": ts,
            "event_ts": ts,
        }
        body = {
            "token": "x",
            "team_id": TEAM,
            "api_app_id": "A0BENCH",
            "type": "event_callback",
            "event_id": f"Ev{run}{n:07d}",
            "event_time": int(time.time()),
            "event": event,
            "authorizations": [{"team_id": TEAM, "user_id": "UBOT", "is_bot": True}],
        }
        bodies.append(json.dumps(body))
    return bodies


def signed(body: str) -> dict[str, str]:
    stamp = str(int(time.time()))
    digest = hmac.new(SECRET.encode(), f"v0:{stamp}:{body}".encode(), hashlib.sha256).hexdigest()
    return {"Content-Type": "application/json", "X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": f"v0={digest}"}


async def fire(http: aiohttp.ClientSession, url: str, bodies: list[str], concurrency: int) -> None:
    gate = asyncio.Semaphore(concurrency)

    async def one(body: str) -> None:
        async with gate, http.post(url, data=body.encode(), headers=signed(body)) as response:
            await response.read()
            if response.status != 200:
                raise SystemExit(f"/slack/events answered {response.status}")

    await asyncio.gather(*(one(body) for body in bodies))


async def serve(app: web.Application) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, f"http://127.0.0.1:{runner.addresses[0][1]}/slack/events"


def bare_bolt_app(api_url: str) -> web.Application:
    """The baseline: bolt verifies the signature and acks; its listener does nothing."""
    from slack_sdk.web.async_client import AsyncWebClient

    bolt = AsyncApp(signing_secret=SECRET, client=AsyncWebClient(token="xoxb-bench", base_url=api_url))

    @bolt.event("message")
    async def acked() -> None:
        return None

    async def events(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await bolt.async_dispatch(await to_bolt_request(request)))

    app = web.Application()
    app.router.add_post("/slack/events", events)
    return app


async def seed(app: web.Application) -> None:
    """Acme Corp, owned by Uma, with its Slack Connect channel linked by the lead."""
    sessions = app[RUNTIME].sessions
    now = utc_now()
    async with sessions() as session, session.begin():
        workspace = await workspace_on_sight(session, platform=Platform.SLACK, external_id=TEAM, now=now)
        lead = await member_on_sight(
            session, workspace=workspace, platform_user_id="U_LEAD", display_name="Lee", now=now, admins=frozenset()
        )
        lead.role = Role.LEAD
        owner = await member_on_sight(
            session, workspace=workspace, platform_user_id="U1", display_name="Uma", now=now, admins=frozenset()
        )
        customer = Customer(
            workspace_id=workspace.id, name="Acme Corp", name_key="acme corp", tier=Tier.PREMIUM, created_at=now
        )
        customer.owner_id, customer.owned_since = owner.id, now
        session.add(customer)
        await session.flush()
        await link_channel(session, actor=lead, customer=customer, channel_id=CHANNEL, platform=Platform.SLACK, now=now)


async def through_ownerbot(
    url: str, api_url: str, bodies: list[str], concurrency: int, *, deliver: bool
) -> tuple[float, int]:
    os.environ.update(
        {
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_BOT_TOKEN": "xoxb-bench",
            "SLACK_API_URL": api_url,
            "LOG_LEVEL": "WARNING",
        }
    )
    app, _ = await build_app(Settings(database_url=url))
    runtime = app[RUNTIME]
    if not deliver:  # owed in each event's transaction; sent once the clock stops (bench/outbox.py times sending)
        runtime.handlers.wake_sender = None
    runner, events_url = await serve(app)
    try:
        await seed(app)
        async with aiohttp.ClientSession() as http:
            started = time.perf_counter()
            await fire(http, events_url, bodies, concurrency)
            await app[SLACK_FACE].work.drain(seconds=600)
            elapsed = time.perf_counter() - started
            await runtime.outbox.drain()
            await runtime.outbox.send_due()
        async with runtime.sessions() as session:
            opened = await session.scalar(select(func.count()).select_from(Ticket)) or 0
            members = await session.scalar(select(func.count()).select_from(Member)) or 0
        if opened != len(bodies) or members != 2:
            raise SystemExit(f"expected {len(bodies)} tickets and 2 members, got {opened} and {members}")
        return elapsed, opened
    finally:
        await runner.cleanup()


async def through_bare_bolt(api_url: str, bodies: list[str], concurrency: int) -> float:
    runner, events_url = await serve(bare_bolt_app(api_url))
    try:
        async with aiohttp.ClientSession() as http:
            started = time.perf_counter()
            await fire(http, events_url, bodies, concurrency)
            return time.perf_counter() - started
    finally:
        await runner.cleanup()


async def run(args: argparse.Namespace) -> int:
    fake = FakeSlackApi()
    api = web.Application()
    api.router.add_post("/api/{method}", fake.api)
    api_runner, api_events = await serve(api)
    api_url = api_events.replace("/slack/events", "/api/")
    workdir = Path(tempfile.mkdtemp(prefix="ownerbot-bench-ingest-"))
    try:
        for kind in args.db:
            bare, ours = [], []
            for index in range(args.repeat):
                bodies = deliveries(args.events, f"{kind}{index}")
                bare.append(await through_bare_bolt(api_url, bodies, args.concurrency))
                fresh = workdir / f"{kind}-{index}"
                fresh.mkdir()
                url = await database_url(kind, fresh)  # a fresh database each run
                elapsed, _ = await through_ownerbot(url, api_url, bodies, args.concurrency, deliver=args.deliver)
                ours.append(elapsed)
            bare_rate = args.events / statistics.median(bare)
            our_rate = args.events / statistics.median(ours)
            print(
                f"{kind}: {args.events} customer messages, {args.concurrency} in flight, median of {args.repeat}: "
                f"bare bolt ack {bare_rate:,.0f} events/s, ownerbot ingest {our_rate:,.0f} events/s, "
                f"ratio {our_rate / bare_rate:.2f}x (goal >= 0.5x)",
                flush=True,
            )
    finally:
        await api_runner.cleanup()
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgres"], nargs="+", default=["sqlite", "postgres"])
    parser.add_argument("--events", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--deliver", action="store_true", help="let the outbox sender deliver the DMs and thread lines while timing"
    )
    sys.exit(asyncio.run(run(parser.parse_args())))


if __name__ == "__main__":
    main()
