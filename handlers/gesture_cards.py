"""Frugal wow cards and messages as neutral `Reply`s: the proposal card in the team's channel, its outcome, the
lead's over-budget request and the deliverer's reminders. Each platform renders them its own way; the gesture
sender (`jobs.gesture_sender`) posts and updates them, and the `wow` commands reuse the words.
"""

from __future__ import annotations

import logging

from db.models import GestureStatus
from gestures import outbox
from gestures.amounts import format_amount
from gestures.views import ProposalView

from .replies import ActionId, Button, Reply, when

log = logging.getLogger(__name__)

STATUS_WORDS = {
    GestureStatus.OPEN: "open for votes",
    GestureStatus.AWAITING_LEAD: "approved by vote, over budget: waiting for a lead",
    GestureStatus.APPROVED: "approved, waiting to be delivered",
    GestureStatus.DELIVERED: "delivered",
    GestureStatus.REJECTED: "not approved",
    GestureStatus.NO_QUORUM: "closed without quorum",
    GestureStatus.DECLINED: "declined by a lead (over budget)",
    GestureStatus.WITHDRAWN: "withdrawn before the vote closed",
}


def money(cents: int, currency: str) -> str:
    return format_amount(cents, currency) if cents else "free"


def title(view: ProposalView) -> str:
    return f"Frugal wow #{view.proposal.id} for {view.customer_name}: {view.proposal.gesture}"


def vote_fields(view: ProposalView) -> list[tuple[str, str]]:
    p, counts = view.proposal, view.tally
    quorum = f"quorum {p.quorum}"
    if p.status == GestureStatus.OPEN and p.hide_results:
        return [("Votes", f"{counts.total} vote(s) so far ({quorum}); results are hidden until the vote closes")]
    if p.anonymous:
        return [("Votes", f"{counts.yes} yes · {counts.no} no ({quorum}; anonymous)")]
    return [
        (f"Yes ({counts.yes})", ", ".join(counts.yes_names) or "nobody yet"),
        (f"No ({counts.no})", ", ".join(counts.no_names) or "nobody yet"),
        ("Quorum", str(p.quorum)),
    ]


def budget_field(view: ProposalView) -> list[tuple[str, str]]:
    if view.budget_cents is None:
        return []
    p = view.proposal
    used, budget = format_amount(view.used_cents, p.currency), format_amount(view.budget_cents, p.currency)
    line = f"{used} of {budget} used this month"
    fields = [("Budget", line)]
    if view.over_budget:
        fields.append(
            (
                "Over budget",
                f"{money(p.cost_cents, p.currency)} would bring this month to "
                f"{format_amount(view.used_cents + p.cost_cents, p.currency)}; "
                "approving it needs a lead's confirmation",
            )
        )
    return fields


def status_line(view: ProposalView) -> str:
    p = view.proposal
    if p.status == GestureStatus.OPEN:
        return f"open for votes until {when(p.deadline)}"
    if p.status == GestureStatus.APPROVED:
        confirmed = f", confirmed over budget by {view.decided_by_name}" if view.decided_by_name else ""
        return f"approved{confirmed}; {view.assignee_name or 'nobody'} delivers it"
    if p.status == GestureStatus.DELIVERED:
        delivered_at = p.delivered_at or p.closed_at or p.created_at
        return f"delivered by {view.delivered_by_name or 'someone'} on {when(delivered_at)}"
    if p.status == GestureStatus.NO_QUORUM:
        return f"closed without quorum ({view.tally.total} of {p.quorum} votes)"
    if p.status == GestureStatus.DECLINED:
        return f"declined by {view.decided_by_name or 'a lead'}: over budget"
    return STATUS_WORDS[p.status]


def lead_buttons(p_id: int) -> list[Button]:
    return [
        Button(
            "Confirm over budget",
            ActionId.GESTURE_CONFIRM_OVER_BUDGET,
            str(p_id),
            "primary",
            confirm=f"Approve gesture #{p_id} although it goes over the team's monthly budget?",
        ),
        Button(
            "Decline",
            ActionId.GESTURE_DECLINE_OVER_BUDGET,
            str(p_id),
            "danger",
            confirm=f"Decline gesture #{p_id}? The team voted for it; it will not be delivered.",
        ),
    ]


def render_card(view: ProposalView) -> Reply:
    p = view.proposal
    fields = [("Proposed by", view.proposer_name), ("Cost", money(p.cost_cents, p.currency))]
    fields += budget_field(view)
    fields += vote_fields(view)
    fields.append(("Status", status_line(view)))
    fields += [(f"Comment from {name}", body) for name, body in view.comments]
    buttons: list[Button] = []
    if p.status == GestureStatus.OPEN:
        value = str(p.id)
        buttons = [
            Button("Yes", ActionId.GESTURE_VOTE_YES, value, "primary"),
            Button("No", ActionId.GESTURE_VOTE_NO, value, "danger"),
            Button("Comment", ActionId.GESTURE_COMMENT, value),
        ]
    elif p.status == GestureStatus.AWAITING_LEAD:
        buttons = lead_buttons(p.id)
    elif p.status == GestureStatus.APPROVED:
        buttons = [Button("Mark delivered", ActionId.GESTURE_DELIVERED, str(p.id), "primary")]
    return Reply(title(view), fields=fields, buttons=buttons, ephemeral=False)


def outcome_text(view: ProposalView) -> str:
    p = view.proposal
    head = f"Gesture #{p.id} for {view.customer_name} ({p.gesture})"
    votes = f"{p.yes_votes} yes, {p.no_votes} no"
    if p.status == GestureStatus.NO_QUORUM:
        return f"{head} closed without quorum: {p.yes_votes + p.no_votes} of {p.quorum} votes."
    if p.status == GestureStatus.REJECTED:
        return f"{head} was not approved ({votes})."
    if p.status == GestureStatus.AWAITING_LEAD:
        return (
            f"{head} won the vote ({votes}) but would exceed {view.team_name}'s monthly budget: a lead must confirm it."
        )
    if p.status == GestureStatus.DECLINED:
        return f"{head} won the vote ({votes}), but {view.decided_by_name or 'a lead'} declined it: over budget."
    confirmed = f", confirmed over budget by {view.decided_by_name}" if view.decided_by_name else ""
    delivered = (
        " It has been delivered."
        if p.status == GestureStatus.DELIVERED
        else (f" {view.assignee_name or 'Nobody'} delivers it: `wow delivered {p.id}` when done.")
    )
    return f"{head} is approved ({votes}{confirmed}).{delivered}"


def render_outcome(view: ProposalView, *, for_user: str | None = None) -> Reply:
    p = view.proposal
    buttons: list[Button] = []
    if p.status == GestureStatus.AWAITING_LEAD and for_user is None:
        buttons = lead_buttons(p.id)
    if p.status == GestureStatus.APPROVED and for_user is not None and for_user == view.assignee_user_id:
        buttons = [Button("Mark delivered", ActionId.GESTURE_DELIVERED, str(p.id), "primary")]
    fields = [("Cost", money(p.cost_cents, p.currency)), *budget_field(view)]
    return Reply(outcome_text(view), fields=fields, buttons=buttons, ephemeral=for_user is not None)


def render_lead_request(view: ProposalView) -> Reply:
    p = view.proposal
    if p.status != GestureStatus.AWAITING_LEAD:
        return Reply(outcome_text(view))
    return Reply(
        f"Gesture #{p.id} for {view.customer_name} won the vote but would exceed {view.team_name}'s budget. "
        "Confirm it?",
        fields=[("Gesture", p.gesture), ("Cost", money(p.cost_cents, p.currency)), *budget_field(view)],
        buttons=lead_buttons(p.id),
    )


def render_delivery_request(view: ProposalView, *, reminder: bool) -> Reply | None:
    p = view.proposal
    if p.status != GestureStatus.APPROVED:
        return None  # delivered (or undone) before the reminder went out: nothing to say
    since = when(p.approved_at or p.closed_at or p.created_at)
    text = (
        f"Reminder: gesture #{p.id} for {view.customer_name} was approved on {since} and waits for you."
        if reminder
        else f"You were asked to deliver gesture #{p.id} for {view.customer_name}."
    )
    return Reply(
        text,
        fields=[("Gesture", p.gesture), ("Cost", money(p.cost_cents, p.currency))],
        buttons=[Button("Mark delivered", ActionId.GESTURE_DELIVERED, str(p.id), "primary")],
    )


def render_message(purpose: str, target: str, view: ProposalView) -> Reply | None:
    if purpose == outbox.CARD:
        return render_card(view)
    if purpose == outbox.OUTCOME:
        return render_outcome(view)
    if purpose == outbox.OUTCOME_DM:
        return render_outcome(view, for_user=target)
    if purpose == outbox.LEAD_CONFIRM:
        return render_lead_request(view)
    if purpose == outbox.ASSIGNED:
        return render_delivery_request(view, reminder=False)
    if purpose.startswith(outbox.REMINDER):
        return render_delivery_request(view, reminder=True)
    log.warning("no renderer for gesture message purpose %r", purpose)
    return None
