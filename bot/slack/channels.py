"""Channels typed in a command (`team create Wow --channel #wow`): resolved to Slack's channel id before the
handlers see the text, and checked, so the team's vote cards go to a channel the bot can post in.

Slack sends a typed channel as `<#C0WOW|wow>` (slash commands with escaping on), sometimes as `#wow` (escaping
off, or a channel that does not exist) or as a bare id. Names are looked up with conversations.list (Slack's
conversations.info answers `channel_not_found` for a name); ids are checked with conversations.info. Public
channels need no invite (`chat:write.public`); a private one does: Slack shows the bot (`groups:read`) only the
private channels it was invited to, so any other is "not found", and the reply says how to invite it.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

log = logging.getLogger(__name__)

CHANNEL_OPTION = re.compile(r"(--channel\s+)(\S+)")
CHANNEL_LINK = re.compile(r"^<#([CG][A-Z0-9]+)(?:\|([^>]*))?>$")
CHANNEL_ID = re.compile(r"^[CG][A-Z0-9]+$")  # ids are upper case; Slack channel names never are
LIST_PAGES = 20  # conversations.list pages of 200 read at most while looking for a name
INVITE = "invite me first: type `/invite @ownerbot` in that channel, then try again"


class ChannelUnusable(Exception):
    """A typed channel the bot cannot post in; the message says why and how to fix it."""


@dataclass(frozen=True)
class SlackChannel:
    id: str
    name: str
    archived: bool


def _channel(found: dict[str, object]) -> SlackChannel:
    return SlackChannel(
        id=str(found.get("id", "")),
        name=str(found.get("name", "")),
        archived=bool(found.get("is_archived")),
    )


async def _by_name(client: AsyncWebClient, name: str) -> SlackChannel | None:
    wanted = name.lower()
    cursor: str | None = None
    for _page in range(LIST_PAGES):
        page = await client.conversations_list(
            types="public_channel,private_channel", exclude_archived=False, limit=200, cursor=cursor
        )
        for found in page.get("channels") or []:
            if str(found.get("name", "")).lower() == wanted:
                return _channel(found)
        cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
        if not cursor:
            return None
    return None


async def _by_id(client: AsyncWebClient, channel_id: str) -> SlackChannel | None:
    try:
        found = await client.conversations_info(channel=channel_id)
    except SlackApiError as error:
        if error.response.get("error") in ("channel_not_found", "method_not_supported_for_channel_type"):
            return None
        raise
    return _channel(found.get("channel") or {})


async def resolve(client: AsyncWebClient, typed: str) -> str:
    """The id of the channel `typed` names, when the bot can post there; else ChannelUnusable saying why."""
    typed = typed.strip("\"'")
    link = CHANNEL_LINK.match(typed)
    shown = f"#{link.group(2)}" if link and link.group(2) else typed if typed.startswith("#") else f"`{typed[:40]}`"
    try:
        if link:
            channel = await _by_id(client, link.group(1))
        elif typed.startswith("#") or not CHANNEL_ID.match(typed):
            channel = await _by_name(client, typed.removeprefix("#"))
        else:
            channel = await _by_id(client, typed)
    except SlackApiError as error:
        log.warning("looking up a channel failed: %s", error.response.get("error"))
        raise ChannelUnusable(
            f"Slack would not tell me about {shown} just now; nothing was changed. Try again."
        ) from None
    if channel is None:
        raise ChannelUnusable(
            f"I can't find a channel {shown}. Type it as Slack suggests it (`#` and pick from the list). "
            f"If it is a private channel, {INVITE}. Nothing was changed."
        )
    if channel.archived:
        raise ChannelUnusable(f"#{channel.name} is archived, so nobody would see its posts. Pick another channel.")
    return channel.id


async def resolve_typed_channels(client: AsyncWebClient, text: str) -> str:
    """The command text with every `--channel <typed>` replaced by the channel's id (ChannelUnusable if one
    cannot be used)."""
    parts: list[str] = []
    end = 0
    for match in CHANNEL_OPTION.finditer(text):
        parts += [text[end : match.start()], match.group(1), await resolve(client, match.group(2))]
        end = match.end()
    return "".join(parts) + text[end:]
