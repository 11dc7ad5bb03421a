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
from .tickets import CustomerIdea, TicketEvent, TicketEventKind, WebhookDelivery

__all__ = [
    "Base",
    "Customer",
    "CustomerIdea",
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
    "TicketEvent",
    "TicketEventKind",
    "TicketStatus",
    "Tier",
    "UTCDateTime",
    "WebhookDelivery",
    "Workspace",
]
