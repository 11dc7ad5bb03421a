"""What a Slack command or click checks first, inside its own transaction (`Handlers.command(..., guard)`).

A request is taken on once (its dedupe key row, `dedupe.taken_on`), and in a linked customer channel the customer
never runs a command and every answer is private (`command_rule_in`). Both used to be transactions of their own
before the command's; in the command's transaction they cost one statement each and no commit, and the key row
commits with the change it guards.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from slack_bolt.request.async_request import AsyncBoltRequest
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Platform
from handlers import Reply
from handlers.channel_intake import command_rule_in
from handlers.dispatch import IGNORED, Guard

from . import dedupe
from .translate import team_of

CUSTOMER_REFUSED = "ownerbot takes commands from the support team only; your message here reaches the team anyway."


@dataclass(frozen=True)
class RequestKey:
    """A slash command's or click's dedupe key (`dedupe.request_key`) and what it was."""

    key: str
    team_id: str
    kind: str


def request_key(body: dict[str, Any], request: AsyncBoltRequest) -> RequestKey:
    """A slash command's or interaction's dedupe key: a replay is acknowledged and ignored."""
    timestamp = (request.headers.get("x-slack-request-timestamp") or [""])[0]
    key = dedupe.request_key(body.get("trigger_id"), timestamp, request.raw_body)
    kind = str(body.get("type") or ("slash_command" if "command" in body else "request"))
    return RequestKey(key, team_of(body), kind)


@dataclass
class Rule:
    """What the guard found about the channel: whether answers there must be private."""

    private: bool = False


def guard(
    request: RequestKey | None,
    *,
    channel: tuple[str, str, str] | None,
    rule: Rule,
    now: datetime,
) -> Guard | None:
    """The guard for one request: its key row when it has one, the channel rule for (team, channel, user) when
    the command was typed in a channel that was not checked already."""
    if request is None and channel is None:
        return None

    async def check(session: AsyncSession) -> Reply | None:
        if request is not None and channel is not None:  # the usual slash command: one statement
            team_id, channel_id, user_id = channel
            found = await dedupe.taken_on_in_channel(
                session,
                event_id=request.key,
                team_id=request.team_id,
                event_type=request.kind,
                now=now,
                channel_id=channel_id,
                user_id=user_id,
            )
            if found is None:
                return IGNORED
            linked, member = found
            refused, rule.private = linked and not member, linked
        elif request is not None:
            if not await dedupe.taken_on(
                session, event_id=request.key, team_id=request.team_id, event_type=request.kind, now=now
            ):
                return IGNORED
            refused = False
        else:
            assert channel is not None
            team_id, channel_id, user_id = channel
            refused, rule.private = await command_rule_in(session, Platform.SLACK, team_id, channel_id, user_id)
        return Reply(CUSTOMER_REFUSED, error=True) if refused else None

    return check
