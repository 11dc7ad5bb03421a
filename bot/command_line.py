"""`./ownerbot --help`: the command line's words (what each command does lives in app.py and bot/data_commands.py)."""

from __future__ import annotations

import argparse
from pathlib import Path

from bot import console


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="ownerbot", description="Every support customer is someone's.")
    commands = top.add_subparsers(dest="command", required=True)
    commands.add_parser("serve", help="run the server")
    chat_cmd = commands.add_parser("chat", help="a terminal chat with the same commands")
    chat_cmd.add_argument("--as", dest="user_id", required=True, help="your user id, e.g. U1")
    chat_cmd.add_argument("--name", help="your display name (default: the user id)")
    chat_cmd.add_argument("--at", help='pretend it is this moment, e.g. "2026-11-24 08:00" (to try nudges)')
    chat_cmd.add_argument("--tz", default="UTC", help="the time zone of --at (default UTC)")
    holiday_cmd = commands.add_parser("holiday", help="import holidays from an iCalendar (.ics) file")
    holiday_cmd.add_argument("action", choices=["import"])
    holiday_cmd.add_argument("ics", type=Path)
    holiday_cmd.add_argument("--team", help="a team's holidays (default: the whole workspace's)")
    holiday_cmd.add_argument(
        "--workspace",
        default=f"console:{console.CONSOLE_WORKSPACE}",
        help="platform:workspace-id to import into (default console:local)",
    )
    nudges_cmd = commands.add_parser("nudges", help="nudges: run the sweep once at a given moment")
    nudges_cmd.add_argument("action", choices=["run"])
    nudges_cmd.add_argument("--at", required=True, help='the moment, e.g. "2026-11-24 09:30"')
    nudges_cmd.add_argument("--tz", default="UTC", help="the time zone of --at (default UTC)")
    db_cmd = commands.add_parser("db", help="database schema")
    db_cmd.add_argument("action", choices=["upgrade", "check"])
    import_cmd = commands.add_parser("import", help="import customers from a CSV file")
    import_cmd.add_argument("csv", type=Path)
    import_cmd.add_argument("--dry-run", action="store_true", help="show what would change and write nothing")
    import_cmd.add_argument(
        "--workspace",
        default=f"console:{console.CONSOLE_WORKSPACE}",
        help="platform:workspace-id to import into (default console:local)",
    )
    commands.add_parser("webhooks", help="helpdesk events that could not be applied (kept as failed)")
    return top
