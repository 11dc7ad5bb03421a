"""The house as the design card names it: the layout, an app-only install, migrations in order, pinned deps."""

from __future__ import annotations

import ast
import asyncio
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

from sqlalchemy import text

from db import migrate
from db.engine import create_engine

ROOT = Path(__file__).resolve().parents[1]
VERSIONS = ROOT / "db" / "migrations" / "versions"


def test_the_root_shows_the_cards_folders_and_app_py() -> None:
    for folder in ("bot", "jobs", "handlers", "reports", "ownership", "nudges", "gestures", "db", "tests"):
        assert (ROOT / folder / "__init__.py").is_file(), folder
    for name in ("app.py", "pyproject.toml", "README.md", "alembic.ini", "requirements.lock", "ownerbot"):
        assert (ROOT / name).is_file(), name
    assert not (ROOT / "ownerbot").is_dir()


def test_installing_installs_dependencies_not_our_packages(tmp_path: Path) -> None:
    """From outside the clone, the virtualenv's Python finds the dependencies but none of ownerbot's packages."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    probe = (
        "import importlib.util as u; print([n for n in ('db','bot','handlers','app','sqlalchemy') if u.find_spec(n)])"
    )
    found = subprocess.run(
        [sys.executable, "-c", probe], cwd=tmp_path, env=env, capture_output=True, text=True, check=True
    )
    assert found.stdout.strip() == "['sqlalchemy']"
    imported = subprocess.run(
        [sys.executable, "-c", "import db"], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert imported.returncode != 0 and "No module named 'db'" in imported.stderr


PLATFORM_MODULES = ("slack_bolt", "slack_sdk", "botbuilder", "botframework", "bot.slack", "bot.teams")
LOADED_PLATFORMS = f"sorted(m for m in {PLATFORM_MODULES!r} if m in sys.modules)"


def _python(code: str, cwd: Path, **env: str) -> str:
    """Run `code` in a fresh interpreter that finds the clone's packages; its stdout."""
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLACK_", "MICROSOFT_", "TEAMS_", "DATABASE_URL", "HOST"))
    }
    clean.update(env, PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-c", code], cwd=cwd, env=clean, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_db_upgrade_loads_no_chat_platform(tmp_path: Path) -> None:
    """`ownerbot db upgrade` imports app, and neither Slack nor Teams (nor their SDKs) comes with it."""
    out = _python(
        f"import sys, app; code = app.main(['db', 'upgrade']); print(code, {LOADED_PLATFORMS})",
        tmp_path,
        DATABASE_URL=f"sqlite:///{tmp_path / 'ownerbot.sqlite3'}",
    )
    assert out.splitlines()[-1] == "0 []"


def test_a_platform_is_loaded_only_when_it_is_on(tmp_path: Path) -> None:
    """The server with Slack off (no settings) and Teams off (no app id on a public address) loads neither."""
    build = (
        "import asyncio, sys, app\n"
        "from bot.settings import Settings\n"
        "async def main():\n"
        f"    server, statuses = await app.build_app(Settings(database_url={f'sqlite:///{tmp_path}/o.sqlite3'!r}))\n"
        "    print(sorted(s.line().split(' (')[0] for s in statuses))\n"
        "    await server.cleanup()\n"
        "asyncio.run(main())\n"
        f"print({LOADED_PLATFORMS})\n"
    )
    statuses, loaded = _python(build, tmp_path, HOST="0.0.0.0").splitlines()
    assert "slack: off" in statuses and "teams: off" in statuses
    assert loaded == "[]"
    statuses, loaded = _python(build, tmp_path, HOST="127.0.0.1").splitlines()  # no app id: off, even on loopback
    assert "teams: off" in statuses and loaded == "[]"
    statuses, loaded = _python(build, tmp_path, HOST="127.0.0.1", TEAMS_EMULATOR="true").splitlines()  # asked for
    assert "teams: on" in statuses and "slack: off" in statuses
    assert "botbuilder" in loaded and "bot.teams" in loaded and "slack_bolt" not in loaded


def _revisions() -> dict[str, tuple[str | None, str]]:
    """revision id -> (down revision, file name), read from each migration's source."""
    found: dict[str, tuple[str | None, str]] = {}
    for path in VERSIONS.glob("*.py"):
        values: dict[str, str | None] = {}
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            named = isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None
            if named and node.target.id in ("revision", "down_revision"):  # type: ignore[union-attr]
                values[node.target.id] = ast.literal_eval(node.value)  # type: ignore[union-attr,arg-type]
        revision = values["revision"]
        assert revision is not None
        found[revision] = (values.get("down_revision"), path.name)
    return found


def test_migration_file_names_follow_their_order() -> None:
    revisions = _revisions()
    by_parent = {down: (rev, name) for rev, (down, name) in revisions.items()}
    assert len(by_parent) == len(revisions), "the migrations branch"
    chain, parent = [], None
    while parent in by_parent:
        rev, name = by_parent[parent]
        chain.append(name)
        parent = rev
    assert len(chain) == len(revisions)
    numbers = [int(re.match(r"(\d+)_", name).group(1)) for name in chain]  # type: ignore[union-attr]
    assert numbers == list(range(1, len(chain) + 1)), chain
    for rev, (_, name) in revisions.items():
        assert rev.split("_")[0] == name.split("_")[0], f"{name} holds revision {rev}"


def test_a_database_stamped_before_the_renumbering_upgrades_cleanly(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'old.sqlite3'}"
    renumbered = next(rev for rev in _revisions() if rev.startswith("0006"))  # the first release's head
    migrate.upgrade(url, renumbered)

    async def version(sql: str | None = None) -> str:
        engine = create_engine(url)
        try:
            async with engine.begin() as connection:
                if sql:
                    await connection.execute(text(sql))
                return str((await connection.execute(text("SELECT version_num FROM alembic_version"))).scalar_one())
        finally:
            await engine.dispose()

    assert asyncio.run(version()) == renumbered
    # what a database migrated by the first release holds: the head's old id
    assert asyncio.run(version("UPDATE alembic_version SET version_num = '0005_nudges'")) == "0005_nudges"
    migrate.upgrade(url)
    revisions = _revisions()
    head = next(rev for rev in revisions if rev not in {down for down, _ in revisions.values()})
    assert asyncio.run(version()) == head  # and on to every migration after it
    migrate.check(url)


def test_every_direct_pin_is_in_the_lock_at_the_same_version() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    direct = list(project["dependencies"]) + [d for extra in project["optional-dependencies"].values() for d in extra]
    lock = {}
    for line in (ROOT / "requirements.lock").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            lock[re.sub(r"[-_.]+", "-", name).lower()] = version.strip()
    for requirement in direct:
        name, _, version = requirement.partition("==")
        name = re.sub(r"\[.*\]", "", name)
        assert version, f"{requirement} is not pinned"
        assert lock.get(re.sub(r"[-_.]+", "-", name).lower()) == version, f"{requirement} differs in requirements.lock"
