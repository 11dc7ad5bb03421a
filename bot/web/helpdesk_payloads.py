"""Helpdesk webhook bodies (generic JSON, Zendesk, Freshdesk) read into one neutral `HelpdeskEvent`.

`read_helpdesk_event` is pure: it turns a decoded JSON body into a `HelpdeskEvent` or raises `InvalidInput`
with a message that names the missing or wrong field; nothing is written. The domain applies the event
(`ownership.helpdesk.apply_helpdesk_event`) and never sees a helpdesk's JSON. Field mapping for every shape:
docs/webhooks.md.
"""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime
from typing import Any

from db.models import Priority, TicketStatus
from ownership import tickets
from ownership.errors import InvalidInput
from ownership.helpdesk import HelpdeskCustomer, HelpdeskEvent
from ownership.text import storable

GENERIC_EVENTS = ("created", "updated", "commented", "solved")
STATUS_WORDS = {
    "new": TicketStatus.OPEN,
    "open": TicketStatus.OPEN,
    "opened": TicketStatus.OPEN,
    "reopened": TicketStatus.OPEN,
    "waiting on third party": TicketStatus.OPEN,
    "pending": TicketStatus.PENDING,
    "hold": TicketStatus.PENDING,
    "on-hold": TicketStatus.PENDING,
    "on hold": TicketStatus.PENDING,
    "waiting on customer": TicketStatus.PENDING,
    "solved": TicketStatus.RESOLVED,
    "resolved": TicketStatus.RESOLVED,
    "closed": TicketStatus.CLOSED,
}
FRESHDESK_STATUS_CODES = {
    "2": TicketStatus.OPEN,
    "3": TicketStatus.PENDING,
    "4": TicketStatus.RESOLVED,
    "5": TicketStatus.CLOSED,
}
PRIORITY_WORDS = {
    "urgent": Priority.URGENT,
    "high": Priority.HIGH,
    "normal": Priority.NORMAL,
    "medium": Priority.NORMAL,
    "low": Priority.LOW,
}
FRESHDESK_PRIORITY_CODES = {"1": Priority.LOW, "2": Priority.NORMAL, "3": Priority.HIGH, "4": Priority.URGENT}
GOOD_RATINGS = {"good", "happy", "extremely happy", "awesome", "satisfied", "positive", "great"}
BAD_RATINGS = {"bad", "unhappy", "extremely unhappy", "not good", "dissatisfied", "negative", "poor"}
TAG = re.compile(r"<[^>]+>")
MAX_REF = 128
MAX_UPDATED = 80  # webhook_deliveries.updated
MAX_SOURCE = 32


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, (dict, list)):
        return None
    text = storable(str(value)).strip()  # NUL and lone surrogates can't be stored: dropped
    return text or None


def _id(value: Any, what: str) -> str:
    text = _text(value)
    if text is None:
        raise InvalidInput(f"Missing field: {what}.")
    if len(text) > MAX_REF:
        raise InvalidInput(f"{what} is longer than {MAX_REF} characters.")
    return text


def _optional_id(value: Any, what: str) -> str | None:
    return _id(value, what) if _text(value) is not None else None


def _object(value: Any, what: str, required: bool = True) -> dict[str, Any]:
    if value is None and not required:
        return {}
    if not isinstance(value, dict):
        raise InvalidInput(f"Missing field: {what} (a JSON object).")
    return value


def _time(value: Any) -> datetime | None:
    text = _text(value)
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _lookup(value: Any, what: str, words: dict[str, Any], codes: dict[str, Any], kind: str, known: str) -> Any:
    """A helpdesk's word (any case) or Freshdesk's numeric code for a status or priority; None when absent."""
    text = _text(value)
    if text is None:
        return None
    found = words.get(text.lower()) or codes.get(text)
    if found is None:
        raise InvalidInput(f'{what} "{text[:40]}" is not a {kind} we know ({known}).')
    return found


def _status(value: Any, what: str) -> TicketStatus | None:
    return _lookup(value, what, STATUS_WORDS, FRESHDESK_STATUS_CODES, "status", "open, pending, solved, closed")  # type: ignore[no-any-return]


def _priority(value: Any, what: str) -> Priority | None:
    return _lookup(value, what, PRIORITY_WORDS, FRESHDESK_PRIORITY_CODES, "priority", "urgent, high, normal, low")  # type: ignore[no-any-return]


def _rating(value: Any, what: str) -> str | None:
    text = _text(value)
    if text is None:
        return None
    word = text.lower().replace("_", " ")
    if word in GOOD_RATINGS:
        return "good"
    if word in BAD_RATINGS:
        return "bad"
    if word in ("neutral", "offered", "unoffered"):
        return None
    raise InvalidInput(f'{what} "{text[:40]}" is not a rating we know (good or bad).')


def _plain(body: Any) -> str | None:
    """Comment text without HTML, cut to what a note holds (a long email thread must not fail the delivery)."""
    text = _text(body)
    if text is None:
        return None
    return " ".join(html.unescape(TAG.sub(" ", text)).split())[: tickets.MAX_NOTE] or None


def _subject(value: Any) -> str | None:
    text = _text(value)
    return " ".join(text.split())[: tickets.MAX_SUBJECT] if text else None


def read_helpdesk_event(payload: Any, *, body_digest: str) -> HelpdeskEvent:
    """Recognise the shape (Zendesk event, Freshdesk automation template, or generic) and read it."""
    if not isinstance(payload, dict):
        raise InvalidInput("The body must be a JSON object.")
    if str(payload.get("type", "")).startswith("zen:event-type:"):
        event = _read_zendesk(payload)
    elif "freshdesk_webhook" in payload:
        event = _read_freshdesk(_object(payload["freshdesk_webhook"], "freshdesk_webhook"), body_digest)
    else:
        event = _read_generic(payload)
    if len(event.updated) > MAX_UPDATED:
        raise InvalidInput(f"The update time is longer than {MAX_UPDATED} characters.")
    if len(event.source) > MAX_SOURCE:
        raise InvalidInput(f"source is longer than {MAX_SOURCE} characters.")
    return event


def _read_generic(payload: dict[str, Any]) -> HelpdeskEvent:
    kind = _text(payload.get("event"))
    if kind is None:
        raise InvalidInput(f"Missing field: event (one of {', '.join(GENERIC_EVENTS)}).")
    kind = kind.removeprefix("ticket.")
    if kind not in GENERIC_EVENTS:
        raise InvalidInput(f'event "{kind[:40]}" is not one of {", ".join(GENERIC_EVENTS)}.')
    ticket = _object(payload.get("ticket"), "ticket")
    ticket_ref = _id(ticket.get("id"), "ticket.id")
    updated = _text(payload.get("updated_at")) or _text(ticket.get("updated_at"))
    if updated is None:
        raise InvalidInput("Missing field: updated_at (the helpdesk's update time, so a redelivery applies once).")
    customer = _object(payload.get("customer"), "customer", required=False)
    comment = _object(payload.get("comment"), "comment", required=kind == "commented")
    body = _plain(comment.get("body"))
    if kind == "commented" and body is None:
        raise InvalidInput("Missing field: comment.body.")
    author = (_text(comment.get("author")) or "customer").lower()
    if comment and author not in ("customer", "agent"):
        raise InvalidInput('comment.author must be "customer" or "agent".')
    csat = _object(payload.get("csat"), "csat", required=False)
    status = _status(ticket.get("status"), "ticket.status")
    if kind == "solved" and status is None:
        status = TicketStatus.RESOLVED
    return HelpdeskEvent(
        source=(_text(payload.get("source")) or "helpdesk")[:32].lower(),
        kind=kind,
        ref=_id(payload.get("event_id"), "event_id") if payload.get("event_id") is not None else ticket_ref,
        updated=updated[:80],
        ticket_ref=ticket_ref,
        subject=_subject(ticket.get("subject")),
        status=status,
        priority=_priority(ticket.get("priority"), "ticket.priority"),
        occurred_at=_time(updated),
        customer=HelpdeskCustomer(
            _optional_id(customer.get("external_id"), "customer.external_id"),
            _text(customer.get("name")),
            _text(customer.get("email")),
        ),
        comment=body,
        comment_from_customer=author == "customer",
        csat=_rating(csat.get("rating"), "csat.rating"),
        csat_comment=_text(csat.get("comment")),
    )


ZENDESK_KINDS = {"created": "created", "comment_added": "commented"}


def _read_zendesk(payload: dict[str, Any]) -> HelpdeskEvent:
    """Zendesk event webhooks (`zen:event-type:ticket.*`): detail = the ticket, event = what changed."""
    event_type = str(payload["type"]).removeprefix("zen:event-type:")
    if not event_type.startswith("ticket."):
        raise InvalidInput(f'Only ticket events are read; "{event_type[:60]}" is not one.')
    detail = _object(payload.get("detail"), "detail")
    change = _object(payload.get("event"), "event", required=False)
    ticket_ref = _id(detail.get("id"), "detail.id")
    updated = _text(payload.get("time")) or _text(detail.get("updated_at"))
    if updated is None:
        raise InvalidInput("Missing field: time (or detail.updated_at).")
    name = event_type.removeprefix("ticket.")
    kind = ZENDESK_KINDS.get(name, "updated")
    status = _status(detail.get("status"), "detail.status")
    if kind == "updated" and status == TicketStatus.RESOLVED:
        kind = "solved"
    comment = _object(change.get("comment"), "event.comment", required=False)
    author = _object(comment.get("author"), "event.comment.author", required=False)
    body = _plain(comment.get("body"))
    if kind == "commented" and body is None:
        raise InvalidInput("Missing field: event.comment.body.")
    organization = _optional_id(detail.get("organization_id"), "detail.organization_id")
    requester = _optional_id(detail.get("requester_id"), "detail.requester_id")
    if organization and organization != "0":
        customer = HelpdeskCustomer(external_id=organization)
    elif requester:
        customer = HelpdeskCustomer(external_id=f"zendesk-requester-{requester}", name=f"Zendesk requester {requester}")
    else:
        customer = HelpdeskCustomer()
    rating = _object(detail.get("satisfaction_rating"), "detail.satisfaction_rating", required=False)
    return HelpdeskEvent(
        source="zendesk",
        kind=kind,
        ref=_id(payload.get("id"), "id") if payload.get("id") is not None else ticket_ref,
        updated=updated[:80],
        ticket_ref=ticket_ref,
        subject=_subject(detail.get("subject")),
        status=status,
        priority=_priority(detail.get("priority"), "detail.priority"),
        occurred_at=_time(updated),
        customer=customer,
        comment=body,
        comment_from_customer=not bool(author.get("is_staff")),
        csat=_rating(rating.get("score"), "detail.satisfaction_rating.score"),
        csat_comment=_text(rating.get("comment")),
    )


FRESHDESK_EVENTS = {
    "created": "created",
    "updated": "updated",
    "customer_replied": "commented",
    "agent_replied": "commented",
    "note_added": "commented",
    "resolved": "solved",
    "feedback": "updated",
}


def _read_freshdesk(body: dict[str, Any], digest: str) -> HelpdeskEvent:
    """A Freshdesk automation rule's "Trigger webhook" with the JSON template in docs/webhooks.md."""
    ticket_ref = _id(body.get("ticket_id"), "freshdesk_webhook.ticket_id")
    event = (_text(body.get("ticket_event")) or "updated").lower()
    if event not in FRESHDESK_EVENTS:
        raise InvalidInput(
            f'freshdesk_webhook.ticket_event "{event[:40]}" is not one of {", ".join(FRESHDESK_EVENTS)}.'
        )
    kind = FRESHDESK_EVENTS[event]
    comment = _plain(body.get("ticket_latest_public_comment")) if kind == "commented" else None
    if kind == "commented" and comment is None:
        raise InvalidInput("Missing field: freshdesk_webhook.ticket_latest_public_comment.")
    updated = _text(body.get("ticket_updated_at")) or f"sha256:{digest}"
    status = _status(body.get("ticket_status"), "freshdesk_webhook.ticket_status")
    if kind == "solved" and status is None:
        status = TicketStatus.RESOLVED
    return HelpdeskEvent(
        source="freshdesk",
        kind=kind,
        ref=ticket_ref,
        updated=updated[:80],
        ticket_ref=ticket_ref,
        subject=_subject(body.get("ticket_subject")),
        status=status,
        priority=_priority(body.get("ticket_priority"), "freshdesk_webhook.ticket_priority"),
        occurred_at=_time(body.get("ticket_updated_at")),
        customer=HelpdeskCustomer(
            _optional_id(body.get("ticket_company_id"), "freshdesk_webhook.ticket_company_id"),
            _text(body.get("ticket_company_name")),
            _text(body.get("ticket_requester_email")),
        ),
        comment=comment,
        comment_from_customer=event != "agent_replied" and event != "note_added",
        csat=_rating(body.get("ticket_satisfaction_rating"), "freshdesk_webhook.ticket_satisfaction_rating"),
        csat_comment=_text(body.get("ticket_satisfaction_comment")),
    )
