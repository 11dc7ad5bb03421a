"""The leads' board: one row per ticket that needs attention, with all its problems, ordered by urgency.

Each row has the customer's tier, the ticket's priority, its age and how far past due it is (the earliest stale
or service-level deadline it missed), its owner and team, and links: the helpdesk's page when the ticket came
from a webhook (HELPDESK_TICKET_URLS), and the chat message of its latest nudge in Slack or Teams when one was
sent. Filters by team, tier and owner. `urgency_key` is the one ordering (tier x priority, then how far past
due); read-only queries returning plain dataclasses.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import quote, urlencode

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import (
    Customer,
    Member,
    NudgeDelivery,
    NudgeEpisode,
    NudgeKind,
    Priority,
    Team,
    Ticket,
    TicketStatus,
    Tier,
    Workspace,
)
from nudges.levels import ServiceLevels
from nudges.rules import Evaluation, needs_on_its_calendar
from nudges.settings import NudgeSettings
from nudges.urgency import UrgencyKey
from nudges.urgency import urgency_key as ticket_urgency_key

PROBLEMS = (NudgeKind.SLA_BREACH, NudgeKind.STALE, NudgeKind.UNHAPPY, NudgeKind.HOT_POTATO)
LATE = (NudgeKind.SLA_BREACH, NudgeKind.STALE)
NOBODY = "nobody"


@dataclass(frozen=True)
class Link:
    label: str  # "Zendesk", "Slack", "Teams"
    url: str


@dataclass(frozen=True)
class BoardRow:
    id: int
    customer: str
    subject: str
    owner: str | None
    team: str | None
    tier: str
    priority: str
    status: str
    opened_at: datetime
    age: timedelta
    overdue_by: timedelta | None  # None: not past any deadline (unhappy, hot potato)
    problems: list[str]
    links: list[Link] = field(default_factory=list)


@dataclass(frozen=True)
class BoardFilter:
    team: str | None = None
    tier: str | None = None
    owner: str | None = None  # a display name, or "nobody"

    def keeps(self, row: BoardRow) -> bool:
        return (
            (self.team is None or (row.team or "").casefold() == self.team.casefold())
            and (self.tier is None or row.tier == self.tier.casefold())
            and (self.owner is None or (row.owner or NOBODY).casefold() == self.owner.casefold())
        )


def urgency_key(row: BoardRow) -> UrgencyKey:
    """Most urgent first, as every list orders (`nudges.urgency`): tier x priority, then the furthest past due."""
    return ticket_urgency_key(
        tier=Tier(row.tier), priority=Priority(row.priority), past_due=row.overdue_by, ident=row.id
    )


def order_by_urgency(rows: list[BoardRow]) -> list[BoardRow]:
    return sorted(rows, key=urgency_key)


def helpdesk_link(templates: Mapping[str, str], source: str, ref: str | None) -> Link | None:
    """`{"zendesk": "https://acme.zendesk.com/agent/tickets/{ref}"}` -> the ticket's page at its helpdesk."""
    template = templates.get(source)
    if template is None or not ref:
        return None
    return Link(source.capitalize(), template.replace("{ref}", quote(ref, safe="")))


def chat_link(platform: str, team_id: str, channel: str | None, message_id: str | None) -> Link | None:
    """A deep link to the chat message of a nudge: Slack's app redirect, Teams' message link."""
    if not channel:
        return None
    if platform == "slack":
        query = {"team": team_id, "channel": channel}
        if message_id:
            query["message_ts"] = message_id
        return Link("Slack", "https://slack.com/app_redirect?" + urlencode(query))
    if platform == "teams" and message_id:
        context = '{"contextType":"chat"}'
        params = urlencode({"tenantId": team_id, "context": context})
        return Link(
            "Teams", f"https://teams.microsoft.com/l/message/{quote(channel, safe='')}/{quote(message_id)}?{params}"
        )
    return None


async def _latest_messages(session: AsyncSession, ticket_ids: list[int]) -> dict[int, tuple[str, str, str | None]]:
    """Per ticket, the platform, channel and message id of its latest sent nudge."""
    if not ticket_ids:
        return {}
    rows = await session.execute(
        select(
            NudgeEpisode.ticket_id,
            NudgeDelivery.message_platform,
            NudgeDelivery.message_channel,
            NudgeDelivery.message_id,
        )
        .join(NudgeEpisode, NudgeEpisode.id == NudgeDelivery.episode_id)
        .where(
            NudgeEpisode.ticket_id.in_(ticket_ids),
            NudgeDelivery.message_channel.is_not(None),
            NudgeDelivery.sent_at.is_not(None),
        )
        .order_by(NudgeDelivery.sent_at)
    )
    found: dict[int, tuple[str, str, str | None]] = {}
    for ticket_id, platform, channel, message_id in rows.all():
        if ticket_id is not None and platform and channel:
            found[ticket_id] = (platform, channel, message_id)
    return found


async def board(
    session: AsyncSession,
    *,
    workspace: Workspace,
    now: datetime,
    policy: NudgeSettings,
    helpdesk_urls: Mapping[str, str] | None = None,
    keep: BoardFilter | None = None,
) -> list[BoardRow]:
    """Every live ticket with at least one problem (past a deadline, unhappy, a hot potato), most urgent first."""
    levels = ServiceLevels(session)
    members = {
        m.id: m for m in (await session.execute(select(Member).where(Member.workspace_id == workspace.id))).scalars()
    }
    teams = dict((await session.execute(select(Team.id, Team.name).where(Team.workspace_id == workspace.id))).all())
    rows = (
        await session.execute(
            select(Ticket, Customer)
            .join(Customer, Customer.id == Ticket.customer_id)
            .where(
                Ticket.workspace_id == workspace.id,
                Ticket.status.in_((TicketStatus.OPEN, TicketStatus.PENDING, TicketStatus.RESOLVED)),
                Ticket.opened_at <= now,
            )
        )
    ).all()
    found: list[BoardRow] = []
    for ticket, customer in rows:
        evaluation = Evaluation(ticket.workspace_id)
        calendar = await needs_on_its_calendar(session, levels, evaluation, ticket, customer, policy=policy, now=now)
        needs = evaluation.needs
        problems = [n for n in needs if n.kind in PROBLEMS]
        if not problems:
            continue
        late = [n.starts_at for n in problems if n.kind in LATE]
        owner = members.get(ticket.owner_id) if ticket.owner_id else None
        team_id = (owner.team_id if owner else None) or customer.team_id
        found.append(
            BoardRow(
                id=ticket.id,
                customer=customer.name,
                subject=ticket.subject,
                owner=owner.display_name if owner else None,
                team=teams.get(team_id) if team_id else None,
                tier=customer.tier.value,
                priority=ticket.priority.value,
                status=ticket.status.value,
                opened_at=ticket.opened_at,
                age=now - ticket.opened_at,
                overdue_by=calendar.between(min(late), now) if late else None,  # business time on its calendar
                problems=[n.detail for n in problems],
                links=[link]
                if (link := helpdesk_link(helpdesk_urls or {}, ticket.source, ticket.external_ref))
                else [],
            )
        )
    if keep is not None:
        found = [row for row in found if keep.keeps(row)]
    messages = await _latest_messages(session, [row.id for row in found])
    for row in found:
        if row.id in messages and (link := chat_link(*_message_args(workspace, messages[row.id]))):
            row.links.append(link)
    return order_by_urgency(found)


def _message_args(
    workspace: Workspace, message: tuple[str, str, str | None]
) -> tuple[str, str, str | None, str | None]:
    platform, channel, message_id = message
    return platform, workspace.external_id, channel, message_id


async def unowned_open_tickets(session: AsyncSession, *, workspace: Workspace, now: datetime) -> int:
    """Open tickets nobody owns: the `nobody` line of the load table."""
    return len(
        (
            await session.execute(
                select(Ticket.id).where(
                    Ticket.workspace_id == workspace.id,
                    Ticket.owner_id.is_(None),
                    Ticket.status.in_((TicketStatus.OPEN, TicketStatus.PENDING)),
                    Ticket.opened_at <= now,
                )
            )
        ).all()
    )
