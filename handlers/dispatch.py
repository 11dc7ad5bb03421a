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

from .parsing import lex
from .ports import GestureMessages
from .registry import ACTIONS, COMMANDS, Context, help_reply
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

    async def _on_sight(
        self, *, platform: Platform, workspace: str, workspace_name: str, user_id: str, user_name: str, tz: str | None
    ) -> tuple[int, int]:
        """The workspace and the person, in their own transaction, committed before the command runs: whoever
        talked to ownerbot is known from then on, even when what they asked for is refused."""
        now = self.clock()
        async with self.sessions() as session, session.begin():
            ws: Workspace = await workspace_on_sight(
                session, platform=platform, external_id=workspace, name=workspace_name, now=now
            )
            actor: Member = await member_on_sight(
                session,
                workspace=ws,
                platform_user_id=user_id,
                display_name=user_name,
                time_zone=tz,
                admins=self.admins,
                now=now,
            )
            return ws.id, actor.id

    async def _context(
        self, session: AsyncSession, ids: tuple[int, int], *, platform: Platform, channel_id: str | None
    ) -> Context:
        ws = await session.get(Workspace, ids[0])
        actor = await session.get(Member, ids[1])
        if ws is None or actor is None:  # pragma: no cover - rows are never deleted
            raise RuntimeError("the workspace or member registered a moment ago is gone")
        return Context(
            session=session,
            actor=actor,
            workspace=ws,
            platform=platform,
            now=self.clock(),
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
            ids = await self._on_sight(
                platform=invocation.platform,
                workspace=invocation.workspace,
                workspace_name=invocation.workspace_name,
                user_id=invocation.user_id,
                user_name=invocation.user_name,
                tz=invocation.time_zone,
            )
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
                ctx = await self._context(session, ids, platform=invocation.platform, channel_id=invocation.channel_id)
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
            ids = await self._on_sight(
                platform=act.platform,
                workspace=act.workspace,
                workspace_name="",
                user_id=act.user_id,
                user_name=act.user_name,
                tz=act.time_zone,
            )
            async with self.sessions() as session, session.begin():
                ctx = await self._context(session, ids, platform=act.platform, channel_id=act.channel_id)
                reply = await run(ctx, act)
            await self._after_commit(ctx)
            return reply
        except DomainError as error:
            return Reply(error.message, error=True)
        except Exception:
            log.exception("action failed: %s", act.action_id)
            return Reply(SORRY, error=True)
