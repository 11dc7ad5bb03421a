"""Conversation references and members, kept in the database so proactive messages survive restarts.

Captured on installationUpdate, conversationUpdate and on every message (see bot.py); read by the notifier.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.schema import Activity, ChannelAccount, ConversationReference
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Member, Platform, TeamsConversation, TeamsMember, Workspace
from db.upsert import insert_or_ignore
from handlers import Reply

from .native_text import Person, Readers, user_ids_in
from .translate import conversation_id_of, conversation_kind, team_id_of, user_id_of


def reference_json(reference: ConversationReference) -> str:
    return json.dumps(reference.serialize(), sort_keys=True)


def reference_from_json(text: str) -> ConversationReference:
    return ConversationReference().deserialize(json.loads(text))


async def remember_conversation(
    session: AsyncSession, *, tenant: str, activity: Activity, now: datetime
) -> TeamsConversation:
    """Store (or refresh) the reference of the conversation this activity came from."""
    reference = TurnContext.get_conversation_reference(activity)
    conversation_id = conversation_id_of(activity)
    reference.conversation.id = conversation_id  # post to the channel, not into the thread it came from
    reference.activity_id = None
    kind = conversation_kind(activity)
    user = user_id_of(activity.from_property) if kind == "personal" and activity.from_property else None
    return await _store_conversation(
        session,
        tenant=tenant,
        conversation_id=conversation_id,
        kind=kind,
        user=user,
        team_id=team_id_of(activity),
        reference=reference,
        now=now,
    )


async def _store_conversation(
    session: AsyncSession,
    *,
    tenant: str,
    conversation_id: str,
    kind: str,
    user: str | None,
    team_id: str | None,
    reference: ConversationReference,
    now: datetime,
) -> TeamsConversation:
    values: dict[str, Any] = {
        "tenant_id": tenant,
        "conversation_id": conversation_id,
        "kind": kind,
        "user_id": user,
        "team_id": team_id,
        "reference": reference_json(reference),
        "updated_at": now,
    }
    await insert_or_ignore(session, TeamsConversation, values, ["tenant_id", "conversation_id"])
    row = (
        await session.execute(
            select(TeamsConversation).where(
                TeamsConversation.tenant_id == tenant, TeamsConversation.conversation_id == conversation_id
            )
        )
    ).scalar_one()
    row.reference = values["reference"]
    row.kind = kind
    row.user_id = user or row.user_id
    row.team_id = team_id or row.team_id
    row.updated_at = now
    return row


async def remember_personal(
    session: AsyncSession, *, tenant: str, user: str, reference: ConversationReference, now: datetime
) -> TeamsConversation:
    """Store a 1:1 conversation the bot created itself (a first proactive DM)."""
    return await _store_conversation(
        session,
        tenant=tenant,
        conversation_id=reference.conversation.id,
        kind="personal",
        user=user,
        team_id=None,
        reference=reference,
        now=now,
    )


async def remember_member(
    session: AsyncSession, *, tenant: str, account: ChannelAccount, activity: Activity, now: datetime
) -> None:
    """Map a person's Entra id to their Bot Framework id, so mentions resolve and a first DM can be created."""
    if not account or not account.id or account.id == (activity.recipient.id if activity.recipient else None):
        return
    user = user_id_of(account)
    values = {
        "tenant_id": tenant,
        "user_id": user,
        "bot_user_id": account.id,
        "name": account.name or "",
        "service_url": activity.service_url or "",
        "bot_id": activity.recipient.id if activity.recipient else "",
        "updated_at": now,
    }
    await insert_or_ignore(session, TeamsMember, values, ["tenant_id", "user_id"])
    row = (
        await session.execute(select(TeamsMember).where(TeamsMember.tenant_id == tenant, TeamsMember.user_id == user))
    ).scalar_one()
    row.bot_user_id = account.id
    row.name = account.name or row.name
    row.service_url = activity.service_url or row.service_url
    row.bot_id = values["bot_id"] or row.bot_id
    row.updated_at = now


async def known_users(session: AsyncSession, *, tenant: str, bot_user_ids: list[str]) -> dict[str, str]:
    """Bot Framework id -> Entra id, for the members among `bot_user_ids` seen before."""
    if not bot_user_ids:
        return {}
    rows = await session.execute(
        select(TeamsMember.bot_user_id, TeamsMember.user_id).where(
            TeamsMember.tenant_id == tenant, TeamsMember.bot_user_id.in_(bot_user_ids)
        )
    )
    return {bot_user_id: user_id for bot_user_id, user_id in rows}  # noqa: C416  (a Result has .keys())


async def personal_conversation(session: AsyncSession, *, tenant: str, user: str) -> TeamsConversation | None:
    return (
        await session.execute(
            select(TeamsConversation)
            .where(
                TeamsConversation.tenant_id == tenant,
                TeamsConversation.user_id == user,
                TeamsConversation.kind == "personal",
            )
            .order_by(TeamsConversation.updated_at.desc())
            .limit(1)
        )
    ).scalar_one_or_none()


async def conversation(session: AsyncSession, *, tenant: str, conversation_id: str) -> TeamsConversation | None:
    return (
        await session.execute(
            select(TeamsConversation).where(
                TeamsConversation.tenant_id == tenant, TeamsConversation.conversation_id == conversation_id
            )
        )
    ).scalar_one_or_none()


async def member(session: AsyncSession, *, tenant: str, user: str) -> TeamsMember | None:
    return (
        await session.execute(select(TeamsMember).where(TeamsMember.tenant_id == tenant, TeamsMember.user_id == user))
    ).scalar_one_or_none()


async def display_name(session: AsyncSession, *, tenant: str, user: str) -> str:
    """The person's name as ownerbot knows it, for messages to a lead about them."""
    name = await session.scalar(
        select(Member.display_name)
        .join(Workspace, Workspace.id == Member.workspace_id)
        .where(Workspace.platform == Platform.TEAMS, Workspace.external_id == tenant, Member.platform_user_id == user)
    )
    return name or user


async def forget_conversation(session: AsyncSession, *, tenant: str, conversation_id: str) -> None:
    await session.execute(
        delete(TeamsConversation).where(
            TeamsConversation.tenant_id == tenant, TeamsConversation.conversation_id == conversation_id
        )
    )


async def readers(session: AsyncSession, *, tenant: str, reply: Reply, reader: str | None) -> Readers:
    """How to show the people the reply names (members table first, then the roster) and the reader's zone."""
    wanted = user_ids_in(reply)
    asked = [*wanted, reader] if reader else list(wanted)
    if not asked:
        return Readers()
    members = {
        user: (name, zone)
        for user, name, zone in await session.execute(
            select(Member.platform_user_id, Member.display_name, Member.time_zone)
            .join(Workspace, Workspace.id == Member.workspace_id)
            .where(
                Workspace.platform == Platform.TEAMS,
                Workspace.external_id == tenant,
                Member.platform_user_id.in_(asked),
            )
        )
    }
    on_teams = {
        user: (name, bot_user_id)
        for user, name, bot_user_id in await session.execute(
            select(TeamsMember.user_id, TeamsMember.name, TeamsMember.bot_user_id).where(
                TeamsMember.tenant_id == tenant, TeamsMember.user_id.in_(list(wanted) or [""])
            )
        )
    }
    people = {}
    for user in wanted:
        name = members[user][0] if user in members else on_teams[user][0] if user in on_teams else ""
        if name:
            people[user] = Person(mention_id=on_teams[user][1] if user in on_teams else user, name=name)
    zone = members[reader][1] if reader and reader in members else None
    return Readers(people=people, zone=zone)
