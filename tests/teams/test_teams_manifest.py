"""The Teams app package: a manifest whose commands exist, the two icons Teams requires, and the zip."""

from __future__ import annotations

import json
import struct
import zipfile
from pathlib import Path

import jsonschema
import pytest

from bot.teams.package import MANIFEST_DIR, PackageError, build_package, main, render_manifest
from handlers.registry import COMMANDS

APP_ID = "1b2c3d4e-0000-4000-8000-000000000001"


def png_size(data: bytes) -> tuple[int, int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height, _, color_type = struct.unpack(">IIBB", data[16:26])
    return width, height, color_type


def test_package_has_the_manifest_with_the_app_id_and_both_icons(tmp_path: Path) -> None:
    out = build_package(APP_ID, "https://bot.example.com/", tmp_path / "ownerbot-teams.zip")
    with zipfile.ZipFile(out) as archive:
        assert sorted(archive.namelist()) == ["color.png", "manifest.json", "outline.png"]
        manifest = json.loads(archive.read("manifest.json"))
        assert png_size(archive.read("color.png"))[:2] == (192, 192)
        assert png_size(archive.read("outline.png")) == (32, 32, 6)  # RGBA: white on transparent
    assert manifest["id"] == APP_ID and manifest["bots"][0]["botId"] == APP_ID
    assert manifest["validDomains"] == ["bot.example.com"]
    assert manifest["developer"]["websiteUrl"] == "https://bot.example.com"
    bot = manifest["bots"][0]
    assert set(bot["scopes"]) == {"personal", "team"}
    commands = [c["title"] for c in bot["commandLists"][0]["commands"]]
    assert len(commands) <= 10  # Teams shows at most ten per scope
    assert set(commands) - {"help"} <= set(COMMANDS)  # every advertised command really exists
    assert {"claim", "handoff", "release", "whoowns", "mine"} <= set(commands)


def test_transparent_outline_icon() -> None:
    data = (MANIFEST_DIR / "outline.png").read_bytes()
    import zlib

    # decompress the single IDAT chunk and check the corners are fully transparent
    idat_start = data.index(b"IDAT") + 4
    length = struct.unpack(">I", data[idat_start - 8 : idat_start - 4])[0]
    rows = zlib.decompress(data[idat_start : idat_start + length])
    first_row = rows[1 : 1 + 32 * 4]
    assert first_row[3] == 0 and first_row[-1] == 0


@pytest.mark.parametrize(
    ("app_id", "url", "says"),
    [
        ("not-a-guid", "https://bot.example.com", "GUID"),
        (APP_ID, "http://bot.example.com", "https://"),
    ],
)
def test_bad_package_input_is_refused_clearly(app_id: str, url: str, says: str, tmp_path: Path) -> None:
    with pytest.raises(PackageError) as error:
        build_package(app_id, url, tmp_path / "x.zip")
    assert says in str(error.value)
    assert not (tmp_path / "x.zip").exists()


def test_cli_needs_an_app_id(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MICROSOFT_APP_ID", raising=False)
    assert main(["--out", str(tmp_path / "x.zip")]) == 2
    assert "set MICROSOFT_APP_ID" in capsys.readouterr().err


SCHEMA = Path(__file__).parent / "schemas" / "teams-manifest-v1.17.schema.json"  # see schemas/README.md


def schema_errors(manifest: dict) -> list[str]:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    validator = jsonschema.Draft4Validator(schema, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER)
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(manifest)]


def test_the_package_manifest_is_valid_against_the_official_schema_of_its_version(tmp_path: Path) -> None:
    out = build_package(APP_ID, "https://bot.example.com/", tmp_path / "ownerbot-teams.zip")
    with zipfile.ZipFile(out) as archive:
        manifest = json.loads(archive.read("manifest.json"))
    assert manifest["manifestVersion"] == "1.17" and "/v1.17/" in manifest["$schema"]  # the schema we vendor
    assert schema_errors(manifest) == []
    assert len(manifest["description"]["short"]) <= 80


@pytest.mark.parametrize(
    ("path", "value", "says"),
    [
        (("description", "short"), "x" * 81, "is too long"),
        (("name", "short"), "ownerbot, the bot that owns every customer", "is too long"),
        (("id",), "not-a-guid", "does not match"),
        (("bots", 0, "scopes"), ["everywhere"], "is not one of"),
    ],
)
def test_the_vendored_schema_really_refuses_what_teams_refuses(path: tuple, value: object, says: str) -> None:
    manifest = json.loads(json.dumps(render_manifest(APP_ID, "https://bot.example.com")))
    target = manifest
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    errors = schema_errors(manifest)
    assert errors and says in errors[0], errors
