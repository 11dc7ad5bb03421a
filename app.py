"""Composition root and CLI: settings, clock, engine, notifiers, web server, platforms, scheduler ticker.

ownerbot serve                 the aiohttp server (Slack, Teams, webhooks, dashboard, /healthz)
ownerbot chat --as U123        a terminal chat with the same commands, no platform needed
ownerbot db upgrade            migrate the database to the newest schema
ownerbot import customers.csv  onboard or update customers from a CRM export (name, tier, external id, owner)
ownerbot nudges run --at "2026-11-24 09:30"   plan and send the nudges due at that moment (try it locally)
ownerbot holiday import holidays.ics          an iCalendar file's days become support holidays
ownerbot webhooks              helpdesk events that could not be applied

Every command but `db upgrade` first checks that the database answers and is at the newest schema, and otherwise
exits with one line saying what to do (`run ./ownerbot db upgrade`).

`build_runtime` builds what every face shares once; `build_app` hands it to each face's `register`. Slack and
Teams are imported only when their settings turn them on, so `db upgrade` never loads a platform SDK.
"""

from __future__ import annotations

import asyncio
import errno
import gc
import logging
import signal
import sys
import time
from dataclasses import astuple
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import uvloop
from aiohttp import web
from sqlalchemy.engine import make_url

from bot import console
from bot.capacity import CapacitySettings
from bot.command_line import parser
from bot.data_commands import failed_webhooks, import_file, import_holidays, print_import
from bot.platforms import PlatformStatus
from bot.runtime import Runtime
from bot.settings import (
    DashboardSettings,
    MetricsSettings,
    Settings,
    SettingsError,
    SlackSettings,
    TeamsSettings,
    TicketWebhookSettings,
    load_settings,
)
from bot.ticker import Ticker
from bot.web import dashboard, health, observability, webhooks
from bot.web.health import READINESS
from db import migrate
from db.clock import Clock, utc_now
from db.engine import create_engine, create_session_factory
from db.models import Platform
from db.structured_logs import configure_logging
from handlers import Handlers
from handlers.admission import Admission
from handlers.ports import Notifier
from jobs import Jobs
from jobs.custody_returns import CustodyReturns
from jobs.gesture_closer import GestureCloser
from jobs.nudge_sweep import NudgeSweeper, TickResult
from jobs.outbox_sender import OutboxSender
from jobs.retention import Retention
from nudges.settings import NudgeSettings
from ownership.errors import DomainError

log = logging.getLogger("ownerbot")
RUNTIME = web.AppKey("runtime", Runtime)
JOBS = web.AppKey("jobs", Jobs)
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def safe_url(url: str) -> str:
    """The database URL without its password, for logs."""
    return make_url(url).render_as_string(hide_password=True)


def build_runtime(settings: Settings, *, clock: Clock = utc_now) -> Runtime:
    """What every face and job shares, built once: the nudge policy, the clock, the engine, the notifiers (the
    console's now; each platform adds its own as it registers) and the handlers."""
    policy = load_settings(NudgeSettings)
    capacity = load_settings(CapacitySettings)
    engine = create_engine(settings.database_url, **capacity.pool(settings.database_url))
    sessions = create_session_factory(engine)
    notifiers: dict[Platform, Notifier] = {Platform.CONSOLE: console.ConsoleNotifier(settings.console_inbox)}
    sender = OutboxSender(sessions, notifiers, clock, lease=timedelta(seconds=settings.outbox_lease_seconds))
    handlers = Handlers(
        sessions,
        admins=settings.ownerbot_admins,
        clock=clock,
        policy=policy,
        wake_sender=sender.wake,
        admission=Admission(capacity.writers(settings.database_url), capacity.database_queue_seconds),
    )
    return Runtime(
        settings=settings,
        policy=policy,
        clock=clock,
        engine=engine,
        sessions=sessions,
        handlers=handlers,
        notifiers=notifiers,
        outbox=sender,
    )


def build_jobs(runtime: Runtime) -> Jobs:
    return Jobs(
        nudges=NudgeSweeper(
            runtime.sessions,
            runtime.notifiers,
            policy=runtime.policy,
            clock=runtime.clock,
            worker=runtime.outbox.worker,
            sender=runtime.outbox,
            admission=runtime.handlers.admission,
        ),
        gestures=GestureCloser(runtime.sessions, clock=runtime.clock),
        custody=CustodyReturns(runtime.sessions, clock=runtime.clock),
        outbox=runtime.outbox,
        retention=Retention(
            runtime.sessions,
            clock=runtime.clock,
            keep_for=timedelta(days=runtime.settings.retention_days),
            batch=runtime.settings.retention_batch,
        ),
    )


async def build_app(settings: Settings, *, clock: Clock = utc_now) -> tuple[web.Application, list[PlatformStatus]]:
    """The server: every face registered on one runtime. `clock` is the one clock of the whole server (tests
    hand in one that travels in time)."""
    slack_settings = load_settings(SlackSettings)
    teams_settings = load_settings(TeamsSettings)
    webhook_settings = load_settings(TicketWebhookSettings)
    dashboard_settings = load_settings(DashboardSettings)
    metrics_settings = load_settings(MetricsSettings)
    runtime = build_runtime(settings, clock=clock)
    app = web.Application(client_max_size=1024 * 1024, middlewares=[observability.request_ids])
    app[RUNTIME] = runtime
    health.register(app, runtime)
    # Each face registers its routes here and reports whether it is on, and why not.
    statuses = [
        PlatformStatus("console", True, "`./ownerbot chat --as <user-id>` in a terminal"),
        webhooks.register(app, runtime, webhook_settings),
    ]
    # A platform's package (and its SDK) is imported only when its settings turn it on.
    if why_off := slack_settings.off_reason():
        statuses.append(PlatformStatus("slack", False, why_off))
    else:
        from bot import slack

        statuses.append(slack.register(app, runtime, slack_settings))
    if why_off := teams_settings.off_reason():
        statuses.append(PlatformStatus("teams", False, why_off))
    else:
        from bot import teams

        statuses.append(teams.register(app, runtime, teams_settings))
    statuses.append(dashboard.register(app, runtime, dashboard_settings))
    statuses.append(observability.register(app, runtime, metrics_settings))
    app[JOBS] = build_jobs(runtime)

    async def close_engine(_: web.Application) -> None:
        await runtime.outbox.drain()
        await runtime.engine.dispose()

    app.on_cleanup.append(close_engine)
    return app, statuses


class PortInUse(Exception):
    """The address is taken: one clear line, no traceback."""


async def serve(settings: Settings, *, stop_signals: tuple[signal.Signals, ...] = STOP_SIGNALS) -> None:
    """Serve until SIGTERM or SIGINT; then stop accepting, let in-flight requests and the tick in progress finish
    (up to SHUTDOWN_TIMEOUT_SECONDS; claimed nudges not marked by then go back to the queue when their lease
    ends), and close the database. Each step is logged."""
    app, statuses = await build_app(settings)
    timeout = settings.shutdown_timeout_seconds
    runner = web.AppRunner(app, shutdown_timeout=timeout, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, settings.host, settings.port)
    try:
        await site.start()
    except OSError as error:
        await runner.cleanup()
        if error.errno in (errno.EADDRINUSE, errno.EACCES, errno.EADDRNOTAVAIL):
            why = {errno.EADDRINUSE: "is already in use", errno.EACCES: "needs privileges"}.get(
                error.errno or 0, "is not available on this machine"
            )
            raise PortInUse(
                f"{settings.host}:{settings.port} {why}: stop whatever listens there, or set HOST/PORT"
            ) from None
        raise
    stop = asyncio.Event()
    received: list[str] = []
    loop = asyncio.get_running_loop()

    def on_signal(sig: signal.Signals) -> None:
        received.append(sig.name)
        stop.set()

    for sig in stop_signals:
        loop.add_signal_handler(sig, on_signal, sig)
    log.info(
        "ownerbot serving on http://%s:%s (database %s); /healthz checks the database, /readyz says when to send work",
        settings.host,
        settings.port,
        safe_url(settings.database_url),
    )
    for status in statuses:
        log.info("%s", status.line())
    ticker = Ticker(app[JOBS].ticks(), seconds=app[RUNTIME].policy.tick_seconds)
    ticker.start()
    # Everything loaded so far lives as long as the process: out of the garbage collector's sight, so that a full
    # collection under load walks only what requests made (its pauses are what an ack waits on at p99).
    gc.collect()
    gc.freeze()
    app[READINESS].started = True
    try:
        await stop.wait()
    finally:
        started = time.monotonic()
        app[READINESS].stopping = True
        log.info(
            "stopping (%s): finishing in-flight requests and the tick in progress (up to %gs)",
            received[0] if received else "cancelled",
            timeout,
        )
        for sig in stop_signals:
            loop.remove_signal_handler(sig)
        await site.stop()
        log.info("listener closed: no new connections")
        try:
            await asyncio.wait_for(ticker.shutdown(), timeout)
        except TimeoutError:
            log.warning(
                "the tick in progress did not finish in %gs: nudges it claimed go back to the queue when their lease "
                "ends",
                timeout,
            )
        await runner.cleanup()
        log.info("stopped cleanly in %.1fs", time.monotonic() - started)


def fixed_clock(at: datetime | None) -> Clock:
    """The wall clock, or (for trying things out) a clock that stands at `at`."""
    if at is None:
        return utc_now
    return lambda: at


def parse_at(text: str, time_zone: str) -> datetime:
    """`2026-11-24 09:30` (in `time_zone`) or an ISO time with its own offset, as an aware datetime."""
    try:
        moment = datetime.fromisoformat(text.strip())
        zone = ZoneInfo(time_zone)
    except (ValueError, ZoneInfoNotFoundError) as error:
        raise DomainError(f'"{text}" is not a moment: use "YYYY-MM-DD HH:MM" ({error}).') from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=zone)


async def run_nudges(settings: Settings, at: datetime) -> TickResult:
    """Plan and send everything due at `at`, tick after tick until nothing more happens (each tick is the real
    sweep: plan, claim under a lease, hand to the outbox), then the outbox sends through the configured notifiers."""
    runtime = build_runtime(settings, clock=fixed_clock(at))
    jobs = build_jobs(runtime)
    total = TickResult(0, 0, 0, 0, 0, 0, 0)
    try:
        for _ in range(50):
            if jobs.custody is not None:
                await jobs.custody.tick()  # step-outs and covers that are over go back first
            result = await jobs.nudges.tick()
            total = TickResult(*(a + b for a, b in zip(astuple(total), astuple(result), strict=True)))
            await runtime.outbox.send_due()
            if not (result.checked or result.planned or result.sent):
                break
        await runtime.outbox.drain()
    finally:
        await runtime.engine.dispose()
    return total


async def chat(settings: Settings, user_id: str, name: str, at: datetime | None = None) -> None:
    runtime = build_runtime(settings, clock=fixed_clock(at))
    try:
        inbox = console.ConsoleNotifier(settings.console_inbox)  # reads this user's messages from the same folder
        await console.ConsoleChat(
            runtime.handlers, user_id=user_id, name=name, inbox=inbox, settle=runtime.outbox.drain
        ).run(input)
        await runtime.outbox.drain()
        await runtime.outbox.send_due()  # what this chat owes others lands in their inboxes before it ends
    finally:
        await runtime.engine.dispose()


def fail(line: str, code: int = 1) -> int:
    print(f"ownerbot: {line}", file=sys.stderr)
    return code


def migrate_command(settings: Settings, action: str) -> int:
    try:
        if action == "upgrade":
            migrate.upgrade(settings.database_url)
            print(f"Database at {safe_url(settings.database_url)} is at the newest schema.")
        else:
            if problem := asyncio.run(migrate.schema_problem(settings.database_url)):
                return fail(problem)
            migrate.check(settings.database_url)
            print("Models and migrations agree.")
    except Exception as error:  # unreachable, refused, or models and migrations disagree: one line
        return fail(migrate.unreachable(settings.database_url, error))
    return 0


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        settings: Settings = load_settings()
    except SettingsError as error:
        return fail(str(error), 2)
    # In a terminal chat the log shares the screen with the conversation: warnings only, unless LOG_LEVEL says.
    quiet = args.command == "chat" and "log_level" not in settings.model_fields_set
    configure_logging("WARNING" if quiet else settings.log_level, settings.log_format)
    if args.command == "db":
        return migrate_command(settings, args.action)
    # Every other command needs the database as this code knows it: check first, say so in one line.
    if problem := asyncio.run(migrate.schema_problem(settings.database_url)):
        return fail(problem)
    if args.command == "serve":
        try:
            with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:  # the server's loop: uvloop's
                runner.run(serve(settings))
        except KeyboardInterrupt:
            pass
        except PortInUse as error:
            print(f"ownerbot: {error}", file=sys.stderr)
            return 1
        except SettingsError as error:  # a platform's settings are wrong: one line, no traceback
            return fail(str(error), 2)
        return 0
    if args.command == "chat":
        try:
            at = parse_at(args.at, args.tz) if args.at else None
            asyncio.run(chat(settings, args.user_id, args.name or args.user_id, at))
        except SettingsError as error:  # the nudge policy's settings are wrong: one line, no traceback
            return fail(str(error), 2)
        except DomainError as error:
            return fail(error.message, 2)
        return 0
    if args.command == "webhooks":
        lines = asyncio.run(failed_webhooks(settings))
        print("\n".join(lines) if lines else "No helpdesk event failed to apply.")
        return 0
    if args.command == "holiday":
        try:
            added, days = asyncio.run(import_holidays(settings, args.ics.read_bytes(), args.workspace, args.team))
        except (DomainError, ValueError, OSError) as error:
            print(getattr(error, "message", str(error)), file=sys.stderr)
            return 1
        print(f"Imported {added} holiday(s); {days - added} were already there.")
        return 0
    if args.command == "nudges":
        try:
            at = parse_at(args.at, args.tz)
            result = asyncio.run(run_nudges(settings, at))
        except SettingsError as error:
            print(f"ownerbot: {error}", file=sys.stderr)
            return 2
        except DomainError as error:
            print(f"ownerbot: {error.message}", file=sys.stderr)
            return 2
        print(
            f"Nudges at {at:%Y-%m-%d %H:%M %Z}: {result.sent} sent, {result.planned} planned, "
            f"{result.held} held for later, {result.cancelled} cancelled, {result.retried} to retry, "
            f"{result.failed} failed."
        )
        return 0
    if args.command == "import":
        try:
            imported = asyncio.run(import_file(settings, args.csv, args.workspace, dry_run=args.dry_run))
        except (DomainError, ValueError, OSError) as error:
            print(getattr(error, "message", str(error)), file=sys.stderr)
            return 1
        print_import(imported, dry_run=args.dry_run)
        return 0
    return 2


if __name__ == "__main__":
    sys.exit(main())
