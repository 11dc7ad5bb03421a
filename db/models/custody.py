"""Custody: for a while, someone else looks after a customer while its owner stays the named owner.

A step-out (the owner steps away from an abusive customer) or cover (the owner is away). The keeper gets the
customer's nudges and notices; ownership, re-assign counts and hot potatoes do not change. It ends by itself at
`until`, or when the owner steps back / comes back.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, str_enum
from .core import Platform


class CustodyKind(enum.StrEnum):
    STEP_OUT = "step-out"
    AWAY_COVER = "away-cover"


class CustodyStatus(enum.StrEnum):
    OFFERED = "offered"  # a named colleague has not accepted yet: the owner still has it
    ACTIVE = "active"
    ENDED = "ended"
    DECLINED = "declined"


OPEN_CUSTODY = "status IN ('offered', 'active')"


class Custody(Base):
    __tablename__ = "custodies"
    __table_args__ = (
        Index(
            "uq_custodies_one_open",
            "customer_id",
            unique=True,
            sqlite_where=text(OPEN_CUSTODY),
            postgresql_where=text(OPEN_CUSTODY),
        ),
        Index("ix_custodies_status_until", "status", "until"),
        Index("ix_custodies_keeper_status", "keeper_id", "status"),
        Index("ix_custodies_owner_status", "owner_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"))
    kind: Mapped[CustodyKind] = mapped_column(str_enum(CustodyKind, 16))
    status: Mapped[CustodyStatus] = mapped_column(str_enum(CustodyStatus, 16), default=CustodyStatus.ACTIVE)
    owner_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    keeper_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    reason: Mapped[str] = mapped_column(Text)
    platform: Mapped[Platform] = mapped_column(str_enum(Platform, 16))
    requested_at: Mapped[datetime]
    starts_at: Mapped[datetime | None]
    until: Mapped[datetime | None]  # None: until the owner is back (away cover)
    ended_at: Mapped[datetime | None]
    ended_by_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    end_reason: Mapped[str | None] = mapped_column(Text)
