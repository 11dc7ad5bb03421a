"""Commands and actions register here once; every platform reaches them through `Handlers`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Member, Platform, Workspace
from nudges.settings import NudgeSettings

from .replies import ActionInvocation, Reply

if TYPE_CHECKING:
    from .ports import GestureMessages


@dataclass
class Context:
    """What a command runs with: one session inside one transaction, the acting member, `now`, and the nudge
    policy of this server."""

    session: AsyncSession
    actor: Member
    workspace: Workspace
    platform: Platform
    now: datetime
    policy: NudgeSettings
    channel_id: str | None = None
    # For work after the transaction commits (e.g. posting a gesture card through `gesture_messages`): a command
    # appends a coroutine function; Handlers awaits each one after commit, and never after a rollback.
    gesture_messages: GestureMessages | None = None
    after_commit: list[Callable[[], Awaitable[None]]] = field(default_factory=list)


CommandFn = Callable[[Context, list[str]], Awaitable[Reply]]
ActionFn = Callable[[Context, ActionInvocation], Awaitable[Reply]]


@dataclass(frozen=True)
class Command:
    name: str
    usage: str
    summary: str
    group: str
    run: CommandFn


COMMANDS: dict[str, Command] = {}
ACTIONS: dict[str, ActionFn] = {}


def command(name: str, *, usage: str, summary: str, group: str) -> Callable[[CommandFn], CommandFn]:
    def register(fn: CommandFn) -> CommandFn:
        if name in COMMANDS:
            raise RuntimeError(f"command {name!r} registered twice")
        COMMANDS[name] = Command(name, usage, summary, group, fn)
        return fn

    return register


def action(action_id: str) -> Callable[[ActionFn], ActionFn]:
    def register(fn: ActionFn) -> ActionFn:
        if action_id in ACTIONS:
            raise RuntimeError(f"action {action_id!r} registered twice")
        ACTIONS[action_id] = fn
        return fn

    return register
