"""Nudges as neutral `Reply`s: one nudge with its Done / Snooze / Hand off buttons, a bundle past the daily cap,
and a lead's morning digest. The nudge sweep (`jobs.nudge_sweep`) renders with these and sends the result.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Customer, HandoffRequest, Member, NudgeKind, SubjectKind, Ticket
from nudges.delivery import Message
from nudges.digest import Digest, build_digest
from nudges.rules import LADDERS
from nudges.settings import NudgeSettings
from ownership.people import is_lead

from .exposure import with_exposure
from .replies import ActionId, Button, Reply, person

HEADLINES = {
    NudgeKind.STALE: "{subject} has had no update for a while.",
    NudgeKind.SLA_WARNING: "{subject} is about to miss its service level.",
    NudgeKind.SLA_BREACH: "{subject} missed its service level.",
    NudgeKind.UNHAPPY: "{subject}: the customer is unhappy and waiting for a follow-up.",
    NudgeKind.CHECK_IN: "{subject} was resolved a few days ago. Is the customer really happy?",
    NudgeKind.HANDOFF_NOT_ACCEPTED: "A handoff of {subject} is waiting for an answer.",
    NudgeKind.UNOWNED_CUSTOMER: "{subject} has no owner.",
    NudgeKind.HOT_POTATO: "{subject} keeps changing hands.",
    NudgeKind.DELIVERY_FAILED: "A nudge about {subject} could not be delivered.",
}


@dataclass(frozen=True)
class NudgeText:
    subject: str
    customer: Customer | None
    ticket: Ticket | None


async def describe(
    session: AsyncSession,
    message_episode_subject: tuple[SubjectKind, int],
    ticket_id: int | None,
    customer_id: int | None,
) -> NudgeText:
    kind, subject_id = message_episode_subject
    ticket = await session.get(Ticket, ticket_id) if ticket_id else None
    customer = await session.get(Customer, customer_id) if customer_id else None
    if kind == SubjectKind.HANDOFF:
        handoff = await session.get(HandoffRequest, subject_id)
        if handoff is not None and customer is None:
            customer = await session.get(Customer, handoff.customer_id)
    if ticket is not None:
        name = customer.name if customer else "?"
        return NudgeText(f"Ticket #{ticket.id} ({name}: {ticket.subject})", customer, ticket)
    if customer is not None:
        return NudgeText(customer.name, customer, None)
    return NudgeText("something", None, None)


def nudge_buttons(
    delivery_id: int, kind: NudgeKind, customer: Customer | None, recipient: Member | None = None
) -> list[Button]:
    value = str(delivery_id)
    if kind == NudgeKind.CHECK_IN:
        buttons = [
            Button("Customer is happy", ActionId.NUDGE_DONE, value, "primary"),
            Button("Not happy", ActionId.NUDGE_NOT_HAPPY, value, "danger"),
        ]
    else:
        buttons = [Button("Done", ActionId.NUDGE_DONE, value, "primary")]
    buttons += [
        Button("Snooze 1h", ActionId.NUDGE_SNOOZE, f"{value}:1h"),
        Button("Snooze 4h", ActionId.NUDGE_SNOOZE, f"{value}:4h"),
        Button("Snooze to next working morning", ActionId.NUDGE_SNOOZE, f"{value}:morning"),
    ]
    may_hand_off = recipient is None or recipient.id == (customer.owner_id if customer else None) or is_lead(recipient)
    if (
        customer is not None
        and customer.owner_id is not None
        and kind != NudgeKind.HANDOFF_NOT_ACCEPTED
        and may_hand_off  # a delegate who is not a lead cannot hand someone else's customer off: no button
    ):
        buttons.append(Button("Hand off", ActionId.NUDGE_HANDOFF, value))
    return buttons


async def _escalated_from(session: AsyncSession, step: int, kind: NudgeKind, why: str | None) -> str | None:
    if step == 0:
        return None
    ladder = LADDERS.get(kind, ())
    previous = ladder[step - 1] if step - 1 < len(ladder) else "the owner"
    if why:  # the planner's reason: "Sam is off until 09:00 Berlin, so it came to you at its own time."
        return f"It climbed to you from the {previous}: {why}"
    return f"Nobody acted on it after it went to the {previous}, so it climbed to you."


async def render_message(session: AsyncSession, message: Message, policy: NudgeSettings, now: datetime) -> Reply:
    if message.bundle:
        fields: list[tuple[str, str]] = []
        buttons: list[Button] = []
        for delivery in message.deliveries:
            episode = message.episodes[delivery.episode_id]
            text = await describe(
                session, (episode.subject_kind, episode.subject_id), episode.ticket_id, episode.customer_id
            )
            fields.append((f"{episode.kind.value}: {text.subject}", episode.detail))
            buttons.append(Button(f"Done #{delivery.id}", ActionId.NUDGE_DONE, str(delivery.id)))
        return Reply(
            f"You reached today's limit of {policy.daily_cap} nudges, so here are the other "
            f"{len(message.deliveries)} in one message.",
            fields=fields,
            buttons=buttons[:25],
        )
    delivery = message.deliveries[0]
    episode = message.episodes[delivery.episode_id]
    if delivery.kind == NudgeKind.DIGEST:
        digest = await build_digest(session, lead=message.recipient, now=now, policy=policy)
        return await with_exposure(session, render_digest(digest, now), digest, now=now, policy=policy)
    text = await describe(session, (episode.subject_kind, episode.subject_id), episode.ticket_id, episode.customer_id)
    headline = HEADLINES[delivery.kind].format(subject=text.subject)
    fields = [("Why", episode.detail)]
    if text.customer is not None:
        owner = await session.get(Member, text.customer.owner_id) if text.customer.owner_id else None
        fields.append(
            (
                "Customer",
                f"{text.customer.name} ({text.customer.tier.value}), owner: {person(owner) if owner else 'nobody'}",
            )
        )
    if text.ticket is not None:
        fields.append(("Ticket", f"#{text.ticket.id} [{text.ticket.status.value}, {text.ticket.priority.value}]"))
    climbed = await _escalated_from(session, delivery.step, delivery.kind, delivery.why)
    if climbed:
        fields.append(("Escalation", climbed))
    if delivery.audience == "delegate":
        fields.append(("Delegated", f"You are the delegate of someone who is away. {delivery.why or ''}".strip()))
    if delivery.audience == "cover":
        fields.append(("Covering", "You look after this customer for its owner for now (a step-out or away cover)."))
    if delivery.round > 0:
        fields.append(("Reminder", "You snoozed this earlier."))
    if delivery.kind == NudgeKind.DELIVERY_FAILED:
        fields.append(("Delivery", delivery.error or "the platform refused it"))
        return Reply(
            headline, fields=fields, buttons=[Button("Done", ActionId.NUDGE_DONE, str(delivery.id), "primary")]
        )
    if delivery.kind == NudgeKind.HANDOFF_NOT_ACCEPTED and episode.subject_kind == SubjectKind.HANDOFF:
        fields.append(("Answer it", "`accept <customer>` or `decline <customer> <reason>`"))
    buttons = nudge_buttons(delivery.id, delivery.kind, text.customer, message.recipient)
    if delivery.audience == "owner" and text.ticket is not None and abusive(text.ticket):
        buttons.append(Button("Step out", ActionId.STEP_OUT, str(text.ticket.id)))  # handlers.custody
    return Reply(headline, fields=fields, buttons=buttons)


def abusive(ticket: Ticket) -> bool:
    """The ticket is unhappy because the customer was abusive (ownership.abuse): its owner may step out."""
    return (ticket.mood_reason or "").startswith("abusive message")


def render_digest(digest: Digest, now: datetime) -> Reply:
    def tickets(rows: list, extra: bool = False) -> str:  # type: ignore[type-arg]
        if not rows:
            return "none"
        parts = [f"#{r[0].id} {r[1].name}" + (f" ({r[2]})" if extra else "") for r in rows[:10]]
        more = f" and {len(rows) - 10} more" if len(rows) > 10 else ""
        return "; ".join(parts) + more

    fields = [
        ("Stale tickets", tickets(digest.stale)),
        ("Service-level breaches", tickets(digest.breaches, extra=True)),
        ("Unhappy customers", tickets(digest.unhappy, extra=True)),
        ("Unowned customers", ", ".join(c.name for c in digest.unowned[:15]) or "none"),
        ("Hot potatoes", "; ".join(f"{name} ({count} moves)" for name, count in digest.hot_potatoes[:10]) or "none"),
    ]
    for load in digest.load:
        flag = f"  ⚠ far above the team median of {digest.median_open:g}" if load.far_above_median else ""
        fields.append(
            (
                person(load.member),
                f"{load.customers} customer(s), {load.open_tickets} open ticket(s), {load.overdue} overdue{flag}",
            )
        )
    return Reply(f"Good morning {person(digest.lead)}: the {digest.team} digest for {now:%A %d %B}.", fields=fields)
