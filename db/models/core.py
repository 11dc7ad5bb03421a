"""The ownership core: workspaces, members, teams, customers, tickets, handoffs and the audit log."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, str_enum


class Platform(enum.StrEnum):
    SLACK = "slack"
    TEAMS = "teams"
    CONSOLE = "console"
    WEBHOOK = "webhook"


class Role(enum.StrEnum):
    AGENT = "agent"
    LEAD = "lead"
    ADMIN = "admin"


class Tier(enum.StrEnum):
    PREMIUM = "premium"
    STANDARD = "standard"
    BASIC = "basic"


class TicketStatus(enum.StrEnum):
    OPEN = "open"
    PENDING = "pending"
    RESOLVED = "resolved"
    CLOSED = "closed"


class Priority(enum.StrEnum):
    URGENT = "urgent"
    HIGH = "high"
    NORMAL = "normal"
    LOW = "low"


class Mood(enum.StrEnum):
    UNHAPPY = "unhappy"
    NEUTRAL = "neutral"
    HAPPY = "happy"


class EventKind(enum.StrEnum):
    CLAIM = "claim"
    HANDOFF_REQUESTED = "handoff-requested"
    HANDOFF_ACCEPTED = "handoff-accepted"
    HANDOFF_DECLINED = "handoff-declined"
    HANDOFF_CANCELLED = "handoff-cancelled"
    HANDOFF_WITHDRAWN = "handoff-withdrawn"
    RELEASE = "release"
    REASSIGN = "reassign"
    # Custody (db.models.custody): the owner stays the owner; none of these is a re-assign.
    STEP_OUT = "step-out"
    STEP_BACK = "step-back"
    COVER = "cover"
    COVER_END = "cover-end"


class HandoffStatus(enum.StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    CANCELLED = "cancelled"
    WITHDRAWN = "withdrawn"  # taken back by whoever offered it (or a lead) before the receiver answered


class Workspace(Base):
    """One Slack workspace, Teams tenant or local console; every other row belongs to one."""

    __tablename__ = "workspaces"
    __table_args__ = (UniqueConstraint("platform", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[Platform] = mapped_column(str_enum(Platform, 16))
    external_id: Mapped[str] = mapped_column(String(128))
    name: Mapped[str] = mapped_column(String(200), default="")
    # Slack Enterprise Grid: the organization the workspace belongs to, as its requests say (an org-wide
    # install's token is found by it); None elsewhere.
    enterprise_id: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime]


class Team(Base):
    __tablename__ = "teams"
    __table_args__ = (UniqueConstraint("workspace_id", "name_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    name_key: Mapped[str] = mapped_column(String(100))
    channel_id: Mapped[str | None] = mapped_column(String(128))
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", use_alter=True, ondelete="SET NULL"))
    created_at: Mapped[datetime]


class Member(Base):
    """A person on a platform, created on first sight."""

    __tablename__ = "members"
    __table_args__ = (UniqueConstraint("workspace_id", "platform_user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    platform_user_id: Mapped[str] = mapped_column(String(128))
    display_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(str_enum(Role, 16), default=Role.AGENT)
    time_zone: Mapped[str] = mapped_column(String(64), default="UTC")
    work_start: Mapped[str] = mapped_column(String(5), default="09:00")
    work_end: Mapped[str] = mapped_column(String(5), default="17:00")
    work_days: Mapped[str] = mapped_column(String(7), default="12345")  # ISO weekdays, Monday = 1
    away: Mapped[bool] = mapped_column(Boolean, default=False)
    away_until: Mapped[datetime | None]  # `away until <date>`: away ends by itself at this moment
    delegate_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime]

    team: Mapped[Team | None] = relationship(foreign_keys=[team_id], lazy="raise")


class Customer(Base):
    __tablename__ = "customers"
    __table_args__ = (
        UniqueConstraint("workspace_id", "name_key"),
        UniqueConstraint("workspace_id", "external_id"),
        # a typed external id in any case (handlers.customer_names): an index lookup, not a scan of the workspace
        Index("ix_customers_external_id_lower", "workspace_id", text("lower(external_id)")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    name_key: Mapped[str] = mapped_column(String(200))  # casefolded name: unique case-insensitively
    external_id: Mapped[str | None] = mapped_column(String(128))
    email_domain: Mapped[str | None] = mapped_column(String(200))
    tier: Mapped[Tier] = mapped_column(str_enum(Tier, 16), default=Tier.STANDARD)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"), index=True)
    owned_since: Mapped[datetime | None]
    created_at: Mapped[datetime]

    owner: Mapped[Member | None] = relationship(foreign_keys=[owner_id], lazy="raise")


class Ticket(Base):
    __tablename__ = "tickets"
    __table_args__ = (
        UniqueConstraint("workspace_id", "source", "external_ref"),
        Index("ix_tickets_owner_status", "owner_id", "status"),
        Index("ix_tickets_customer_status", "customer_id", "status"),
        Index("ix_tickets_status_last_activity", "status", "last_activity_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    source: Mapped[str] = mapped_column(String(32), default="chat")
    external_ref: Mapped[str | None] = mapped_column(String(128))
    subject: Mapped[str] = mapped_column(String(300))
    status: Mapped[TicketStatus] = mapped_column(str_enum(TicketStatus, 16), default=TicketStatus.OPEN)
    priority: Mapped[Priority] = mapped_column(str_enum(Priority, 16), default=Priority.NORMAL)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    opened_at: Mapped[datetime]
    first_response_at: Mapped[datetime | None]
    last_activity_at: Mapped[datetime]
    pending_since: Mapped[datetime | None]
    pending_seconds: Mapped[int] = mapped_column(Integer, default=0)
    resolved_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    mood: Mapped[Mood] = mapped_column(str_enum(Mood, 16), default=Mood.NEUTRAL)
    mood_reason: Mapped[str | None] = mapped_column(Text)
    csat: Mapped[str | None] = mapped_column(String(8))
    reassign_count: Mapped[int] = mapped_column(Integer, default=0)


class HandoffRequest(Base):
    """A warm handoff: the old owner keeps the customer until the receiver accepts."""

    __tablename__ = "handoff_requests"
    __table_args__ = (
        Index(
            "uq_handoff_requests_one_pending",
            "customer_id",
            unique=True,
            sqlite_where=text("status = 'pending'"),
            postgresql_where=text("status = 'pending'"),
        ),
        Index("ix_handoff_requests_to_status", "to_member_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    from_member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    to_member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[HandoffStatus] = mapped_column(str_enum(HandoffStatus, 16), default=HandoffStatus.PENDING)
    decline_reason: Mapped[str | None] = mapped_column(Text)
    platform: Mapped[Platform] = mapped_column(str_enum(Platform, 16))
    requested_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]


class OwnershipEvent(Base):
    """Append-only audit trail: who, to whom, why, when, and from which platform."""

    __tablename__ = "ownership_events"
    __table_args__ = (
        Index("ix_ownership_events_customer_at", "customer_id", "at"),
        Index("ix_ownership_events_ticket", "ticket_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    kind: Mapped[EventKind] = mapped_column(str_enum(EventKind, 24))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    handoff_id: Mapped[int | None] = mapped_column(ForeignKey("handoff_requests.id"))
    from_member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    to_member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    reason: Mapped[str | None] = mapped_column(Text)
    platform: Mapped[Platform] = mapped_column(str_enum(Platform, 16))
    at: Mapped[datetime]
