"""Nudge tables: service levels, the planner's check schedule, episodes (one per problem) and deliveries.

`nudge_checks` is the planner's to-do list: one row per watched subject (ticket, customer, handoff, lead) with
the moment it must be looked at again (`check_at`, indexed). The ORM hooks at the bottom put a subject back on
that list (check_at = EPOCH, "as soon as possible") whenever a row that could change its nudges is written
through the ORM, and a database trigger does the same for every ownership event (claims, handoffs, reassigns
and releases move customers with bulk UPDATEs; their audit event is the signal: migration 0015), so the planner
never has to scan all tickets: it reads only the rows that are due.
"""

from __future__ import annotations

import enum
import functools
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    bindparam,
    event,
    literal,
    select,
    union_all,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapped, Mapper, mapped_column

from .base import Base, one_of, str_enum
from .core import Customer, HandoffRequest, Member, Team, Ticket, TicketStatus, Tier

# "Look at this subject at the next tick": sorts before every real moment, and needs no clock.
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class SubjectKind(enum.StrEnum):
    TICKET = "ticket"
    CUSTOMER = "customer"
    HANDOFF = "handoff"
    MEMBER = "member"  # a lead: their daily digest


class NudgeKind(enum.StrEnum):
    STALE = "stale"
    SLA_WARNING = "sla-warning"
    SLA_BREACH = "sla-breach"
    UNHAPPY = "unhappy"
    CHECK_IN = "check-in"
    HANDOFF_NOT_ACCEPTED = "handoff-not-accepted"
    UNOWNED_CUSTOMER = "unowned-customer"
    HOT_POTATO = "hot-potato"
    DIGEST = "digest"
    DELIVERY_FAILED = "delivery-failed"


class DeliveryStatus(enum.StrEnum):
    PLANNED = "planned"  # waits for due_at (the recipient's working hours, a snooze)
    SENDING = "sending"  # claimed by a sweeper until lease_until; reclaimed when the lease expires
    SENT = "sent"
    BUNDLED = "bundled"  # sent inside one bundle message (the daily cap was reached)
    CANCELLED = "cancelled"  # the problem went away or was done before it was sent
    FAILED = "failed"  # the platform will never take it; the lead was told


class ServiceLevel(Base):
    """Targets per tier, in minutes for a normal-priority ticket (priority scales them).

    Rows with workspace_id NULL are the defaults seeded by the migration; `sla` writes a workspace's own row.
    """

    __tablename__ = "service_levels"
    __table_args__ = (UniqueConstraint("workspace_id", "tier"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int | None] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    tier: Mapped[Tier] = mapped_column(str_enum(Tier, 16))
    first_response_minutes: Mapped[int] = mapped_column(Integer)
    update_minutes: Mapped[int] = mapped_column(Integer)
    resolution_minutes: Mapped[int] = mapped_column(Integer)
    lead_after_minutes: Mapped[int] = mapped_column(Integer)  # this long after the breach: the lead hears
    admins_after_minutes: Mapped[int] = mapped_column(Integer)  # this long after the lead's step: admins hear
    clock: Mapped[str] = mapped_column(String(8), default="business", server_default="business")
    urgent_clock: Mapped[str] = mapped_column(String(8), default="business", server_default="business")
    updated_at: Mapped[datetime | None]


class NudgeCheck(Base):
    """The planner's schedule: look at this subject again at `check_at` (EPOCH = at the next tick)."""

    __tablename__ = "nudge_checks"
    __table_args__ = (
        UniqueConstraint("subject_kind", "subject_id"),
        Index("ix_nudge_checks_check_at", "check_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_kind: Mapped[SubjectKind] = mapped_column(str_enum(SubjectKind, 16))
    subject_id: Mapped[int] = mapped_column(Integer)
    check_at: Mapped[datetime]


class NudgeEpisode(Base):
    """One problem that needs a person: this ticket went stale since that activity, this customer is unhappy
    for that reason. Done ends it; Snooze postpones it (within a limit). Its deliveries climb the ladder."""

    __tablename__ = "nudge_episodes"
    __table_args__ = (
        UniqueConstraint("subject_kind", "subject_id", "kind", "episode"),
        Index("ix_nudge_episodes_ticket", "ticket_id"),
        Index("ix_nudge_episodes_customer", "customer_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    subject_kind: Mapped[SubjectKind] = mapped_column(str_enum(SubjectKind, 16))
    subject_id: Mapped[int] = mapped_column(Integer)
    kind: Mapped[NudgeKind] = mapped_column(str_enum(NudgeKind, 24))
    episode: Mapped[str] = mapped_column(String(80))  # what makes this occurrence distinct (e.g. the activity time)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    detail: Mapped[str] = mapped_column(Text, default="")
    started_at: Mapped[datetime]  # when the problem became due (the ladder's clock starts here)
    snoozed_until: Mapped[datetime | None]
    snoozes: Mapped[int] = mapped_column(Integer, default=0)
    done_at: Mapped[datetime | None]
    done_by_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    done_note: Mapped[str | None] = mapped_column(Text)


class NudgeDelivery(Base):
    """One message to one person for one step of an episode's ladder. Unique per (episode, step, recipient,
    round): planners insert with ON CONFLICT DO NOTHING, so re-planning never doubles a nudge."""

    __tablename__ = "nudge_deliveries"
    __table_args__ = (
        UniqueConstraint("episode_id", "step", "recipient_id", "round"),
        Index("ix_nudge_deliveries_status_due", "status", "due_at"),
        Index("ix_nudge_deliveries_status_lease", "status", "lease_until"),
        Index("ix_nudge_deliveries_recipient_sent", "recipient_id", "sent_at"),
        Index("ix_nudge_deliveries_planned_at", "planned_at"),  # retention (jobs/retention.py)
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    episode_id: Mapped[int] = mapped_column(ForeignKey("nudge_episodes.id", ondelete="CASCADE"))
    kind: Mapped[NudgeKind] = mapped_column(str_enum(NudgeKind, 24))
    step: Mapped[int] = mapped_column(Integer)  # 0 first audience (usually the owner), 1 the lead, 2 admins
    round: Mapped[int] = mapped_column(Integer, default=0)  # 0, then 1, 2 … for each snooze's reminder
    recipient_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    audience: Mapped[str] = mapped_column(String(24))  # owner, delegate, lead, admin, receiver
    urgent: Mapped[bool] = mapped_column(default=False)  # ignores working hours and the daily cap
    status: Mapped[DeliveryStatus] = mapped_column(str_enum(DeliveryStatus, 16), default=DeliveryStatus.PLANNED)
    planned_at: Mapped[datetime]
    due_at: Mapped[datetime]
    claimed_by: Mapped[str | None] = mapped_column(String(80))
    lease_until: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    sent_at: Mapped[datetime | None]
    bundle_id: Mapped[int | None] = mapped_column(Integer)  # the delivery whose message carried this one
    message_platform: Mapped[str | None] = mapped_column(String(16))
    message_channel: Mapped[str | None] = mapped_column(String(128))
    message_id: Mapped[str | None] = mapped_column(String(128))
    error: Mapped[str | None] = mapped_column(Text)
    why: Mapped[str | None] = mapped_column(Text)  # why it came to this person ("Sam is off until 09:00 Berlin")


# --- ORM hooks: whatever writes a ticket, customer or handoff asks for a re-check (ownership events: a trigger)

ACTIVE = (TicketStatus.OPEN.value, TicketStatus.PENDING.value)


def _upsert(dialect: str, rows: Any = None) -> Any:
    """INSERT … ON CONFLICT (subject) DO UPDATE SET check_at = EPOCH: of `rows` (a SELECT of kind, id, check_at),
    else of one subject whose `kind` and `subject_id` are bound at execution."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = NudgeCheck.__table__
    assert isinstance(table, Table)
    check_at = literal(EPOCH, table.c.check_at.type)
    if rows is None:
        statement = insert(table).values(
            subject_kind=bindparam("kind"), subject_id=bindparam("subject_id"), check_at=check_at
        )
    else:
        statement = insert(table).from_select(["subject_kind", "subject_id", "check_at"], rows)
    return statement.on_conflict_do_update(index_elements=["subject_kind", "subject_id"], set_={"check_at": check_at})


# Built once per dialect: a statement built at every write has no cache key, so SQLAlchemy would compile it anew
# each time (more CPU than the write).
_one = functools.cache(_upsert)


def recheck(connection: Connection, kind: SubjectKind, subject_id: int) -> None:
    connection.execute(_one(connection.dialect.name), {"kind": kind.value, "subject_id": subject_id})


@functools.cache
def _customer_and_tickets(dialect: str) -> Any:
    """The customer and its active tickets, in one INSERT … SELECT, built once per dialect (`customer_id`)."""
    tickets = Ticket.__table__
    customer_id = bindparam("customer_id", type_=Integer)
    check_at = literal(EPOCH, NudgeCheck.__table__.c.check_at.type)
    rows = union_all(
        select(literal(SubjectKind.CUSTOMER.value), customer_id, check_at),
        select(literal(SubjectKind.TICKET.value), tickets.c.id, check_at).where(
            tickets.c.customer_id == customer_id, one_of(tickets.c.status, ACTIVE)
        ),
    )
    return _upsert(dialect, rows)


def recheck_customer_and_tickets(connection: Connection, customer_id: int) -> None:
    """The customer and its active tickets, in one INSERT … SELECT (one write per ownership change)."""
    connection.execute(_customer_and_tickets(connection.dialect.name), {"customer_id": customer_id})


def recheck_workspace_tickets(connection: Connection, workspace_id: int) -> None:
    """Every active ticket of a workspace (its calendar changed), in one INSERT … SELECT."""
    tickets = Ticket.__table__
    rows = select(
        literal(SubjectKind.TICKET.value), tickets.c.id, literal(EPOCH, NudgeCheck.__table__.c.check_at.type)
    ).where(tickets.c.workspace_id == workspace_id, tickets.c.status.in_(ACTIVE))
    connection.execute(_upsert(connection.dialect.name, rows))


@event.listens_for(Ticket, "after_insert")
@event.listens_for(Ticket, "after_update")
def _ticket_written(_mapper: Mapper[Any], connection: Connection, target: Ticket) -> None:
    recheck(connection, SubjectKind.TICKET, target.id)


@event.listens_for(Customer, "after_insert")
@event.listens_for(Customer, "after_update")
def _customer_written(_mapper: Mapper[Any], connection: Connection, target: Customer) -> None:
    recheck_customer_and_tickets(connection, target.id)  # a new tier changes every ticket's targets


@event.listens_for(HandoffRequest, "after_insert")
@event.listens_for(HandoffRequest, "after_update")
def _handoff_written(_mapper: Mapper[Any], connection: Connection, target: HandoffRequest) -> None:
    recheck(connection, SubjectKind.HANDOFF, target.id)


@event.listens_for(Member, "after_insert")
@event.listens_for(Member, "after_update")
def _member_written(_mapper: Mapper[Any], connection: Connection, target: Member) -> None:
    recheck(connection, SubjectKind.MEMBER, target.id)  # role, working hours or time zone: the digest moves


@event.listens_for(Team, "after_update")
def _team_written(_mapper: Mapper[Any], connection: Connection, target: Team) -> None:
    if target.lead_id is not None:
        recheck(connection, SubjectKind.MEMBER, target.lead_id)
