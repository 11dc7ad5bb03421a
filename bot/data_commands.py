"""The command line's data commands, run without the server: import customers from a CRM export, import holidays
from an iCalendar file, list the helpdesk events that could not be applied (`./ownerbot import|holiday|webhooks`)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bot.settings import Settings
from db.clock import utc_now
from db.engine import create_engine, create_session_factory
from db.models import Platform
from nudges import calendars
from nudges.planner import recheck_open_tickets
from ownership.customer_csv import read_customer_rows
from ownership.helpdesk import failed_deliveries
from ownership.onboarding import ImportResult, import_customers
from ownership.people import find_team, workspace_on_sight


async def import_file(settings: Settings, path: Path, workspace: str, *, dry_run: bool = False) -> ImportResult:
    """Import (or with `dry_run`, only plan) a customer CSV in one transaction."""
    platform_name, _, external_id = workspace.partition(":")
    rows = read_customer_rows(await asyncio.to_thread(path.read_bytes))
    engine = create_engine(settings.database_url)
    try:
        sessions = create_session_factory(engine)
        now = utc_now()
        async with sessions() as session, session.begin():
            ws = await workspace_on_sight(session, platform=Platform(platform_name), external_id=external_id, now=now)
            result = await import_customers(
                session, workspace=ws, rows=rows, platform=Platform.CONSOLE, now=now, dry_run=dry_run
            )
            if dry_run:
                await session.rollback()  # not even the workspace: a dry run writes nothing
            return result
    finally:
        await engine.dispose()


def print_import(result: ImportResult, *, dry_run: bool) -> None:
    counts = f"{result.created} created, {result.updated} updated, {result.unchanged} unchanged"
    for row in result.rows:
        if dry_run or row.action == "update":
            print(row.describe())
    if dry_run:
        print(f"Dry run: {len(result.rows)} customer(s) would be imported ({counts}); nothing was written.")
    else:
        print(f"Imported {len(result.rows)} customer(s): {counts}.")


async def import_holidays(settings: Settings, ics: bytes, workspace: str, team: str | None) -> tuple[int, int]:
    """`ownerbot holiday import file.ics`: the days of every event become holidays (the workspace's, or a team's)."""
    platform_name, _, external_id = workspace.partition(":")
    days = calendars.read_ics(ics)
    engine = create_engine(settings.database_url)
    try:
        sessions = create_session_factory(engine)
        now = utc_now()
        async with sessions() as session, session.begin():
            ws = await workspace_on_sight(session, platform=Platform(platform_name), external_id=external_id, now=now)
            found = await find_team(session, workspace_id=ws.id, name=team) if team else None
            added = await calendars.add_holidays(
                session, actor=None, team=found, days=days, now=now, workspace_id=ws.id
            )
            await recheck_open_tickets(session, workspace_id=ws.id)
        return len(added), len(days)
    finally:
        await engine.dispose()


async def failed_webhooks(settings: Settings) -> list[str]:
    engine = create_engine(settings.database_url)
    try:
        async with create_session_factory(engine)() as session:
            rows = await failed_deliveries(session)
    finally:
        await engine.dispose()
    return [f"#{r.id} {r.received_at:%Y-%m-%d %H:%M} UTC {r.source} {r.ref} ({r.error or 'error'})" for r in rows]
