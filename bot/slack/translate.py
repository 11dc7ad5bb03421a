"""Slack payloads in: where a request came from (`Where`) and what it asks, as neutral invocations.

Pure functions over the dicts bolt hands the listeners; no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from db.models import Platform
from handlers import ActionInvocation, Invocation

from . import render
from .members import Profile


@dataclass(frozen=True)
class Where:
    """Where a reply goes: the invoker, and the surface they used."""

    team_id: str
    user_id: str
    channel_id: str | None = None
    response_url: str | None = None
    trigger_id: str | None = None
    message_ts: str | None = None  # the message a button was on
    thread_ts: str | None = None
    in_thread: bool = False  # the mention was a reply in a thread: even an ephemeral answer belongs there
    direct: bool = False  # a DM with the bot: reply in the conversation, not ephemerally
    home: bool = False  # the App Home tab: refresh it after the action


def team_of(body: dict[str, Any]) -> str:
    team = body.get("team_id") or (body.get("team") or {}).get("id") or (body.get("user") or {}).get("team_id")
    if not team:
        authorizations = body.get("authorizations") or [{}]
        team = authorizations[0].get("team_id") or ""
    return str(team)


# -- slash commands ------------------------------------------------------------------------------------------


def command_text(body: dict[str, Any]) -> str:
    """`/claim acme` is `claim acme`; `/ownerbot claim acme` is `claim acme` too."""
    name = str(body.get("command", "")).lstrip("/")
    args = str(body.get("text", "")).strip()
    return args if name == "ownerbot" else f"{name} {args}".strip()


def command_where(body: dict[str, Any]) -> Where:
    return Where(
        team_id=body["team_id"],
        user_id=body["user_id"],
        channel_id=body.get("channel_id"),
        response_url=body.get("response_url"),
        trigger_id=body.get("trigger_id"),
        direct=str(body.get("channel_name", "")) == "directmessage",
    )


# -- buttons and modal submits -------------------------------------------------------------------------------


def action_where(body: dict[str, Any]) -> Where:
    container = body.get("container") or {}
    return Where(
        team_id=team_of(body),
        user_id=body["user"]["id"],
        channel_id=(body.get("channel") or {}).get("id") or container.get("channel_id"),
        response_url=body.get("response_url"),
        trigger_id=body.get("trigger_id"),
        message_ts=container.get("message_ts"),
        home=container.get("type") == "view",
    )


def submit_where(body: dict[str, Any], context: render.PromptContext) -> Where:
    """A modal's submit answers where the button that opened it was (a channel, a response URL, or App Home)."""
    return Where(
        team_id=team_of(body),
        user_id=body["user"]["id"],
        channel_id=context.channel_id,
        response_url=context.response_url,
        message_ts=context.message_ts,
        home=not context.channel_id and not context.response_url,
    )


# -- messages and mentions -----------------------------------------------------------------------------------


def is_for_us(event: dict[str, Any]) -> bool:
    """A person's message to the bot: a DM or an @mention, never a bot's own message or an edit."""
    if event.get("bot_id") or event.get("subtype"):
        return False
    return not (event.get("type") == "message" and event.get("channel_type") != "im")


def message_text(event: dict[str, Any], bot_user: str | None) -> str:
    """The command in a message, without the @mention of the bot that addressed it."""
    text = str(event.get("text", ""))
    if bot_user:
        text = re.sub(rf"<@{re.escape(bot_user)}(\|[^>]*)?>", " ", text, count=1)
    return text.strip()


def message_where(body: dict[str, Any], event: dict[str, Any]) -> Where:
    direct = event.get("channel_type") == "im"
    return Where(
        team_id=team_of(body),
        user_id=event["user"],
        channel_id=event.get("channel"),
        thread_ts=None if direct else (event.get("thread_ts") or event.get("ts")),
        in_thread=bool(event.get("thread_ts")) and not direct,
        direct=direct,
    )


# -- neutral invocations -------------------------------------------------------------------------------------


def invocation(text: str, where: Where, profile: Profile, workspace_name: str = "") -> Invocation:
    return Invocation(
        platform=Platform.SLACK,
        workspace=where.team_id,
        user_id=where.user_id,
        text=text,
        user_name=profile.name,
        channel_id=where.channel_id,
        time_zone=profile.time_zone,
        workspace_name=workspace_name,
    )


def action_invocation(
    where: Where, action_id: str, value: str, typed: str | None, profile: Profile, picked: str | None = None
) -> ActionInvocation:
    return ActionInvocation(
        platform=Platform.SLACK,
        workspace=where.team_id,
        user_id=where.user_id,
        action_id=render.action_id_of(action_id),
        value=value,
        input=typed,
        picked_user=picked,
        user_name=profile.name,
        channel_id=where.channel_id,
        time_zone=profile.time_zone,
    )
