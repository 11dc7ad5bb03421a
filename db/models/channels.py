"""Customer channels: a shared Slack channel (Slack Connect) or a Teams channel linked to one customer, and the
messages read from it, each mapped to the ticket it belongs to (its thread's request)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, str_enum
from .core import Platform

DEFAULT_RESOLVE_EMOJI = "white_check_mark"


class CustomerChannel(Base):
    """A channel linked to a customer. A channel belongs to at most one customer (one row per channel); unlinking
    sets `unlinked_at` and keeps the row, the tickets and their timelines; linking again reuses the row."""

    __tablename__ = "customer_channels"
    __table_args__ = (UniqueConstraint("workspace_id", "channel_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    platform: Mapped[Platform] = mapped_column(str_enum(Platform, 16))
    channel_id: Mapped[str] = mapped_column(String(128))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    linked_by_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    linked_at: Mapped[datetime]
    unlinked_at: Mapped[datetime | None]
    resolve_emoji: Mapped[str] = mapped_column(String(64), default=DEFAULT_RESOLVE_EMOJI)
    announce: Mapped[bool] = mapped_column(Boolean, default=True)  # name the owner in the request's thread


class ChannelMessage(Base):
    """One message read from a linked channel: a request (its thread's first message) or a reply in its thread.
    `event_id` is its row in the ticket's timeline (an edit changes that row's text); the words themselves live
    only there."""

    __tablename__ = "channel_messages"
    __table_args__ = (
        UniqueConstraint("workspace_id", "channel_id", "message_id"),
        Index("ix_channel_messages_ticket", "ticket_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    channel_id: Mapped[str] = mapped_column(String(128))
    message_id: Mapped[str] = mapped_column(String(64))  # Slack ts, Teams activity id
    thread_id: Mapped[str] = mapped_column(String(64))  # the thread's first message (itself for a request)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    event_id: Mapped[int | None] = mapped_column(ForeignKey("ticket_events.id", ondelete="SET NULL"))
    author: Mapped[str] = mapped_column(String(128))  # the platform user id
    from_customer: Mapped[bool] = mapped_column(Boolean)
    dismissed: Mapped[bool] = mapped_column(Boolean, default=False)  # "Not a request" (on the request's row)
    deleted_at: Mapped[datetime | None]
    at: Mapped[datetime]
