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
    for folder in ("bot", "handlers", "ownership", "nudges", "gestures", "db", "tests"):
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
    migrate.upgrade(url)
    head = next(rev for rev in _revisions() if rev.startswith("0006"))

    async def version(sql: str | None = None) -> str:
        engine = create_engine(url)
        try:
            async with engine.begin() as connection:
                if sql:
                    await connection.execute(text(sql))
                return str((await connection.execute(text("SELECT version_num FROM alembic_version"))).scalar_one())
        finally:
            await engine.dispose()

    assert asyncio.run(version()) == head
    # what a database migrated by the first release holds: the head's old id
    assert asyncio.run(version("UPDATE alembic_version SET version_num = '0005_nudges'")) == "0005_nudges"
    migrate.upgrade(url)
    assert asyncio.run(version()) == head
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
