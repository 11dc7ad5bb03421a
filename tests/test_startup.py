"""Start-up: `serve` and every command check the database first, and say what is wrong in one line (no traceback)
when it can't be reached or its schema is behind this code's migrations."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command

from db import migrate

from .test_cli import run

UNREACHABLE = "postgresql://ownerbot@127.0.0.1:9/ownerbot"  # port 9 (discard): nothing listens there
COMMANDS = [["serve"], ["chat", "--as", "U1"], ["import", "customers.csv"], ["webhooks"], ["db", "check"]]


def one_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


@pytest.mark.parametrize("args", COMMANDS, ids=[" ".join(a) for a in COMMANDS])
def test_every_command_on_a_database_without_tables_says_run_db_upgrade(tmp_path: Path, args: list[str]) -> None:
    (tmp_path / "customers.csv").write_text("name\nAcme\n")
    result = run(args, tmp_path, stdin="quit\n")
    assert result.returncode == 1
    line = one_line(result.stderr)
    assert "has no tables yet: run `./ownerbot db upgrade`" in line, line


def test_a_database_behind_the_newest_migration_is_named_with_both_revisions(tmp_path: Path) -> None:
    assert run(["db", "upgrade"], tmp_path).returncode == 0
    url = f"sqlite+aiosqlite:///{tmp_path / 'ownerbot.sqlite3'}"
    command.downgrade(migrate.alembic_config(url), "-1")
    result = run(["serve"], tmp_path)
    assert result.returncode == 1
    line = one_line(result.stderr)
    assert f"this ownerbot needs {migrate.head_revision()}: run `./ownerbot db upgrade`" in line, line
    assert run(["db", "upgrade"], tmp_path).returncode == 0
    assert run(["webhooks"], tmp_path).stdout.strip() == "No helpdesk event failed to apply."


@pytest.mark.parametrize("args", [["serve"], ["db", "upgrade"], ["db", "check"], ["chat", "--as", "U1"]])
def test_an_unreachable_database_is_one_line_and_a_failure(tmp_path: Path, args: list[str]) -> None:
    result = run(args, tmp_path, env={"DATABASE_URL": UNREACHABLE})
    assert result.returncode == 1
    line = one_line(result.stderr)
    assert line.startswith("ownerbot: cannot") and "postgresql+asyncpg://ownerbot@127.0.0.1:9/ownerbot" in line, line
