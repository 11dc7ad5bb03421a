"""All tables. Import every model module here so alembic autogenerate sees them."""

from .base import Base, UTCDateTime
from .calendars import Holiday, SupportHours
from .channels import ChannelMessage, CustomerChannel
from .console import ConsoleReadMarker
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
from .custody import Custody, CustodyKind, CustodyStatus
from .gestures import (
    GestureComment,
    GestureProposal,
    GestureSettings,
    GestureStatus,
    GestureVote,
    VoteChoice,
)
from .nudges import (
    DeliveryStatus,
    NudgeCheck,
    NudgeDelivery,
    NudgeEpisode,
    NudgeKind,
    ServiceLevel,
    SubjectKind,
)
from .outbox import OutboxMessage, OutboxStatus
from .slack import SlackEvent
from .teams import TeamsConversation, TeamsMember
from .tickets import CustomerIdea, TicketEvent, TicketEventKind, WebhookDelivery

__all__ = [
    "Base",
    "ChannelMessage",
    "ConsoleReadMarker",
    "Custody",
    "CustodyKind",
    "CustodyStatus",
    "Customer",
    "CustomerChannel",
    "CustomerIdea",
    "DeliveryStatus",
    "EventKind",
    "GestureComment",
    "GestureProposal",
    "GestureSettings",
    "GestureStatus",
    "GestureVote",
    "HandoffRequest",
    "HandoffStatus",
    "Holiday",
    "Member",
    "Mood",
    "NudgeCheck",
    "NudgeDelivery",
    "NudgeEpisode",
    "NudgeKind",
    "OutboxMessage",
    "OutboxStatus",
    "OwnershipEvent",
    "Platform",
    "Priority",
    "Role",
    "ServiceLevel",
    "SlackEvent",
    "SubjectKind",
    "SupportHours",
    "Team",
    "TeamsConversation",
    "TeamsMember",
    "Ticket",
    "TicketEvent",
    "TicketEventKind",
    "TicketStatus",
    "Tier",
    "UTCDateTime",
    "VoteChoice",
    "WebhookDelivery",
    "Workspace",
]
