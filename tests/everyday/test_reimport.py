"""`ownerbot import` again: customers matched by external id are updated, counts reported, `--dry-run` writes
nothing, semicolons work, and a file that is not UTF-8 is named with its line."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import select

import app
from db.models import Customer, EventKind, OwnershipEvent

from ..conftest import Database
from .conftest import Console


async def ownerbot_import(
    db: Database, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str
) -> tuple[int, str, str]:
    """`ownerbot import …` as the command line runs it (its own event loop, so in a thread here)."""
    monkeypatch.setenv("DATABASE_URL", db.url)
    code = await asyncio.to_thread(app.main, ["import", *args])
    out, err = capsys.readouterr()
    return code, out, err


async def snapshot(db: Database) -> list[tuple[str, str | None, str, int | None]]:
    async with db.sessions() as session:
        rows = await session.execute(
            select(Customer.name, Customer.external_id, Customer.tier, Customer.owner_id).order_by(Customer.id)
        )
        return [(n, e, t.value, o) for n, e, t, o in rows]


FIRST = "name,tier,external id,owner\nAcme Corp,standard,crm-1,Ana\nGlobex,basic,crm-2,\nInitech,premium,crm-3,Sam\n"
# The same CRM, a week later, exported with semicolons: Acme moved up a tier and to Sam, Globex renamed, Umbrella new.
SECOND = (
    "Name;Tier;External_ID;Owner\nAcme Corp;premium;crm-1;Sam\nGlobex Corporation;basic;crm-2;\n"
    "Initech;premium;crm-3;Sam\nUmbrella;;crm-4;<@U1>\n"
)


async def test_a_second_import_updates_by_external_id_and_counts(
    console: Console,
    db: Database,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    await console("U1", "Ana", [])
    await console("U2", "Sam", [])
    first, second = tmp_path / "first.csv", tmp_path / "second.csv"
    first.write_text(FIRST, encoding="utf-8")
    second.write_text(SECOND, encoding="utf-8")
    code, out, err = await ownerbot_import(db, monkeypatch, capsys, str(first))
    assert code == 0 and "Imported 3 customer(s): 3 created, 0 updated, 0 unchanged." in out, err
    before = await snapshot(db)

    code, out, _ = await ownerbot_import(db, monkeypatch, capsys, str(second), "--dry-run")
    assert code == 0
    assert "line 2: update Acme Corp: tier standard → premium; owner Ana → Sam" in out
    assert "line 3: update Globex: name Globex → Globex Corporation" in out
    assert "line 4: Initech unchanged" in out
    assert "line 5: create Umbrella (standard, owner Ana)" in out
    assert "Dry run: 4 customer(s) would be imported (1 created, 2 updated, 1 unchanged); nothing was written." in out
    assert await snapshot(db) == before  # a dry run writes nothing

    code, out, _ = await ownerbot_import(db, monkeypatch, capsys, str(second))
    assert code == 0 and "Imported 4 customer(s): 1 created, 2 updated, 1 unchanged." in out
    code, out, _ = await ownerbot_import(db, monkeypatch, capsys, str(second))
    assert "Imported 4 customer(s): 0 created, 0 updated, 4 unchanged." in out  # the same file again: nothing to do

    sam = await console("U2", "Sam", ["whoowns crm-1", "history acme corp", "customers"])
    assert "Sam owns Acme Corp." in sam and "Re-assigns: 1" in sam
    assert "ownerbot reassigned it from Ana to Sam: imported (via console)" in sam
    assert "Globex Corporation: basic, unowned" in sam and "Umbrella: standard, Ana" in sam
    async with db.sessions() as session:
        kinds = list((await session.execute(select(OwnershipEvent.kind).order_by(OwnershipEvent.id))).scalars())
    assert kinds == [EventKind.CLAIM, EventKind.CLAIM, EventKind.REASSIGN, EventKind.CLAIM]


async def test_bad_files_are_named_and_nothing_changes(
    console: Console,
    db: Database,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    await console("U1", "Ana", [])
    latin = tmp_path / "latin1.csv"
    latin.write_bytes("name;tier\nAcme;premium\nCafé Müller;basic\n".encode("latin-1"))
    code, _, err = await ownerbot_import(db, monkeypatch, capsys, str(latin))
    assert code == 1
    assert "line 3: byte 0xe9 at column 4 is not UTF-8 text" in err and "CSV UTF-8" in err
    assert "Traceback" not in err and "codec" not in err

    clash = tmp_path / "clash.csv"
    clash.write_text("name,external id\nAcme,crm-1\nGlobex,crm-2\n", encoding="utf-8")
    assert (await ownerbot_import(db, monkeypatch, capsys, str(clash)))[0] == 0
    clash.write_text("name,external id,tier\nGlobex,crm-1,gold\nAcme,crm-9,\n", encoding="utf-8")
    code, _, err = await ownerbot_import(db, monkeypatch, capsys, str(clash))
    assert code == 1
    assert 'line 2: "gold" is not a tier' in err
    assert 'line 3: a customer called "Acme" already exists, with external id "crm-1"' in err
    assert await snapshot(db) == [("Acme", "crm-1", "standard", None), ("Globex", "crm-2", "standard", None)]
