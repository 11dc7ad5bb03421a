"""`Handlers`: the one entry point every platform calls. One command, one transaction, one Reply."""

from __future__ import annotations

import difflib
import logging

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.clock import Clock
from db.models import Member, Platform, Workspace
from nudges.settings import NudgeSettings
from ownership.errors import DomainError
from ownership.people import member_on_sight, workspace_on_sight

from .parsing import tokenize
from .ports import GestureMessages
from .registry import ACTIONS, COMMANDS, Context
from .replies import ActionInvocation, Invocation, Reply

log = logging.getLogger(__name__)
SORRY = (
    "Something went wrong on our side and nothing was changed. Please try again; if it keeps failing, tell an admin."
)


class Handlers:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        admins: frozenset[str] = frozenset(),
        clock: Clock,
        policy: NudgeSettings,
        gesture_messages: GestureMessages | None = None,
    ) -> None:
        self.sessions = sessions
        self.admins = admins
        self.clock = clock
        self.policy = policy
        self.gesture_messages = gesture_messages

    async def _context(
        self,
        session: AsyncSession,
        *,
        platform: Platform,
        workspace: str,
        workspace_name: str,
        user_id: str,
        user_name: str,
        time_zone: str | None,
        channel_id: str | None,
    ) -> Context:
        now = self.clock()
        ws: Workspace = await workspace_on_sight(
            session, platform=platform, external_id=workspace, name=workspace_name, now=now
        )
        actor: Member = await member_on_sight(
            session,
            workspace=ws,
            platform_user_id=user_id,
            display_name=user_name,
            time_zone=time_zone,
            admins=self.admins,
            now=now,
        )
        return Context(
            session=session,
            actor=actor,
            workspace=ws,
            platform=platform,
            now=now,
            policy=self.policy,
            channel_id=channel_id,
            gesture_messages=self.gesture_messages,
        )

    async def _after_commit(self, ctx: Context) -> None:
        for work in ctx.after_commit:
            try:
                await work()
            except Exception:  # the change is committed; what failed here is retried by the ticker
                log.exception("work after commit failed")

    async def command(self, invocation: Invocation) -> Reply:
        try:
            tokens = tokenize(invocation.text)
            if not tokens:
                return help_reply([])
            name, args = tokens[0].lower(), tokens[1:]
            if name == "help":
                return help_reply(args)
            found = COMMANDS.get(name)
            if found is None:
                close = difflib.get_close_matches(name, list(COMMANDS), n=1)
                hint = f" Did you mean `{close[0]}`?" if close else ""
                return Reply(f"I don't know the command `{name[:40]}`.{hint} Type `help` for the list.", error=True)
            async with self.sessions() as session, session.begin():
                ctx = await self._context(
                    session,
                    platform=invocation.platform,
                    workspace=invocation.workspace,
                    workspace_name=invocation.workspace_name,
                    user_id=invocation.user_id,
                    user_name=invocation.user_name,
                    time_zone=invocation.time_zone,
                    channel_id=invocation.channel_id,
                )
                reply = await found.run(ctx, args)
            await self._after_commit(ctx)
            return reply
        except DomainError as error:
            return Reply(error.message, error=True)
        except Exception:
            log.exception("command failed: %s", invocation.text[:60])
            return Reply(SORRY, error=True)

    async def action(self, act: ActionInvocation) -> Reply:
        run = ACTIONS.get(act.action_id)
        if run is None:
            return Reply("That button is no longer supported.", error=True)
        try:
            async with self.sessions() as session, session.begin():
                ctx = await self._context(
                    session,
                    platform=act.platform,
                    workspace=act.workspace,
                    workspace_name="",
                    user_id=act.user_id,
                    user_name=act.user_name,
                    time_zone=act.time_zone,
                    channel_id=act.channel_id,
                )
                reply = await run(ctx, act)
            await self._after_commit(ctx)
            return reply
        except DomainError as error:
            return Reply(error.message, error=True)
        except Exception:
            log.exception("action failed: %s", act.action_id)
            return Reply(SORRY, error=True)


def help_reply(args: list[str]) -> Reply:
    if args:
        found = COMMANDS.get(args[0].lower())
        if found is None:
            return Reply(f"No command `{args[0][:40]}`. Type `help` for the list.", error=True)
        return Reply(f"`{found.usage}`\n{found.summary}")
    groups: dict[str, list[tuple[str, str]]] = {}
    for cmd in COMMANDS.values():
        groups.setdefault(cmd.group, []).append((f"`{cmd.usage}`", cmd.summary))
    fields = [pair for group in groups.values() for pair in group]
    return Reply("ownerbot makes every customer someone's. Commands:", fields=fields)
