"""`Handlers`: the one entry point every platform calls. One command, one transaction, one Reply."""

from __future__ import annotations

import difflib
import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import Member, Platform, Workspace
from ownership.errors import DomainError
from ownership.people import member_on_sight, workspace_on_sight

from .parsing import lex
from .ports import Notifier
from .registry import ACTIONS, COMMANDS, Context, help_reply
from .replies import ActionInvocation, Invocation, Reply

log = logging.getLogger(__name__)
SORRY = (
    "Something went wrong on our side and nothing was changed. Please try again; if it keeps failing, tell an admin."
)


def utc_now() -> datetime:
    return datetime.now(UTC)


class Handlers:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        admins: frozenset[str] = frozenset(),
        clock: Callable[[], datetime] = utc_now,
        notifiers: Mapping[Platform, Notifier] | None = None,
    ) -> None:
        self.sessions = sessions
        self.admins = admins
        self.clock = clock
        self.notifiers: Mapping[Platform, Notifier] = notifiers or {}

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
            channel_id=channel_id,
            sessions=self.sessions,
            notifiers=self.notifiers,
        )

    async def _after_commit(self, ctx: Context) -> None:
        for work in ctx.after_commit:
            try:
                await work()
            except Exception:  # the change is committed; what failed here is retried by the ticker
                log.exception("work after commit failed")

    async def command(self, invocation: Invocation) -> Reply:
        try:
            words = lex(invocation.text)
            if not words:
                return help_reply([])
            name, args = words[0].text.lower(), words[1:]
            if name == "help":
                return help_reply([word.text for word in args])
            found = COMMANDS.get(name)
            if found is None:
                close = difflib.get_close_matches(name, list(COMMANDS), n=1)
                hint = f" Did you mean `{close[0]}`?" if close else ""
                return Reply(f"I don't know the command `{name[:40]}`.{hint} Type `help` for the list.", error=True)
            form, args = found.pick(args)
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
                reply = await form.run(ctx, **await form.parse(ctx, args))
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
