"""Sweep cost against the number of tickets: the same number of due nudges among 10k and 1M tickets.

    .venv/bin/python -m bench.sweep                      # PostgreSQL on 127.0.0.1 (database ownerbot_bench)
    .venv/bin/python -m bench.sweep --db sqlite          # a SQLite file in a temporary folder
    .venv/bin/python -m bench.sweep --small 10000 --large 1000000 --due 200
    .venv/bin/python -m bench.sweep --db sqlite --at-once 10000   # nudges/s when 10,000 come due at once

For each size it builds a steady state in bulk (INSERT .. SELECT over a generated series): one workspace with a
business-hours calendar (Berlin support hours and ten holidays, so every clock counts business time), ten
agents, the tickets spread over customers, every ticket on the planner's schedule with its next check in the
next day, and `--due` of them stale with their check due now. Then it times one full sweep (plan, claim,
render, send into a ConsoleNotifier inbox, mark sent) and one idle sweep (nothing due), and prints both and
the ratio large / small. A sweep whose cost followed the ticket count would show a ratio near 100.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import Connection, event, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.console import ConsoleNotifier
from db import migrate
from db.engine import create_engine, create_session_factory
from db.models import Platform
from jobs.nudge_sweep import NudgeSweeper
from nudges.settings import NudgeSettings

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)  # a Tuesday noon: everyone is at work
BENCH_HOURS = " ".join(f"{day}=360-1200" for day in range(1, 6))  # Mon-Fri 06:00-20:00 in Berlin
HOLIDAYS = [date(2026, 12, 24), date(2026, 12, 25), date(2026, 12, 31), date(2027, 1, 1), date(2026, 11, 20)]
HOLIDAYS += [date(2027, 4, 2), date(2027, 4, 5), date(2027, 5, 1), date(2027, 5, 13), date(2027, 10, 3)]
PG_SERVER = "postgresql+asyncpg://postgres@127.0.0.1:5432"
AGENTS = 10


def stamp(moment: datetime, dialect: str) -> object:
    return moment.replace(tzinfo=None) if dialect == "sqlite" else moment


def series(dialect: str, count: int) -> str:
    """A row source `g(x)` with x = 1..count."""
    if dialect == "postgresql":
        return f"generate_series(1, {count}) AS g(x)"
    return f"(WITH RECURSIVE s(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM s WHERE x < {count}) SELECT x FROM s) AS g"


def minutes_after(dialect: str, column: str) -> str:
    if dialect == "postgresql":
        return f"CAST(:now AS timestamptz) + ({column} % 1440 + 60) * INTERVAL '1 minute'"
    return f"strftime('%Y-%m-%d %H:%M:%f', :now, '+' || ({column} % 1440 + 60) || ' minutes')"


async def build(engine: AsyncEngine, tickets: int, due: int, agents: int = AGENTS) -> None:
    dialect = engine.dialect.name
    now = stamp(NOW, dialect)
    opened = stamp(NOW - timedelta(hours=4, minutes=15), dialect)  # stale at 11:45: the lead step is not due yet
    customers = max(1, tickets // 10)

    def ts(sql: str) -> str:  # asyncpg wants one type per parameter
        if dialect != "postgresql":
            return sql
        return sql.replace(":now", "CAST(:now AS timestamptz)").replace(":opened", "CAST(:opened AS timestamptz)")

    async with engine.begin() as db:
        if dialect == "postgresql":
            names = (
                (
                    await db.execute(
                        text(
                            "SELECT tablename FROM pg_tables "
                            "WHERE schemaname = 'public' AND tablename <> 'alembic_version' "
                            "AND tablename <> 'service_levels'"
                        )
                    )
                )
                .scalars()
                .all()
            )
            await db.execute(text(f"TRUNCATE {', '.join(names)} RESTART IDENTITY CASCADE"))
        await db.execute(
            text(
                ts(
                    "INSERT INTO workspaces (id, platform, external_id, name, created_at) "
                    "VALUES (1, 'console', 'bench', 'bench', :now)"
                )
            ),
            {"now": now},
        )
        await db.execute(
            text(
                ts(
                    "INSERT INTO members (id, workspace_id, platform_user_id, display_name, role, time_zone, "
                    "work_start, "
                    f"work_end, work_days, away, created_at) SELECT x, 1, 'A' || x, 'agent ' || x, "
                    f"CASE WHEN x = 1 THEN 'admin' ELSE 'agent' END, 'UTC', '09:00', '17:00', '12345', false, :now "
                    f"FROM {series(dialect, agents)}"
                )
            ),
            {"now": now},
        )
        # The calendar the business clocks count: Berlin support hours and a year of holidays (none today).
        await db.execute(
            text(
                ts(
                    "INSERT INTO support_hours (workspace_id, team_id, time_zone, hours, updated_at) "
                    "VALUES (1, NULL, 'Europe/Berlin', :hours, :now)"
                )
            ),
            {"now": now, "hours": BENCH_HOURS},
        )
        for day in HOLIDAYS:
            await db.execute(
                text(
                    ts(
                        "INSERT INTO holidays (workspace_id, team_id, day, name, created_at) "
                        "VALUES (1, NULL, :day, 'holiday', :now)"
                    )
                ),
                {"now": now, "day": day},
            )
        await db.execute(
            text(
                ts(
                    "INSERT INTO customers (id, workspace_id, name, name_key, tier, owner_id, owned_since, created_at) "
                    f"SELECT x, 1, 'Customer ' || x, 'customer ' || x, 'premium', x % {agents} + 1, :now, :now "
                    f"FROM {series(dialect, customers)}"
                )
            ),
            {"now": now},
        )
        await db.execute(
            text(
                ts(
                    "INSERT INTO tickets (id, workspace_id, customer_id, source, subject, status, priority, owner_id, "
                    "opened_at, first_response_at, last_activity_at, pending_seconds, mood, reassign_count) "
                    f"SELECT x, 1, x % {customers} + 1, 'bench', 'Ticket ' || x, 'open', 'normal', "
                    f"(x % {customers}) % {agents} + 1, :opened, :opened, "
                    f"CASE WHEN x <= {due} THEN :opened ELSE :now END, 0, 'neutral', 0 FROM {series(dialect, tickets)}"
                )
            ),
            {"now": now, "opened": opened},
        )
        # Steady state: every ticket is on the schedule; only the stale ones are due now.
        await db.execute(
            text(
                ts(
                    "INSERT INTO nudge_checks (subject_kind, subject_id, check_at) "
                    f"SELECT 'ticket', x, CASE WHEN x <= {due} THEN :now ELSE {minutes_after(dialect, 'x')} END "
                    f"FROM {series(dialect, tickets)}"
                )
            ),
            {"now": now},
        )
        if dialect == "postgresql":
            await db.execute(text("SELECT setval('tickets_id_seq', (SELECT max(id) FROM tickets))"))
    async with engine.connect() as db:
        await db.execute(text("ANALYZE"))
        await db.commit()


async def rearm(engine: AsyncEngine, due: int) -> None:
    """Forget what the last sweep did, so the same nudges are due again (for repeated measurements)."""
    now = stamp(NOW, engine.dialect.name)
    cast = "CAST(:now AS timestamptz)" if engine.dialect.name == "postgresql" else ":now"
    async with engine.begin() as db:
        await db.execute(text("DELETE FROM nudge_deliveries"))
        await db.execute(text("DELETE FROM nudge_episodes"))
        await db.execute(
            text(f"UPDATE nudge_checks SET check_at = {cast} WHERE subject_kind = 'ticket' AND subject_id <= {due}"),
            {"now": now},
        )


async def sweep_once(engine: AsyncEngine, inbox: Path, due: int) -> tuple[float, float, int]:
    policy = NudgeSettings(daily_cap=200, batch_size=max(200, due))
    notifier = ConsoleNotifier(inbox)
    sweeper = NudgeSweeper(
        create_session_factory(engine), {Platform.CONSOLE: notifier}, policy=policy, clock=lambda: NOW, worker="bench"
    )
    started = time.perf_counter()
    sent = 0
    while True:
        result = await sweeper.tick()
        sent += result.sent
        if not (result.checked or result.sent):
            break
    busy = time.perf_counter() - started
    idle_runs = []
    for _ in range(5):
        started = time.perf_counter()
        await sweeper.tick()
        idle_runs.append(time.perf_counter() - started)
    return busy, statistics.median(idle_runs), sent


async def measure(engine: AsyncEngine, inbox: Path, due: int, repeat: int) -> tuple[float, float, int, list[float]]:
    """The median of `repeat` sweeps over the same data (the first one also warms the caches)."""
    runs = []
    for index in range(repeat):
        if index:
            await rearm(engine, due)
        runs.append(await sweep_once(engine, inbox / str(index), due))
    sent = min(run[2] for run in runs)
    return statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs), sent, [r[0] for r in runs]


async def at_once(engine: AsyncEngine, inbox: Path, due: int) -> None:
    """`due` nudges due at the same moment (09:00 on Monday): ticks as the server runs them (the production batch
    size and tick interval) until every one is sent or bundled; nudges per second for one replica."""
    policy = NudgeSettings(daily_cap=200)
    sweeper = NudgeSweeper(
        create_session_factory(engine),
        {Platform.CONSOLE: ConsoleNotifier(inbox)},
        policy=policy,
        clock=lambda: NOW,
        worker="bench",
    )
    await build(engine, due, due, agents=max(AGENTS, due // 100))  # 100 each: below the daily cap, none bundled
    writes = WriteTimes(engine)
    cpu = time.process_time()
    elapsed = busy = 0.0
    ticks = delivered = 0
    while True:
        started = time.perf_counter()
        await sweeper.tick()
        took = time.perf_counter() - started
        ticks += 1
        busy += took
        before = delivered
        async with engine.connect() as db:
            left = await db.scalar(
                text("SELECT count(*) FROM nudge_deliveries WHERE status NOT IN ('sent', 'bundled', 'cancelled')")
            )
            delivered = await db.scalar(
                text("SELECT count(*) FROM nudge_deliveries WHERE status IN ('sent', 'bundled')")
            )
        if not left or delivered == before or ticks >= 1_000:  # all out, or a tick that moved nothing
            elapsed += took
            break
        elapsed += max(took, policy.tick_seconds)  # the next tick starts a tick interval after this one started
    cpu = time.process_time() - cpu
    writes.stop()
    print(
        f"{engine.dialect.name}: {due:,} nudges due at once: {delivered:,} delivered ({left or 0:,} left) "
        f"in {ticks} tick(s), "
        f"{elapsed:.1f} s at one tick per {policy.tick_seconds:g} s (busy {busy:.1f} s): "
        f"{(delivered or 0) / elapsed:,.0f} nudges/s per replica (goal >= 100); "
        f"{cpu * 1000 / max(1, delivered or 0):.1f} ms CPU per nudge; {writes.summary()}",
        flush=True,
    )


class WriteTimes:
    """How long each write transaction held the database (BEGIN to COMMIT of a transaction that wrote): on
    SQLite's one writer, the longest is how long a command may wait behind the sweep."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine.sync_engine
        self.times: list[float] = []
        event.listen(self.engine, "begin", self._begin)
        event.listen(self.engine, "before_cursor_execute", self._statement)
        event.listen(self.engine, "commit", self._end)
        event.listen(self.engine, "rollback", self._end)

    def stop(self) -> None:
        for name, handler in (
            ("begin", self._begin),
            ("before_cursor_execute", self._statement),
            ("commit", self._end),
            ("rollback", self._end),
        ):
            event.remove(self.engine, name, handler)

    def _begin(self, connection: Connection) -> None:
        connection.info["began"], connection.info["wrote"] = time.perf_counter(), False

    def _statement(self, connection: Connection, _cursor: object, statement: str, *_: object) -> None:
        if statement.lstrip()[:6].upper() in ("INSERT", "UPDATE", "DELETE"):
            connection.info["wrote"] = True

    def _end(self, connection: Connection) -> None:
        began = connection.info.pop("began", None)
        if began is not None and connection.info.pop("wrote", False):
            self.times.append(time.perf_counter() - began)

    def summary(self) -> str:
        if not self.times:
            return "no write transactions"
        ordered = sorted(self.times)
        p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
        return (
            f"{len(ordered)} write transactions, longest {ordered[-1] * 1000:.0f} ms "
            f"(p99 {p99 * 1000:.0f} ms, median {statistics.median(ordered) * 1000:.0f} ms)"
        )


async def run(args: argparse.Namespace) -> int:
    workdir = Path(tempfile.mkdtemp(prefix="ownerbot-bench-"))
    if args.at_once:
        url = await fresh_database(args, workdir, "at-once")
        engine = create_engine(url)
        try:
            await at_once(engine, workdir / "inbox-at-once", args.at_once)
        finally:
            await engine.dispose()
            shutil.rmtree(workdir, ignore_errors=True)
        return 0
    try:
        engine = create_engine(await fresh_database(args, workdir, "bench"))
        results = {}
        for size in (args.small, args.large):
            if args.db == "sqlite":  # a fresh file per size (PostgreSQL truncates instead)
                await engine.dispose()
                url = f"sqlite+aiosqlite:///{workdir / f'bench-{size}.sqlite3'}"
                await asyncio.to_thread(migrate.upgrade, url)
                engine = create_engine(url)
            started = time.perf_counter()
            await build(engine, size, args.due)
            built = time.perf_counter() - started
            busy, idle, sent, runs = await measure(engine, workdir / f"inbox-{size}", args.due, args.repeat)
            if sent != args.due:
                print(f"expected {args.due} nudges sent, got {sent}", file=sys.stderr)
                return 1
            results[size] = (busy, idle)
            print(
                f"{engine.dialect.name}: {size:>9,} tickets (built in {built:.1f}s): sweep of {sent} due nudges "
                f"{busy * 1000:.0f} ms (median of {', '.join(f'{r * 1000:.0f}' for r in runs)}), "
                f"idle sweep {idle * 1000:.1f} ms",
                flush=True,
            )
        small, large = results[args.small], results[args.large]
        print(
            f"ratio {args.large:,} / {args.small:,} tickets: due sweep {large[0] / small[0]:.2f}x, "
            f"idle sweep {large[1] / small[1]:.2f}x (tickets grew {args.large / args.small:.0f}x)"
        )
        await engine.dispose()
        return 0
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


async def fresh_database(args: argparse.Namespace, workdir: Path, name: str) -> str:
    if args.db == "postgres":
        admin = create_engine(f"{PG_SERVER}/test", isolation_level="AUTOCOMMIT")
        async with admin.connect() as db:
            await db.execute(text(f"DROP DATABASE IF EXISTS {args.pg_database} WITH (FORCE)"))
            await db.execute(text(f"CREATE DATABASE {args.pg_database}"))
        await admin.dispose()
        url = f"{PG_SERVER}/{args.pg_database}"
    else:
        url = f"sqlite+aiosqlite:///{workdir / f'{name}.sqlite3'}"
    await asyncio.to_thread(migrate.upgrade, url)
    return url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--large", type=int, default=1_000_000)
    parser.add_argument("--due", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--at-once", type=int, default=0, help="instead: nudges/s for this many due at once (10000)")
    parser.add_argument(
        "--pg-database",
        default="ownerbot_bench",
        type=lambda name: (
            name if name.replace("_", "").isalnum() else parser.error("--pg-database: letters, digits, _")
        ),
        help="the PostgreSQL database to (re)create (default ownerbot_bench)",
    )
    sys.exit(asyncio.run(run(parser.parse_args())))


if __name__ == "__main__":
    main()
