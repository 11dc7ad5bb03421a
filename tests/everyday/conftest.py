"""The console as five people use it over a day: each `console(...)` call is one `ownerbot chat` session."""

from __future__ import annotations

import io
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from bot.console import ConsoleChat, ConsoleNotifier
from db.models import Platform
from handlers import Handlers
from jobs.outbox_sender import OutboxSender
from nudges.settings import NudgeSettings

from ..conftest import Clock, Database

Console = Callable[..., Awaitable[str]]


@pytest.fixture
def inbox(tmp_path: Path) -> ConsoleNotifier:
    return ConsoleNotifier(tmp_path / "inbox")


@pytest.fixture
def sender(db: Database, clock: Clock, inbox: ConsoleNotifier) -> OutboxSender:
    return OutboxSender(db.sessions, {Platform.CONSOLE: inbox}, clock)


@pytest.fixture
def everyday(db: Database, clock: Clock, policy: NudgeSettings, sender: OutboxSender) -> Handlers:
    """Handlers as `ownerbot chat` builds them (what the bot says on its own goes through the outbox to the
    console inbox); U1 (Ana) is an admin from the start, as `OWNERBOT_ADMINS=U1` in the README."""
    return Handlers(db.sessions, admins=frozenset({"U1"}), clock=clock, policy=policy, wake_sender=sender.wake)


@pytest.fixture
def console(everyday: Handlers, inbox: ConsoleNotifier, sender: OutboxSender) -> Console:
    """`await console("U1", "Ana", ["claim acme", …])`: one console session; returns what it printed."""

    async def session(user: str, name: str, lines: list[str]) -> str:
        out = io.StringIO()
        typed = iter(lines)

        def read_line() -> str:
            try:
                return next(typed)
            except StopIteration:
                raise EOFError from None

        await ConsoleChat(everyday, user_id=user, name=name, out=out, inbox=inbox, settle=sender.drain).run(read_line)
        await sender.drain()  # what this session owed others is in their inboxes before the next one starts
        return out.getvalue()

    return session
