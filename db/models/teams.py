"""Microsoft Teams delivery state: where the bot can reach people and channels later (proactive messages).

The Bot Framework only lets a bot message a conversation it has a reference for, so every conversation the bot
sees (a personal chat, a team channel, a group chat) and every member it sees is kept here, as rows, so a restart
or a second replica can still deliver nudges. The reference itself is the Bot Framework's JSON, stored opaque.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base


class TeamsConversation(Base):
    """One Teams conversation the bot can post into: a member's personal chat, a channel, or a group chat."""

    __tablename__ = "teams_conversations"
    __table_args__ = (
        UniqueConstraint("tenant_id", "conversation_id"),
        Index("ix_teams_conversations_tenant_user", "tenant_id", "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(128))
    conversation_id: Mapped[str] = mapped_column(String(512))  # a channel's id for channels (no ;messageid=)
    kind: Mapped[str] = mapped_column(String(16))  # personal | channel | groupChat
    user_id: Mapped[str | None] = mapped_column(String(128))  # personal chats: the member's Entra (AAD) object id
    team_id: Mapped[str | None] = mapped_column(String(512))
    reference: Mapped[str] = mapped_column(Text)  # the ConversationReference JSON
    updated_at: Mapped[datetime]


class TeamsMember(Base):
    """A person seen on Teams: maps the Entra object id (our user id) to the Bot Framework id (29:...)."""

    __tablename__ = "teams_members"
    __table_args__ = (
        UniqueConstraint("tenant_id", "user_id"),
        Index("ix_teams_members_tenant_bot_user", "tenant_id", "bot_user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(128))
    user_id: Mapped[str] = mapped_column(String(128))  # Entra object id (or the Bot Framework id when none)
    bot_user_id: Mapped[str] = mapped_column(String(256))  # the Bot Framework id, 29:...
    name: Mapped[str] = mapped_column(String(200), default="")
    service_url: Mapped[str] = mapped_column(String(512))
    bot_id: Mapped[str] = mapped_column(String(256))  # the bot's own id in that tenant (28:...)
    updated_at: Mapped[datetime]
