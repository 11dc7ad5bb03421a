"""Frugal wow: team settings, proposals, votes, comments, and the messages the bot owes about them.

Money is stored as integer cents (`*_cents`) in the team's currency (`GestureSettings.currency`), so sums are
exact in SQL on SQLite and PostgreSQL alike.
"""

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
)
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, str_enum
from .core import Platform


class GestureStatus(enum.StrEnum):
    OPEN = "open"  # voting runs until the deadline
    AWAITING_LEAD = "awaiting-lead"  # the vote approved it, but it would exceed the monthly budget
    APPROVED = "approved"  # waiting to be delivered by its assignee
    DELIVERED = "delivered"
    REJECTED = "rejected"  # quorum reached, no majority for yes
    NO_QUORUM = "no-quorum"
    DECLINED = "declined"  # a lead declined an over-budget approval


class VoteChoice(enum.StrEnum):
    YES = "yes"
    NO = "no"


class GestureSettings(Base):
    """One row per team, created with defaults on first use."""

    __tablename__ = "gesture_settings"

    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True)
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    hide_results: Mapped[bool] = mapped_column(Boolean, default=False)
    quorum: Mapped[int] = mapped_column(Integer, default=3)
    monthly_budget_cents: Mapped[int | None] = mapped_column(Integer)  # None: no budget set, no limit
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    updated_at: Mapped[datetime]
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))


class GestureProposal(Base):
    """A proposed gesture for a customer. `anonymous`, `hide_results` and `quorum` are copied from the team's
    settings when it is proposed, so changing a setting never reveals the names on a running vote."""

    __tablename__ = "gesture_proposals"
    __table_args__ = (
        Index("ix_gesture_proposals_status_deadline", "status", "deadline"),
        Index("ix_gesture_proposals_team_status", "team_id", "status"),
        Index("ix_gesture_proposals_customer", "customer_id", "created_at"),
        Index("ix_gesture_proposals_assignee_status", "assignee_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    proposer_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    gesture: Mapped[str] = mapped_column(String(300))
    cost_cents: Mapped[int] = mapped_column(Integer, default=0)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[GestureStatus] = mapped_column(str_enum(GestureStatus, 16), default=GestureStatus.OPEN)
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    hide_results: Mapped[bool] = mapped_column(Boolean, default=False)
    quorum: Mapped[int] = mapped_column(Integer, default=3)
    over_budget_when_proposed: Mapped[bool] = mapped_column(Boolean, default=False)
    platform: Mapped[Platform] = mapped_column(str_enum(Platform, 16))
    channel_id: Mapped[str] = mapped_column(String(128))  # where the card lives
    created_at: Mapped[datetime]
    deadline: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    yes_votes: Mapped[int] = mapped_column(Integer, default=0)  # final counts, written at close
    no_votes: Mapped[int] = mapped_column(Integer, default=0)
    approved_at: Mapped[datetime | None]  # counts against the budget of this month (UTC)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))  # the lead who confirmed/declined
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    delivered_at: Mapped[datetime | None]
    delivered_by_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))


class GestureVote(Base):
    """One row per (proposal, member): the unique key makes double clicks and retries count once."""

    __tablename__ = "gesture_votes"
    __table_args__ = (UniqueConstraint("proposal_id", "member_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("gesture_proposals.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    choice: Mapped[VoteChoice] = mapped_column(str_enum(VoteChoice, 8))
    platform: Mapped[Platform] = mapped_column(str_enum(Platform, 16))
    voted_at: Mapped[datetime]
    changed_at: Mapped[datetime]


class GestureComment(Base):
    __tablename__ = "gesture_comments"
    __table_args__ = (Index("ix_gesture_comments_proposal", "proposal_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("gesture_proposals.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"))
    body: Mapped[str] = mapped_column(Text)
    platform: Mapped[Platform] = mapped_column(str_enum(Platform, 16))
    at: Mapped[datetime]


class GestureMessage(Base):
    """A message the bot owes about a proposal (an outbox row): the card, the outcome announcement, a direct
    message, a delivery reminder. Written in the same transaction as the change it reports; delivered after
    commit by whoever claims it first (`claimed_until` is a lease), so a crash, a restart or a second replica
    neither loses it nor sends it twice. `want_version` > `sent_version` means the message is out of date
    (`dirty`); `message_id` is the platform's id once it was posted, so later versions update it in place."""

    __tablename__ = "gesture_messages"
    __table_args__ = (
        UniqueConstraint("proposal_id", "purpose", "target"),
        Index("ix_gesture_messages_dirty_claimed", "dirty", "claimed_until"),
        Index("ix_gesture_messages_sent_at", "sent_at"),  # retention (jobs/retention.py)
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("gesture_proposals.id", ondelete="CASCADE"))
    purpose: Mapped[str] = mapped_column(String(40))  # card, outcome, outcome-dm, lead-confirm, reminder-<date>
    direct: Mapped[bool] = mapped_column(Boolean, default=False)  # a DM to `target` (a user id), else a channel
    target: Mapped[str] = mapped_column(String(128))
    platform: Mapped[Platform] = mapped_column(str_enum(Platform, 16))
    workspace: Mapped[str] = mapped_column(String(128))  # the platform's workspace / tenant id
    message_id: Mapped[str | None] = mapped_column(String(256))
    ref_channel_id: Mapped[str | None] = mapped_column(String(256))  # the channel the platform put it in
    want_version: Mapped[int] = mapped_column(Integer, default=1)
    sent_version: Mapped[int] = mapped_column(Integer, default=0)
    dirty: Mapped[bool] = mapped_column(Boolean, default=True)
    claimed_until: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]


__all__ = [
    "GestureComment",
    "GestureMessage",
    "GestureProposal",
    "GestureSettings",
    "GestureStatus",
    "GestureVote",
    "VoteChoice",
]
