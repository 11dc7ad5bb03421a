"""All tables. Import every model module here so alembic autogenerate sees them."""
from .base import Base, UTCDateTime
from .core import (
    Customer,
    EventKind,
    HandoffRequest,
    HandoffStatus,
    Member,
    Mood,
    OwnershipEvent,
    Platform,
    Priority,
    Role,
    Team,
    Ticket,
    TicketStatus,
    Tier,
    Workspace,
)
from .teams import TeamsConversation, TeamsMember

__all__ = [
    "Base",
    "Customer",
    "EventKind",
    "HandoffRequest",
    "HandoffStatus",
    "Member",
    "Mood",
    "OwnershipEvent",
    "Platform",
    "Priority",
    "Role",
    "Team",
    "Ticket",
    "TicketStatus",
    "TeamsConversation",
    "TeamsMember",
    "Tier",
    "UTCDateTime",
    "Workspace",
]
