"""Ticket timelines, helpdesk webhook deliveries (idempotency keys) and customer ideas."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, str_enum
from .core import Mood, Platform


class TicketEventKind(enum.StrEnum):
    OPENED = "opened"
    NOTE = "note"  # an agent wrote on the ticket
    CUSTOMER_MESSAGE = "customer-message"  # the customer wrote (tone is scored)
    PENDING = "pending"
    REOPENED = "reopened"
    RESOLVED = "resolved"
    CLOSED = "closed"
    MOOD = "mood"
    CSAT = "csat"
    UPDATED = "updated"  # subject or priority changed at the helpdesk
    FLAGGED_UNOWNED = "flagged-unowned"  # the customer has no owner: the team must pick it up
    ABUSE = "abuse"  # the customer's message was abusive (text: the categories, never the words)


class TicketEvent(Base):
    """Append-only timeline of a ticket: every status change, note, mood change and rating, with who and when."""

    __tablename__ = "ticket_events"
    __table_args__ = (
        Index("ix_ticket_events_ticket_at", "ticket_id", "at"),
        Index("ix_ticket_events_workspace_kind_at", "workspace_id", "kind", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    kind: Mapped[TicketEventKind] = mapped_column(str_enum(TicketEventKind, 24))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    platform: Mapped[Platform] = mapped_column(str_enum(Platform, 16))
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str | None] = mapped_column(String(16))
    mood: Mapped[Mood | None] = mapped_column(str_enum(Mood, 16))
    tone_score: Mapped[float | None] = mapped_column(Float)
    text: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime]


class WebhookDelivery(Base):
    """One helpdesk event, applied or failed. The unique key makes a redelivered event a no-op, on every replica;
    an event that could not be applied is kept as `failed` (with the error's kind, never the body) so that its
    redeliveries are answered at once instead of failing again forever. Pruned by age (jobs/retention.py)."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("workspace_id", "source", "ref", "updated"),
        Index("ix_webhook_deliveries_received_at", "received_at"),
        Index("ix_webhook_deliveries_status_received_at", "status", "received_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    source: Mapped[str] = mapped_column(String(32))
    ref: Mapped[str] = mapped_column(String(128))  # the helpdesk's event id, or its ticket id
    updated: Mapped[str] = mapped_column(String(80))  # the helpdesk's update time (or a body digest)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"))
    received_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16), default="applied", server_default="applied")  # or "failed"
    error: Mapped[str | None] = mapped_column(String(200))  # why it failed: the error's kind, no customer text


class CustomerIdea(Base):
    """A customer's suggestion, recorded against the customer for the leads' report."""

    __tablename__ = "customer_ideas"
    __table_args__ = (
        Index("ix_customer_ideas_customer_at", "customer_id", "created_at"),
        Index("ix_customer_ideas_workspace_at", "workspace_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text)
    platform: Mapped[Platform] = mapped_column(str_enum(Platform, 16))
    created_at: Mapped[datetime]
