"""Teams activity -> the neutral words the handlers speak: tenant, user, command text with mentions."""

from __future__ import annotations

import html
import re
from collections.abc import Mapping

from botbuilder.schema import Activity

EMULATOR_TENANT = "emulator"  # the Bot Framework Emulator sends no tenant; it gets a workspace of its own
TAG = re.compile(r"</?[a-zA-Z][^>]*>")
PLACEHOLDER = re.compile("\x02(\\d+)\x03")


def tenant_of(activity: Activity) -> str | None:
    """The Entra tenant the activity comes from (channelData.tenant.id, else conversation.tenantId)."""
    data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
    tenant = data.get("tenant")
    if not isinstance(tenant, dict):
        tenant = {}
    found = tenant.get("id") or (activity.conversation.tenant_id if activity.conversation else None)
    if found:
        return str(found)
    if activity.channel_id == "emulator":
        return EMULATOR_TENANT
    return None


def user_id_of(account: object) -> str:
    """Our user id for a Teams account: the Entra (AAD) object id, else the Bot Framework id."""
    return str(getattr(account, "aad_object_id", None) or getattr(account, "id", "") or "")


def conversation_id_of(activity: Activity) -> str:
    """The conversation id without a thread suffix (`19:...@thread.tacv2;messageid=123` -> the channel)."""
    raw = activity.conversation.id if activity.conversation else ""
    return raw.split(";messageid=")[0]


def conversation_kind(activity: Activity) -> str:
    kind = activity.conversation.conversation_type if activity.conversation else None
    return kind or "personal"


def team_id_of(activity: Activity) -> str | None:
    data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
    team = data.get("team")
    return str(team["id"]) if isinstance(team, dict) and team.get("id") else None


def _mentions(activity: Activity) -> list[tuple[str, str, str, str | None]]:
    """(text as it appears, Bot Framework id, name, Entra id if the entity carries one) per mention."""
    found = []
    for entity in activity.entities or []:
        props = entity.additional_properties if hasattr(entity, "additional_properties") else {}
        kind = getattr(entity, "type", None) or props.get("type")
        if kind != "mention":
            continue
        mentioned = props.get("mentioned") or {}
        text = props.get("text") or ""
        if isinstance(mentioned, dict) and text and mentioned.get("id"):
            found.append((text, str(mentioned["id"]), str(mentioned.get("name") or ""), mentioned.get("aadObjectId")))
    return found


def command_text(activity: Activity, known_users: Mapping[str, str]) -> str:
    """The typed command: the bot's own mention removed, other mentions as `<@USERID|Name>`.

    `known_users` maps Bot Framework ids (29:...) of members seen before to their Entra ids; a mention of someone
    never seen keeps its Bot Framework id (the handlers then say they are unknown).
    """
    text = (activity.text or "").replace("\x02", "").replace("\x03", "")  # our placeholder marks
    bot_id = activity.recipient.id if activity.recipient else None
    tokens: list[str] = []
    for shown, mentioned_id, name, aad in _mentions(activity):
        if mentioned_id == bot_id:
            text = text.replace(shown, " ", 1)
            continue
        user = aad or known_users.get(mentioned_id) or mentioned_id
        # the command parser splits on spaces: keep a multi-word name in one token
        label = "\u00a0".join(name.split()).replace(">", "").replace("|", "")
        tokens.append(f"<@{user}|{label}>" if label else f"<@{user}>")
        text = text.replace(shown, f" \x02{len(tokens) - 1}\x03 ", 1)
    text = html.unescape(TAG.sub(" ", text)).replace("\u00a0", " ")  # markup and &nbsp; are just spaces
    text = " ".join(text.split())
    return PLACEHOLDER.sub(lambda match: tokens[int(match.group(1))], text)


def mentioned_bot_ids(activity: Activity) -> list[str]:
    return [mentioned_id for _, mentioned_id, _, _ in _mentions(activity)]
