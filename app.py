"""Composition root and CLI: settings, engine, web server, platforms, scheduler ticker.

ownerbot serve                 the aiohttp server (Slack, Teams, webhooks, dashboard, /healthz)
ownerbot chat --as U123        a terminal chat with the same commands, no platform needed
ownerbot db upgrade            migrate the database to the newest schema
ownerbot import customers.csv  onboard customers from a CRM export (name, tier, external id, owner)
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import logging
import sys
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiohttp import web
from sqlalchemy.engine import make_url

from bot import console, teams
from bot.platforms import PlatformStatus
from bot.settings import Settings, SettingsError, load_settings
from bot.slack.app import SLACK_NOTIFIER
from bot.slack.app import mount as mount_slack
from bot.slack.settings import SlackSettings
from bot.ticker import Ticker
from bot.web import dashboard, health, webhooks
from db import migrate
from db.engine import create_engine, create_session_factory
from db.models import Platform
from handlers import Handlers
from handlers import nudges as nudge_handlers
from handlers.gestures import close_due_proposals
from handlers.ports import Notifier
from nudges.settings import NudgeSettings
from ownership.errors import DomainError
from ownership.onboarding import CustomerRow, import_customers
from ownership.people import workspace_on_sight

log = logging.getLogger("ownerbot")
NOTIFIERS = web.AppKey("notifiers", dict)
# async functions the ticker calls every NUDGE_TICK_SECONDS
TICKS = web.AppKey[Sequence[Callable[[], Awaitable[Any]]]]("ticks")
NUDGE_SETTINGS = web.AppKey("nudge_settings", NudgeSettings)


def safe_url(url: str) -> str:
    """The database URL without its password, for logs."""
    return make_url(url).render_as_string(hide_password=True)


async def build_app(settings: Settings) -> tuple[web.Application, list[PlatformStatus]]:
    engine = create_engine(settings.database_url)
    sessions = create_session_factory(engine)
    # Filled as each face mounts: how the bot speaks first (announcements, nudges) on each platform.
    notifiers: dict[Platform, Notifier] = {Platform.CONSOLE: console.ConsoleNotifier(settings.console_inbox)}
    handlers = Handlers(sessions, admins=settings.ownerbot_admins, notifiers=notifiers)
    app = web.Application(client_max_size=1024 * 1024)
    health.register(app, engine=engine)
    statuses = [
        PlatformStatus("console", True, "`ownerbot chat --as <user-id>` in a terminal"),
    ]
    # Each face mounts its routes here and reports whether it is on, and why not.
    # (Slack, Teams, helpdesk webhooks and the dashboard add one line each.)
    statuses.append(webhooks.register(app, sessions=sessions))
    statuses.append(mount_slack(app, handlers=handlers, sessions=sessions, settings=load_settings(SlackSettings)))
    statuses.append(teams.register(app, handlers=handlers, sessions=sessions))
    statuses.append(dashboard.register(app, sessions=sessions))
    if SLACK_NOTIFIER in app:
        notifiers[Platform.SLACK] = app[SLACK_NOTIFIER]
    if teams.NOTIFIER_KEY in app:
        notifiers[Platform.TEAMS] = app[teams.NOTIFIER_KEY]
    app[NOTIFIERS] = notifiers
    nudge_settings = load_settings(NudgeSettings)
    nudge_handlers.use_policy(nudge_settings)
    sweeper = nudge_handlers.NudgeSweeper(sessions, notifiers, policy=nudge_settings)
    app[NUDGE_SETTINGS] = nudge_settings

    async def close_gestures() -> None:
        await close_due_proposals(sessions=sessions, notifiers=notifiers, now=handlers.clock())

    app[TICKS] = [sweeper.tick, close_gestures]

    async def close_engine(_: web.Application) -> None:
        await engine.dispose()

    app.on_cleanup.append(close_engine)
    return app, statuses


async def serve(settings: Settings) -> None:
    app, statuses = await build_app(settings)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, settings.host, settings.port)
    await site.start()
    log.info(
        "ownerbot serving on http://%s:%s (database %s); /healthz checks the database",
        settings.host,
        settings.port,
        safe_url(settings.database_url),
    )
    for status in statuses:
        log.info("%s", status.line())
    ticker = Ticker(app[TICKS], seconds=app[NUDGE_SETTINGS].tick_seconds)
    ticker.start()
    try:
        await asyncio.Event().wait()
    finally:
        await ticker.shutdown()
        await runner.cleanup()


async def chat(settings: Settings, user_id: str, name: str) -> None:
    engine = create_engine(settings.database_url)
    try:
        inbox = console.ConsoleNotifier(settings.console_inbox)
        handlers = Handlers(
            create_session_factory(engine), admins=settings.ownerbot_admins, notifiers={Platform.CONSOLE: inbox}
        )
        await console.ConsoleChat(handlers, user_id=user_id, name=name, inbox=inbox).run(input)
    finally:
        await engine.dispose()


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
        now = datetime.now(UTC)
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
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    logging.getLogger("apscheduler.executors.default").setLevel(logging.WARNING)  # not a line per tick
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
        except SettingsError as error:  # a platform's settings are wrong: one line, no traceback
            print(f"ownerbot: {error}", file=sys.stderr)
            return 2
        return 0
    if args.command == "chat":
        asyncio.run(chat(settings, args.user_id, args.name or args.user_id))
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
