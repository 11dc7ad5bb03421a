"""A neutral `Reply` as JSON and back: what an outbox row carries (`db.outbox`), so a message written in one
process is rendered for its platform by the sender in another, after a restart or on another replica."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from .replies import Button, Prompt, Reply


def reply_to_json(reply: Reply) -> str:
    """The reply without its notices (a notice's own notices are never sent)."""
    data = asdict(reply)
    data.pop("notices", None)
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def reply_from_json(text: str) -> Reply:
    data: dict[str, Any] = json.loads(text)
    prompt = data.get("prompt")
    return Reply(
        text=str(data.get("text", "")),
        fields=[(str(label), str(value)) for label, value in data.get("fields", [])],
        buttons=[Button(**button) for button in data.get("buttons", [])],
        ephemeral=bool(data.get("ephemeral", True)),
        error=bool(data.get("error", False)),
        replace_original=bool(data.get("replace_original", False)),
        prompt=Prompt(**prompt) if isinstance(prompt, dict) else None,
        thread=str(data["thread"]) if data.get("thread") else None,
    )
