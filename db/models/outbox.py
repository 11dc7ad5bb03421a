"""The outbox: every message ownerbot sends on its own (notices, nudges, digests, gesture cards and their updates)
is a row here, written in the same transaction as the change that owes it, and sent by one sender (`db.outbox`,
`jobs.outbox_sender`)."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, str_enum
from .core import Platform


class OutboxStatus(enum.StrEnum):
    PENDING = "pending"  # waits for due_at (first try, or a retry after back-off / Retry-After)
    SENDING = "sending"  # claimed by a sender until lease_until; claimed again when the lease runs out
    SENT = "sent"  # the platform took it; message_id says where it lives
    FAILED = "failed"  # the platform will never take it; the people in tell_on_failure were told once
    SKIPPED = "skipped"  # nothing to say any more (the thing it was about is gone)


class OutboxMessage(Base):
    """One message to one person (`direct`) or one channel. `content` is the neutral reply as JSON, or `render`
    names what to draw again at send time ("gesture:12:card"). `replaces_id` makes it an update in place of an
    earlier row's message (its `message_id`). `key` is the idempotency key: enqueueing it twice writes one row."""

    __tablename__ = "outbox_messages"
    __table_args__ = (
        Index("ix_outbox_messages_status_due", "status", "due_at"),
        Index("ix_outbox_messages_status_lease", "status", "lease_until"),
        Index("ix_outbox_messages_replaces", "replaces_id", "status"),
        Index("ix_outbox_messages_created_at", "created_at"),  # retention (jobs/retention.py)
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    platform: Mapped[Platform] = mapped_column(str_enum(Platform, 16))
    workspace: Mapped[str] = mapped_column(String(128))  # the platform's workspace / tenant id
    direct: Mapped[bool] = mapped_column(Boolean, default=True)  # a DM to `target` (a user id), else a channel
    target: Mapped[str] = mapped_column(String(128))
    purpose: Mapped[str] = mapped_column(String(40))  # notice, nudge, digest, gesture-card, delivery-failed …
    content: Mapped[str | None] = mapped_column(Text)  # the neutral Reply as JSON
    render: Mapped[str | None] = mapped_column(String(120))  # or what to render at send time
    replaces_id: Mapped[int | None] = mapped_column(ForeignKey("outbox_messages.id", ondelete="CASCADE"))
    tell_on_failure: Mapped[str] = mapped_column(Text, default="")  # user ids, space separated
    status: Mapped[OutboxStatus] = mapped_column(str_enum(OutboxStatus, 16), default=OutboxStatus.PENDING)
    due_at: Mapped[datetime]
    claimed_by: Mapped[str | None] = mapped_column(String(80))
    lease_until: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    message_id: Mapped[str | None] = mapped_column(String(256))  # the platform's id (Slack ts, Teams activity id)
    message_channel: Mapped[str | None] = mapped_column(String(256))  # the channel the platform put it in
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]


__all__ = ["OutboxMessage", "OutboxStatus"]
