"""Composition root and CLI: settings, clock, engine, notifiers, web server, platforms, scheduler ticker.

ownerbot serve                 the aiohttp server (Slack, Teams, webhooks, dashboard, /healthz)
ownerbot chat --as U123        a terminal chat with the same commands, no platform needed
ownerbot db upgrade            migrate the database to the newest schema
ownerbot import customers.csv  onboard customers from a CRM export (name, tier, external id, owner)

`build_runtime` builds what every face shares once; `build_app` hands it to each face's `register`. Slack and
Teams are imported only when their settings turn them on, so `db upgrade` never loads a platform SDK.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import errno
import logging
import signal
import sys
import time
from pathlib import Path

from aiohttp import web
from sqlalchemy.engine import make_url

from bot import console
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
from handlers.ports import Notifier
from jobs import Jobs
from jobs.gesture_closer import GestureCloser
from jobs.gesture_sender import GestureSender
from jobs.nudge_sweep import NudgeSweeper
from nudges.settings import NudgeSettings
from ownership.errors import DomainError
from ownership.onboarding import CustomerRow, import_customers
from ownership.people import workspace_on_sight

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
    engine = create_engine(settings.database_url)
    sessions = create_session_factory(engine)
    notifiers: dict[Platform, Notifier] = {Platform.CONSOLE: console.ConsoleNotifier(settings.console_inbox)}
    handlers = Handlers(
        sessions,
        admins=settings.ownerbot_admins,
        clock=clock,
        policy=policy,
        gesture_messages=GestureSender(sessions, notifiers),
    )
    return Runtime(
        settings=settings,
        policy=policy,
        clock=clock,
        engine=engine,
        sessions=sessions,
        handlers=handlers,
        notifiers=notifiers,
    )


def build_jobs(runtime: Runtime) -> Jobs:
    return Jobs(
        nudges=NudgeSweeper(runtime.sessions, runtime.notifiers, policy=runtime.policy, clock=runtime.clock),
        gestures=GestureCloser(runtime.sessions, runtime.notifiers, clock=runtime.clock),
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


async def chat(settings: Settings, user_id: str, name: str) -> None:
    runtime = build_runtime(settings)
    try:
        inbox = console.ConsoleNotifier(settings.console_inbox)  # reads this user's messages from the same folder
        await console.ConsoleChat(runtime.handlers, user_id=user_id, name=name, inbox=inbox).run(input)
    finally:
        await runtime.engine.dispose()


def read_customer_csv(path: Path) -> list[CustomerRow]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        columns = {c.strip().lower().replace("_", " "): c for c in reader.fieldnames or []}
        if "name" not in columns:
            raise DomainError(
                "The CSV needs a header row with at least a `name` column (and tier, external id, owner)."
            )

        def cell(record: dict[str, str], column: str) -> str:
            original = columns.get(column)
            return (record.get(original) or "") if original else ""

        return [
            CustomerRow(
                line=reader.line_num,
                name=cell(r, "name"),
                tier=cell(r, "tier"),
                external_id=cell(r, "external id"),
                owner=cell(r, "owner"),
            )
            for r in reader
        ]


async def import_file(settings: Settings, path: Path, workspace: str) -> int:
    platform_name, _, external_id = workspace.partition(":")
    engine = create_engine(settings.database_url)
    try:
        rows = read_customer_csv(path)
        sessions = create_session_factory(engine)
        now = utc_now()
        async with sessions() as session, session.begin():
            ws = await workspace_on_sight(session, platform=Platform(platform_name), external_id=external_id, now=now)
            return await import_customers(session, workspace=ws, rows=rows, platform=Platform.CONSOLE, now=now)
    finally:
        await engine.dispose()


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="ownerbot", description="Every support customer is someone's.")
    commands = top.add_subparsers(dest="command", required=True)
    commands.add_parser("serve", help="run the server")
    chat_cmd = commands.add_parser("chat", help="a terminal chat with the same commands")
    chat_cmd.add_argument("--as", dest="user_id", required=True, help="your user id, e.g. U1")
    chat_cmd.add_argument("--name", help="your display name (default: the user id)")
    db_cmd = commands.add_parser("db", help="database schema")
    db_cmd.add_argument("action", choices=["upgrade", "check"])
    import_cmd = commands.add_parser("import", help="import customers from a CSV file")
    import_cmd.add_argument("csv", type=Path)
    import_cmd.add_argument(
        "--workspace",
        default=f"console:{console.CONSOLE_WORKSPACE}",
        help="platform:workspace-id to import into (default console:local)",
    )
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        settings: Settings = load_settings()
    except SettingsError as error:
        print(f"ownerbot: {error}", file=sys.stderr)
        return 2
    # In a terminal chat the log shares the screen with the conversation: warnings only, unless LOG_LEVEL says.
    quiet = args.command == "chat" and "log_level" not in settings.model_fields_set
    configure_logging("WARNING" if quiet else settings.log_level, settings.log_format)
    if args.command == "db":
        if args.action == "upgrade":
            migrate.upgrade(settings.database_url)
            print(f"Database at {safe_url(settings.database_url)} is at the newest schema.")
        else:
            migrate.check(settings.database_url)
            print("Models and migrations agree.")
        return 0
    if args.command == "serve":
        try:
            asyncio.run(serve(settings))
        except KeyboardInterrupt:
            pass
        except PortInUse as error:
            print(f"ownerbot: {error}", file=sys.stderr)
            return 1
        except SettingsError as error:  # a platform's settings are wrong: one line, no traceback
            print(f"ownerbot: {error}", file=sys.stderr)
            return 2
        return 0
    if args.command == "chat":
        try:
            asyncio.run(chat(settings, args.user_id, args.name or args.user_id))
        except SettingsError as error:  # the nudge policy's settings are wrong: one line, no traceback
            print(f"ownerbot: {error}", file=sys.stderr)
            return 2
        return 0
    if args.command == "import":
        try:
            count = asyncio.run(import_file(settings, args.csv, args.workspace))
        except (DomainError, ValueError, OSError) as error:
            print(getattr(error, "message", str(error)), file=sys.stderr)
            return 1
        print(f"Imported {count} customer(s).")
        return 0
    return 2


if __name__ == "__main__":
    sys.exit(main())
