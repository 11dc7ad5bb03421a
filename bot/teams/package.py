"""`make teams-package`: the Teams app package (manifest.json + two icons, zipped) for sideloading.

MICROSOFT_APP_ID=<your bot's app id> OWNERBOT_URL=https://ownerbot.example.com make teams-package
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import uuid
import zipfile
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

MANIFEST_DIR = Path(__file__).parent / "manifest"
ICONS = ("color.png", "outline.png")


class PackageError(Exception):
    pass


def render_manifest(app_id: str, url: str) -> dict[str, Any]:
    try:
        app_id = str(uuid.UUID(app_id.strip()))
    except ValueError:
        raise PackageError("MICROSOFT_APP_ID must be the bot's app registration id (a GUID).") from None
    parsed = urlparse(url.strip())
    if parsed.scheme != "https" or not parsed.hostname:
        raise PackageError("OWNERBOT_URL must be your deployment's public https:// URL.")
    text = (MANIFEST_DIR / "manifest.json").read_text(encoding="utf-8")
    for name, value in (
        ("MICROSOFT_APP_ID", app_id),
        ("OWNERBOT_URL", url.strip().rstrip("/")),
        ("OWNERBOT_DOMAIN", parsed.hostname),
    ):
        text = text.replace("${" + name + "}", value)
    if "${" in text:
        raise PackageError("manifest.json has a placeholder this script does not fill.")
    manifest: dict[str, Any] = json.loads(text)
    return manifest


def build_package(app_id: str, url: str, out: Path) -> Path:
    manifest = render_manifest(app_id, url)
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("manifest.json", json.dumps(manifest, indent=2))
        for icon in ICONS:
            archive.write(MANIFEST_DIR / icon, icon)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Zip the ownerbot Teams app package for sideloading.")
    parser.add_argument("--app-id", default=os.environ.get("MICROSOFT_APP_ID", ""))
    parser.add_argument("--url", default=os.environ.get("OWNERBOT_URL", ""))
    parser.add_argument("--out", type=Path, default=Path("dist/ownerbot-teams.zip"))
    args = parser.parse_args(argv)
    if not args.app_id:
        print("teams-package: set MICROSOFT_APP_ID (your bot's app registration id).", file=sys.stderr)
        return 2
    try:
        path = build_package(args.app_id, args.url or "https://localhost", args.out)
    except PackageError as error:
        print(f"teams-package: {error}", file=sys.stderr)
        return 2
    print(f"Wrote {path}: upload it in Teams (Apps > Manage your apps > Upload an app).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
