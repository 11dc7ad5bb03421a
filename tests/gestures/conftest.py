"""Gesture fixtures: the console platform's real Notifier (an inbox folder) behind the outbox sender, which the
Handlers wake after each commit (as the composition root wires it), and a team.

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
from db.models import OutboxMessage, Platform
from gestures import outbox as gesture_outbox
from handlers import Handlers
from handlers.ports import Notifier
from jobs.gesture_closer import CloseReport, close_due_proposals
from jobs.outbox_sender import OutboxSender, SendReport
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
def sender(db: Database, clock: Clock, notifiers: dict[Platform, Notifier]) -> OutboxSender:
    return OutboxSender(db.sessions, notifiers, clock)


@pytest.fixture
def handlers(db: Database, clock: Clock, policy: NudgeSettings, sender: OutboxSender) -> Handlers:
    return Handlers(db.sessions, admins=frozenset({"U_ADMIN"}), clock=clock, policy=policy, wake_sender=sender.wake)


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
    """The ticker's gesture round: close what is due, then the outbox sender sends what that owes."""
    report = await close_due_proposals(sessions=db.sessions, now=clock())
    report.sent = (await send(db, {Platform.CONSOLE: inbox}, clock)).sent
    return report


async def send(db: Database, notifiers: dict[Platform, Notifier], clock: Clock) -> SendReport:
    return await OutboxSender(db.sessions, notifiers, clock).send_due()


async def rows(db: Database, model: type, **where: Any) -> list[Any]:
    async with db.sessions() as session:
        query = select(model).filter_by(**where)
        return list((await session.execute(query)).scalars())


async def count(db: Database, model: type, **where: Any) -> int:
    async with db.sessions() as session:
        return await session.scalar(select(func.count()).select_from(model).filter_by(**where)) or 0


async def messages(db: Database, proposal_id: int, purpose: str | None = None) -> list[tuple[str, OutboxMessage]]:
    """The outbox rows about a proposal, with each one's gesture purpose (card, outcome, …); updates included."""
    async with db.sessions() as session:
        found = await gesture_outbox.messages_for(session, proposal_id=proposal_id)
    parsed = [(gesture_outbox.parse_render(m.render or ""), m) for m in found]
    return [(p[1], m) for p, m in parsed if p is not None and purpose in (None, p[1])]


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
    sender = OutboxSender(sessions, {Platform.CONSOLE: ConsoleNotifier(inbox.inbox)}, clock)
    yield Handlers(sessions, admins=frozenset({"U_ADMIN"}), clock=clock, policy=policy, wake_sender=sender.wake)
    await engine.dispose()
