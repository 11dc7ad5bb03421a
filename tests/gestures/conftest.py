"""Gesture fixtures: the console platform's real Notifier (an inbox folder) wired into Handlers through the
gesture sender (as the composition root wires it), and a team.

The team "support" votes in channel C-WOW: agents U1, U2, U3 and its lead U_LEAD. Acme is owned by U1.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.console import ConsoleNotifier
from db.engine import create_engine, create_session_factory
from db.models import Platform
from handlers import Handlers
from handlers.ports import Notifier
from jobs.gesture_closer import CloseReport, close_due_proposals
from jobs.gesture_sender import GestureSender
from nudges.settings import NudgeSettings

from ..conftest import Chat, Clock, Database

CHANNEL = "C-WOW"
CHANNEL_BOX = f"channel-{CHANNEL}"


@pytest.fixture
def inbox(tmp_path: Path) -> ConsoleNotifier:
    return ConsoleNotifier(tmp_path / "inbox")


@pytest.fixture
def notifiers(inbox: ConsoleNotifier) -> dict[Platform, Notifier]:
    """The platforms the bot speaks first on; a test may put another one in front of the inbox."""
    return {Platform.CONSOLE: inbox}


@pytest.fixture
def handlers(db: Database, clock: Clock, policy: NudgeSettings, notifiers: dict[Platform, Notifier]) -> Handlers:
    return Handlers(
        db.sessions,
        admins=frozenset({"U_ADMIN"}),
        clock=clock,
        policy=policy,
        gesture_messages=GestureSender(db.sessions, notifiers),
    )


@pytest.fixture
async def team_chat(chat: Chat) -> Chat:
    for line in (
        f"team create support --channel {CHANNEL}",
        "team add support U_LEAD --lead yes",
        "team add support U1",
        "team add support U2",
        "team add support U3",
    ):
        reply = await chat.say("U_ADMIN", line)
        assert not reply.error, reply.text
    assert not (await chat.say("U_LEAD", "customer add Acme")).error
    assert not (await chat.say("U1", "claim acme")).error
    return chat


async def propose(chat: Chat, user: str, text: str) -> int:
    reply = await chat.say(user, text)
    assert not reply.error, reply.text
    return int(reply.text.split("#", 1)[1].split(" ", 1)[0])


async def tick(db: Database, inbox: ConsoleNotifier, clock: Clock) -> CloseReport:
    return await close_due_proposals(sessions=db.sessions, notifiers={Platform.CONSOLE: inbox}, now=clock())


async def rows(db: Database, model: type, **where: Any) -> list[Any]:
    async with db.sessions() as session:
        query = select(model).filter_by(**where)
        return list((await session.execute(query)).scalars())


async def count(db: Database, model: type, **where: Any) -> int:
    async with db.sessions() as session:
        return await session.scalar(select(func.count()).select_from(model).filter_by(**where)) or 0


def posts(inbox: ConsoleNotifier, box: str = CHANNEL_BOX) -> list[dict[str, Any]]:
    """Messages first posted to a box (not updates)."""
    return [r for r in inbox.read(box) if r["kind"] in ("channel", "direct")]


def shown(inbox: ConsoleNotifier, message_id: str, box: str = CHANNEL_BOX) -> dict[str, Any]:
    """What a message shows now: its last post or update."""
    versions = [r for r in inbox.read(box) if r["message_id"] == message_id]
    assert versions, f"no message {message_id} in {box}"
    return versions[-1]["reply"]


def card_of(inbox: ConsoleNotifier, proposal_id: int) -> tuple[str, dict[str, Any]]:
    """The message id and current content of a proposal's card."""
    for record in posts(inbox):
        if record["reply"]["text"].startswith(f"Frugal wow #{proposal_id} "):
            return record["message_id"], shown(inbox, record["message_id"])
    raise AssertionError(f"no card for #{proposal_id}")


def fields(reply: dict[str, Any]) -> dict[str, str]:
    return dict(reply["fields"])


def button_ids(reply: dict[str, Any]) -> list[str]:
    return [b["action_id"] for b in reply["buttons"]]


@pytest.fixture
async def second_replica(
    db: Database, clock: Clock, policy: NudgeSettings, inbox: ConsoleNotifier
) -> AsyncIterator[Handlers]:
    """Another server process on the same database and the same chat platform."""
    engine = create_engine(db.url)
    sessions = create_session_factory(engine)
    yield Handlers(
        sessions,
        admins=frozenset({"U_ADMIN"}),
        clock=clock,
        policy=policy,
        gesture_messages=GestureSender(sessions, {Platform.CONSOLE: ConsoleNotifier(inbox.inbox)}),
    )
    await engine.dispose()
