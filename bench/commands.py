"""Commands over the real HTTP endpoint: ownerbot's server against a bare slack-bolt AsyncApp that only acks.

    .venv/bin/python -m bench.commands                          # SQLite and PostgreSQL (127.0.0.1, ownerbot_bench)
    .venv/bin/python -m bench.commands --db sqlite --claims 500 --burst 0

Both servers run as processes of their own (`./ownerbot serve`, and this file with `--bare PORT`), so their CPU
time and peak RSS are theirs alone (read from /proc). A fake Slack in this process answers the Web API and records
every reply (in a command's ack, or posted to its response_url) with its arrival time. The database is seeded
with one workspace, `--agents` agents (known members, as in a team that uses ownerbot daily) and `--customers`
unowned customers.

Each round sends `--claims` correctly signed `/claim <customer>` slash commands, `--in-flight` at a time, each
customer claimed once by one of the agents. Rounds alternate A B A B (A: ownerbot, B: the bare app) so drift on a
loaded machine cancels. An ownerbot round ends when every claim is in the database and every reply has arrived.
Printed, per database:
- completed claims per second, and their ratio to the bare app's acks per second (goal >= 0.5x);
- server CPU ms per claim (goal <= 1.5 ms), ack and reply p50/p99 (reply goal: p99 < 3 s), both from the send;
- statements and transactions per claim, from the server's own counters on GET /metrics;
- ack p99/p50 at `--wide` in flight (goal <= 3); the same for `/handoff` and an Accept button click;
- a burst of `--burst` claims at `--burst-in-flight`: replies that failed or never came (goal: 0);
- peak RSS of both servers and their ratio (goal <= 2.5x).

Profiling recipe: `--profile $(which py-spy)` attaches py-spy (`pip install py-spy`, the bench extra) to the server
during the first ownerbot round and prints the functions most often on the stack; `--keep` keeps the raw samples
(collapsed stacks, for flamegraph.pl or https://www.speedscope.app) in the printed work folder:

    .venv/bin/python -m bench.commands --db sqlite --claims 1000 --rounds 1 --burst 0 --no-others \\
        --profile .venv/bin/py-spy --keep
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import hmac
import itertools
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
from aiohttp import web
from sqlalchemy import select, text, update

from bench.outbox import database_url  # a fresh, migrated SQLite file or PostgreSQL database
from db.engine import create_engine, create_session_factory
from db.models import Customer, HandoffRequest, HandoffStatus, Member, Platform, Role, Tier, Workspace

ROOT = Path(__file__).resolve().parent.parent
SECRET = "bench-signing-secret-0123456789"
TOKEN = "xoxb-bench-token"
TEAM = "T1"
HZ = os.sysconf("SC_CLK_TCK")
SORRY = "Something went wrong"
BUSY = "very busy"  # handlers.admission: waited too long for its turn, nothing changed


def sign(body: bytes, timestamp: int) -> str:
    return "v0=" + hmac.new(SECRET.encode(), b"v0:%d:" % timestamp + body, hashlib.sha256).hexdigest()


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


# -- a fake Slack: the Web API methods ownerbot calls, and response_url ---------------------------------------------


@dataclass
class FakeSlack:
    replies: dict[str, tuple[float, str]] = field(default_factory=dict)  # response_url key -> (arrival, text)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    waiting_for: int = 0
    ts: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    async def api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if request.content_type == "application/json":
            args = await request.json()
        else:
            args = dict(await request.post())
        if method == "auth.test":
            return web.json_response({"ok": True, "team_id": TEAM, "user_id": "UBOT", "bot_id": "BBOT"})
        if method == "users.info":
            user = str(args.get("user"))
            profile = {"display_name": f"Agent {user}", "real_name": f"Agent {user}"}
            found = {"id": user, "team_id": TEAM, "name": user.lower(), "tz": "Europe/Berlin", "profile": profile}
            return web.json_response({"ok": True, "user": found})
        if method == "conversations.open":
            return web.json_response({"ok": True, "channel": {"id": f"D{args.get('users')}"}})
        if method in ("chat.postMessage", "chat.update", "chat.postEphemeral"):
            ts = f"1700000000.{next(self.ts):06d}"
            return web.json_response({"ok": True, "channel": args.get("channel"), "ts": ts, "message_ts": ts})
        return web.json_response({"ok": False, "error": "unknown_method"})

    async def respond(self, request: web.Request) -> web.Response:
        self.answered(request.match_info["key"], json.dumps(await request.json()))
        return web.Response(text="ok")

    def answered(self, key: str, body: str) -> None:
        """A reply arrived: posted to the response_url, or in the command's ack (which Slack shows the same way)."""
        self.replies[key] = (time.perf_counter(), body)
        if len(self.replies) >= self.waiting_for:
            self.arrived.set()


# -- servers --------------------------------------------------------------------------------------------------------


@dataclass
class Server:
    name: str
    process: subprocess.Popen[bytes]
    url: str

    def cpu_seconds(self) -> float:
        fields_ = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields_[11]) + int(fields_[12])) / HZ

    def peak_rss_mib(self) -> float:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def start(name: str, command: list[str], env: dict[str, str], ready: str, log: Path) -> Server:
    port = free_port()
    env = {**os.environ, **env, "PORT": str(port), "HOST": "127.0.0.1"}
    command = [part.replace("{port}", str(port)) for part in command]
    process = subprocess.Popen(  # noqa: ASYNC220 (started once, before anything is timed)
        command, cwd=ROOT, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT
    )
    server = Server(name, process, f"http://127.0.0.1:{port}")
    async with aiohttp.ClientSession() as http:
        for _ in range(600):
            if process.poll() is not None:
                raise SystemExit(f"{name} exited: see {log}")
            try:
                async with http.get(server.url + ready) as response:
                    if response.status in (200, 404, 405):
                        return server
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise SystemExit(f"{name} did not start: see {log}")


async def statement_counts(http: aiohttp.ClientSession, server: Server) -> tuple[float, float]:
    """ownerbot_database_statements_total and ownerbot_database_transactions_total (0, 0 where not exported)."""
    async with http.get(server.url + "/metrics") as response:
        body = await response.text() if response.status == 200 else ""
    found = {"ownerbot_database_statements_total": 0.0, "ownerbot_database_transactions_total": 0.0}
    for line in body.splitlines():
        name, _, value = line.partition(" ")
        if name in found:
            found[name] = float(value)
    return found["ownerbot_database_statements_total"], found["ownerbot_database_transactions_total"]


def start_profiler(py_spy: str | None, server: Server, out: Path) -> subprocess.Popen[bytes] | None:
    """py-spy (a sampling profiler that attaches to the server's process) over the first ownerbot round."""
    if not py_spy:
        return None
    command = [py_spy, "record", "--pid", str(server.process.pid), "--rate", "200", "--format", "raw"]
    return subprocess.Popen([*command, "-o", f"{out}.txt"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def stop_profiler(profiler: subprocess.Popen[bytes], out: Path, top: int = 25) -> None:
    """Stop py-spy and print where the server's time went: the share of samples each of ownerbot's functions is on
    the stack of (inclusive), then the same for every function at the top of the stack (self)."""
    profiler.send_signal(signal.SIGINT)
    profiler.wait(60)
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for line in Path(f"{out}.txt").read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        samples = int(count)
        total += samples
        frames = stack.split(";")
        own[frames[-1]] += samples
        for frame in set(frames):
            if "site-packages" not in frame and "/lib/python" not in frame and "<frozen" not in frame:
                inclusive[frame] += samples
    print(f"  profile ({total} samples on CPU, {out}.txt; flame graph: flamegraph.pl or speedscope.app):")
    for frame, samples in inclusive.most_common(top):
        print(f"    {100 * samples / max(total, 1):5.1f}% incl  {frame.replace(str(ROOT) + '/', '')}")
    for frame, samples in own.most_common(top):
        print(f"    {100 * samples / max(total, 1):5.1f}% self  {frame.replace(str(ROOT) + '/', '')}")


# -- the database ---------------------------------------------------------------------------------------------------


@dataclass
class Seeded:
    agents: list[str]
    customers: list[str]


async def seed(url: str, agents: int, customers: int) -> Seeded:
    now = datetime.now(UTC)
    engine = create_engine(url)
    sessions = create_session_factory(engine)
    async with sessions() as session, session.begin():
        workspace = Workspace(platform=Platform.SLACK, external_id=TEAM, name="bench", created_at=now)
        session.add(workspace)
        await session.flush()
        for n in range(agents):
            session.add(
                Member(
                    workspace_id=workspace.id,
                    platform_user_id=f"UA{n:03d}",
                    display_name=f"Agent {n} Ñandú",
                    role=Role.AGENT,
                    time_zone="Europe/Berlin",
                    created_at=now,
                )
            )
        for n in range(customers):
            name = f"Customer {n:05d} Ünlü"
            session.add(
                Customer(
                    workspace_id=workspace.id, name=name, name_key=name.casefold(), tier=Tier.STANDARD, created_at=now
                )
            )
    await engine.dispose()
    return Seeded([f"UA{n:03d}" for n in range(agents)], [f"Customer {n:05d} Ünlü" for n in range(customers)])


async def reset_owners(url: str) -> None:
    engine = create_engine(url)
    async with engine.begin() as db:
        await db.execute(update(Customer).values(owner_id=None, owned_since=None))
        await db.execute(update(HandoffRequest).values(status=HandoffStatus.CANCELLED))
    await engine.dispose()


async def owned(url: str) -> int:
    engine = create_engine(url)
    async with engine.connect() as db:
        count = await db.scalar(text("SELECT count(*) FROM customers WHERE owner_id IS NOT NULL"))
    await engine.dispose()
    return int(count or 0)


async def pending_handoffs(url: str) -> list[tuple[int, str]]:
    engine = create_engine(url)
    async with engine.connect() as db:
        rows = (
            await db.execute(
                select(HandoffRequest.id, Member.platform_user_id)
                .join(Member, Member.id == HandoffRequest.to_member_id)
                .where(HandoffRequest.status == HandoffStatus.PENDING)
            )
        ).all()
    await engine.dispose()
    return [(int(row[0]), str(row[1])) for row in rows]


# -- requests -------------------------------------------------------------------------------------------------------


@dataclass
class Request:
    key: str
    body: bytes


class Requests:
    def __init__(self, fake_url: str) -> None:
        self.fake_url = fake_url
        self.serial = itertools.count(1)

    def command(self, user: str, command: str, text_: str) -> Request:
        n = next(self.serial)
        key = f"r{n}"
        body = urlencode(
            {
                "token": "legacy",
                "team_id": TEAM,
                "team_domain": "bench",
                "channel_id": "C1",
                "channel_name": "support",
                "user_id": user,
                "user_name": user.lower(),
                "command": command,
                "text": text_,
                "api_app_id": "A0BENCH",
                "response_url": f"{self.fake_url}/respond/{key}",
                "trigger_id": f"bench.{os.getpid()}.{n}",
            }
        ).encode()
        return Request(key, body)

    def click(self, user: str, action_id: str, value: str) -> Request:
        n = next(self.serial)
        key = f"r{n}"
        payload = {
            "type": "block_actions",
            "user": {"id": user, "username": user.lower(), "name": user.lower(), "team_id": TEAM},
            "api_app_id": "A0BENCH",
            "token": "legacy",
            "trigger_id": f"bench.{os.getpid()}.{n}",
            "team": {"id": TEAM, "domain": "bench"},
            "container": {"type": "message", "message_ts": "1700000000.1", "channel_id": f"D{user}"},
            "channel": {"id": f"D{user}", "name": "directmessage"},
            "message": {"type": "message", "ts": "1700000000.1", "text": "offer", "blocks": []},
            "response_url": f"{self.fake_url}/respond/{key}",
            "actions": [{"action_id": action_id, "block_id": "b1", "value": value, "type": "button"}],
        }
        return Request(key, urlencode({"payload": json.dumps(payload)}).encode())


@dataclass
class Round:
    seconds: float  # to the last ack (bare) or to the last reply and the database (ownerbot)
    acks: list[float]
    replies: list[float]
    failures: int  # no reply, or "Something went wrong", or a refused request
    cpu: float
    statements: float
    transactions: float
    busy: int = 0  # answered "busy, try again" (not a failure, but not done either)


async def send_all(
    http: aiohttp.ClientSession, server: Server, requests: list[Request], in_flight: int, fake: FakeSlack | None = None
) -> tuple[float, list[float], dict[str, float], int]:
    """Post every request, `in_flight` at a time; returns the start, ack latencies, send times and non-200 acks."""
    queue = iter(requests)
    acks: list[float] = []
    sent: dict[str, float] = {}
    refused = 0

    async def worker() -> None:
        nonlocal refused
        for request in queue:
            stamp = int(time.time())
            headers = {
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Slack-Request-Timestamp": str(stamp),
                "X-Slack-Signature": sign(request.body, stamp),
            }
            began = time.perf_counter()
            sent[request.key] = began
            try:
                async with http.post(server.url + "/slack/events", data=request.body, headers=headers) as response:
                    body = await response.read()
                    refused += response.status != 200
                    if fake is not None and body.startswith(b"{"):  # answered in the ack
                        fake.answered(request.key, body.decode())
            except aiohttp.ClientError:
                refused += 1
            acks.append(time.perf_counter() - began)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(in_flight)))
    return started, acks, sent, refused


async def run_round(
    http: aiohttp.ClientSession,
    fake: FakeSlack,
    server: Server,
    requests: list[Request],
    in_flight: int,
    *,
    replies: bool,
    done: Callable[[], Any] | None = None,
    wait: float = 300,
) -> Round:
    fake.replies.clear()
    fake.arrived.clear()
    fake.waiting_for = len(requests)
    before = await statement_counts(http, server) if replies else (0.0, 0.0)
    cpu = server.cpu_seconds()
    started, acks, sent, refused = await send_all(http, server, requests, in_flight, fake)
    finished = time.perf_counter()
    if replies:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(fake.arrived.wait(), wait)
        if done is not None:
            await done()
        finished = max([finished, *(at for at, _ in fake.replies.values())])
        await asyncio.sleep(0.2)  # the outbox and the last commits: counted in the server's CPU too
    cpu = server.cpu_seconds() - cpu
    after = await statement_counts(http, server) if replies else (0.0, 0.0)
    latencies = [fake.replies[r.key][0] - sent[r.key] for r in requests if r.key in fake.replies]
    failures = refused
    if replies:
        failures += sum(1 for r in requests if r.key not in fake.replies or SORRY in fake.replies[r.key][1])
    busy = sum(1 for r in requests if r.key in fake.replies and BUSY in fake.replies[r.key][1])
    return Round(finished - started, acks, latencies, failures, cpu, after[0] - before[0], after[1] - before[1], busy)


def describe(what: str, rounds: list[Round], count: int) -> str:
    seconds = statistics.median(r.seconds for r in rounds)
    acks = [a for r in rounds for a in r.acks]
    line = f"  {what}: {count / seconds:,.0f}/s, CPU {1000 * sum(r.cpu for r in rounds) / (count * len(rounds)):.2f} ms"
    line += f", ack p50 {1000 * percentile(acks, 0.5):.1f} ms p99 {1000 * percentile(acks, 0.99):.1f} ms"
    replies = [a for r in rounds for a in r.replies]
    if replies:
        line += f", reply p50 {1000 * percentile(replies, 0.5):.0f} ms p99 {1000 * percentile(replies, 0.99):.0f} ms"
        statements = sum(r.statements for r in rounds) / (count * len(rounds))
        transactions = sum(r.transactions for r in rounds) / (count * len(rounds))
        line += f", {statements:.1f} statements and {transactions:.1f} transactions per command"
    failures = sum(r.failures for r in rounds)
    busy = sum(r.busy for r in rounds)
    return line + (f", {failures} FAILED" if failures else ", 0 failed") + (f", {busy} answered busy" if busy else "")


# -- one database ---------------------------------------------------------------------------------------------------


async def bench_database(kind: str, args: argparse.Namespace, fake: FakeSlack, fake_url: str, workdir: Path) -> None:
    url = await database_url(kind, workdir)
    seeded = await seed(url, args.agents, args.customers)
    log = workdir / f"{kind}.log"
    env = {
        "DATABASE_URL": url,
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_BOT_TOKEN": TOKEN,
        "SLACK_API_URL": f"{fake_url}/api/",
        "CONSOLE_INBOX": str(workdir / "inbox"),
        "LOG_LEVEL": "WARNING",
        "DASHBOARD_TOKEN": "",
    }
    bare = await start(
        "bare", [sys.executable, "-m", "bench.bare_slack", "{port}", f"{fake_url}/api/", SECRET], {}, "/", log
    )
    try:
        ownerbot = await start("ownerbot", [str(ROOT / "ownerbot"), "serve"], env, "/readyz", log)
    except BaseException:
        bare.stop()
        raise
    requests = Requests(fake_url)
    claims = min(args.claims, len(seeded.customers))

    def claim_requests(count: int) -> list[Request]:
        names = seeded.customers
        return [
            requests.command(seeded.agents[n % len(seeded.agents)], "/claim", names[n % len(names)])
            for n in range(count)
        ]

    async def all_claimed() -> None:
        for _ in range(100):
            if await owned(url) >= claims:
                return
            await asyncio.sleep(0.1)

    print(f"{kind}: {args.agents} agents, {len(seeded.customers)} customers", flush=True)
    try:
        connector = aiohttp.TCPConnector(limit=max(args.wide, args.burst_in_flight, args.in_flight))
        async with aiohttp.ClientSession(connector=connector) as http:
            await run_round(http, fake, bare, claim_requests(50), 4, replies=False)  # warm both up
            await reset_owners(url)
            await run_round(http, fake, ownerbot, claim_requests(50), 4, replies=True)
            a_rounds: list[Round] = []
            b_rounds: list[Round] = []
            for index in range(args.rounds):
                await reset_owners(url)
                profiler = start_profiler(args.profile, ownerbot, workdir / f"profile-{kind}") if index == 0 else None
                a_rounds.append(
                    await run_round(
                        http, fake, ownerbot, claim_requests(claims), args.in_flight, replies=True, done=all_claimed
                    )
                )
                if profiler is not None:
                    stop_profiler(profiler, workdir / f"profile-{kind}")
                b_rounds.append(
                    await run_round(http, fake, bare, claim_requests(claims), args.in_flight, replies=False)
                )
            a_rate = claims / statistics.median(r.seconds for r in a_rounds)
            b_rate = claims / statistics.median(r.seconds for r in b_rounds)
            print(f"  /claim x {claims}, {args.in_flight} in flight, rounds A B x {args.rounds}:")
            print(describe("ownerbot completed claims", a_rounds, claims))
            print(describe("bare bolt acks", b_rounds, claims))
            print(
                f"  => completed claims {a_rate / b_rate:.2f}x the bare ack rate (goal >= 0.5x); "
                f"CPU {1000 * sum(r.cpu for r in a_rounds) / (claims * len(a_rounds)):.2f} ms per claim (goal <= 1.5); "
                f"reply p99 {percentile([x for r in a_rounds for x in r.replies], 0.99):.2f} s (goal < 3)",
                flush=True,
            )
            await reset_owners(url)
            wide = await run_round(
                http, fake, ownerbot, claim_requests(claims), args.wide, replies=True, done=all_claimed
            )
            wide_bare = await run_round(http, fake, bare, claim_requests(claims), args.wide, replies=False)
            ratio = percentile(wide.acks, 0.99) / percentile(wide.acks, 0.5)
            bare_ratio = percentile(wide_bare.acks, 0.99) / percentile(wide_bare.acks, 0.5)
            print(describe(f"ownerbot at {args.wide} in flight", [wide], claims))
            print(f"  => ack p99/p50 at {args.wide} in flight: {ratio:.1f} (goal <= 3; bare app {bare_ratio:.1f})")
            if args.others:
                await bench_others(http, fake, ownerbot, bare, url, seeded, requests, args)
            if args.burst:
                await reset_owners(url)
                burst = await run_round(
                    http,
                    fake,
                    ownerbot,
                    claim_requests(args.burst),
                    args.burst_in_flight,
                    replies=True,
                    wait=args.burst_wait,
                )
                print(describe(f"burst of {args.burst} claims, {args.burst_in_flight} in flight", [burst], args.burst))
                print(f"  => burst failures: {burst.failures} (goal 0), answered busy: {burst.busy}", flush=True)
            ours, theirs = ownerbot.peak_rss_mib(), bare.peak_rss_mib()
            print(
                f"  peak RSS: ownerbot {ours:.0f} MiB, bare {theirs:.0f} MiB, ratio {ours / theirs:.1f}x (goal <= 2.5x)"
            )
    finally:
        ownerbot.stop()
        bare.stop()


async def bench_others(
    http: aiohttp.ClientSession,
    fake: FakeSlack,
    ownerbot: Server,
    bare: Server,
    url: str,
    seeded: Seeded,
    requests: Requests,
    args: argparse.Namespace,
) -> None:
    """/handoff of every owned customer to the next agent, then the receivers' Accept clicks."""
    count = min(args.claims, len(seeded.customers))
    agents = seeded.agents
    handoffs = [
        requests.command(
            agents[n % len(agents)],
            "/handoff",
            f"{seeded.customers[n]} <@{agents[(n + 1) % len(agents)]}|agent> they speak German with the CTO 🇩🇪",
        )
        for n in range(count)
    ]
    offered = await run_round(http, fake, ownerbot, handoffs, args.in_flight, replies=True)
    bare_handoffs = await run_round(http, fake, bare, handoffs[: len(handoffs)], args.in_flight, replies=False)
    print(describe("ownerbot /handoff", [offered], count))
    print(describe("bare /handoff acks", [bare_handoffs], count))
    pending = await pending_handoffs(url)
    clicks = [requests.click(user, "ownerbot.handoff.accept", str(handoff_id)) for handoff_id, user in pending]
    if clicks:
        accepted = await run_round(http, fake, ownerbot, clicks, args.in_flight, replies=True)
        bare_clicks = await run_round(http, fake, bare, clicks, args.in_flight, replies=False)
        print(describe("ownerbot Accept click", [accepted], len(clicks)))
        print(describe("bare click acks", [bare_clicks], len(clicks)))
    print(
        f"  => /handoff {offered.seconds and count / offered.seconds / (count / bare_handoffs.seconds):.2f}x the bare "
        "ack rate",
        flush=True,
    )


async def run(args: argparse.Namespace) -> int:
    fake = FakeSlack()
    app = web.Application(client_max_size=1024 * 1024)
    app.router.add_post("/api/{method}", fake.api)
    app.router.add_post("/respond/{key}", fake.respond)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    fake_url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    workdir = Path(tempfile.mkdtemp(prefix="ownerbot-bench-commands-"))
    try:
        for kind in args.db:
            await bench_database(kind, args, fake, fake_url, workdir)
    finally:
        await runner.cleanup()
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            print(f"kept {workdir}")
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgres"], nargs="+", default=["sqlite", "postgres"])
    parser.add_argument("--agents", type=int, default=50)
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument("--claims", type=int, default=2000)
    parser.add_argument("--in-flight", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=2, help="A B pairs")
    parser.add_argument("--wide", type=int, default=64, help="in flight for the ack p99/p50 figure")
    parser.add_argument("--burst", type=int, default=6000)
    parser.add_argument("--burst-in-flight", type=int, default=256)
    parser.add_argument("--burst-wait", type=float, default=300)
    parser.add_argument("--no-others", dest="others", action="store_false", help="skip /handoff and the click")
    parser.add_argument("--profile", metavar="PY_SPY", help="path to py-spy: profile the first ownerbot round")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (server logs)")
    sys.exit(asyncio.run(run(parser.parse_args())))


if __name__ == "__main__":
    main()
