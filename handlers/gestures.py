"""Frugal wow: `wow …` commands, the vote / comment / confirm / delivered buttons, the proposal card, and the
scheduler's `close_due_proposals`.

Written once for every platform: cards are neutral `Reply`s posted to the team's channel through the platform's
`Notifier` and updated in place. What the bot owes is stored as rows (`gestures.outbox`) in the same transaction
as the change, and delivered right after commit by the request that made the change, or later by the ticker;
a lease on each row keeps two replicas from sending the same message.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import GestureMessage, GestureStatus, Platform, Team, VoteChoice
from gestures import budget as wow_budget
from gestures import closing, delivery, outbox, proposing, views, voting
from gestures.amounts import describe, format_amount, parse_amount, parse_duration
from ownership.customers import find_customer
from ownership.errors import InvalidInput, quote
from ownership.people import find_member

from .claims import need, when
from .parsing import split_options
from .ports import DeliveryFailed, MessageRef, Notifier
from .registry import Context, action, command
from .replies import ActionId, ActionInvocation, Button, Prompt, Reply

log = logging.getLogger(__name__)
GROUP = "Frugal wow"
PROPOSE_USAGE = "wow <customer> <gesture…> [--cost 15] [--deadline 24h]"
SETTINGS_USAGE = "wow settings [anonymous on|off | hide-results on|off | quorum N | currency EUR] [--team T]"
WOW_USAGE = (
    f"{PROPOSE_USAGE} · wow vote <id> yes|no · wow comment <id> <text…> · wow delivered <id> · "
    "wow assign <id> @member · wow list · wow history <customer> · wow budget [amount] [--team T] · "
    f"{SETTINGS_USAGE} · wow confirm|decline <id>"
)
SUBCOMMANDS = ("vote", "comment", "delivered", "assign", "list", "history", "budget", "settings", "confirm", "decline")
MAX_SEND_ROUNDS = 5
ON = {"on": True, "yes": True, "true": True, "off": False, "no": False, "false": False}

STATUS_WORDS = {
    GestureStatus.OPEN: "open for votes",
    GestureStatus.AWAITING_LEAD: "approved by vote, over budget: waiting for a lead",
    GestureStatus.APPROVED: "approved, waiting to be delivered",
    GestureStatus.DELIVERED: "delivered",
    GestureStatus.REJECTED: "not approved",
    GestureStatus.NO_QUORUM: "closed without quorum",
    GestureStatus.DECLINED: "declined by a lead (over budget)",
}


# ---- rendering ----------------------------------------------------------------------------------------------


def money(cents: int, currency: str) -> str:
    return format_amount(cents, currency) if cents else "free"


def title(view: views.ProposalView) -> str:
    return f"Frugal wow #{view.proposal.id} for {view.customer_name}: {view.proposal.gesture}"


def vote_fields(view: views.ProposalView) -> list[tuple[str, str]]:
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


def budget_field(view: views.ProposalView) -> list[tuple[str, str]]:
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


def status_line(view: views.ProposalView) -> str:
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
        Button("Confirm over budget", ActionId.GESTURE_CONFIRM_OVER_BUDGET, str(p_id), "primary"),
        Button("Decline", ActionId.GESTURE_DECLINE_OVER_BUDGET, str(p_id), "danger"),
    ]


def render_card(view: views.ProposalView) -> Reply:
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


def outcome_text(view: views.ProposalView) -> str:
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


def render_outcome(view: views.ProposalView, *, for_user: str | None = None) -> Reply:
    p = view.proposal
    buttons: list[Button] = []
    if p.status == GestureStatus.AWAITING_LEAD and for_user is None:
        buttons = lead_buttons(p.id)
    if p.status == GestureStatus.APPROVED and for_user is not None and for_user == view.assignee_user_id:
        buttons = [Button("Mark delivered", ActionId.GESTURE_DELIVERED, str(p.id), "primary")]
    fields = [("Cost", money(p.cost_cents, p.currency)), *budget_field(view)]
    return Reply(outcome_text(view), fields=fields, buttons=buttons, ephemeral=for_user is not None)


def render_lead_request(view: views.ProposalView) -> Reply:
    p = view.proposal
    if p.status != GestureStatus.AWAITING_LEAD:
        return Reply(outcome_text(view))
    return Reply(
        f"Gesture #{p.id} for {view.customer_name} won the vote but would exceed {view.team_name}'s budget. "
        "Confirm it?",
        fields=[("Gesture", p.gesture), ("Cost", money(p.cost_cents, p.currency)), *budget_field(view)],
        buttons=lead_buttons(p.id),
    )


def render_delivery_request(view: views.ProposalView, *, reminder: bool) -> Reply | None:
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


def render_message(purpose: str, target: str, view: views.ProposalView) -> Reply | None:
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


# ---- delivery of what the bot owes ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Owed:
    id: int
    proposal_id: int
    purpose: str
    target: str
    direct: bool
    platform: Platform
    workspace: str
    message_id: str | None
    ref_channel_id: str | None
    attempts: int


async def _deliver_one(
    sessions: async_sessionmaker[AsyncSession], notifiers: Mapping[Platform, Notifier], message_id: int, now: datetime
) -> int:
    async with sessions() as session, session.begin():
        row = await outbox.claim(session, message_id=message_id, now=now)
        if row is None:
            return 0  # up to date, or another request / replica is sending it right now
        owed = _Owed(
            row.id,
            row.proposal_id,
            row.purpose,
            row.target,
            row.direct,
            row.platform,
            row.workspace,
            row.message_id,
            row.ref_channel_id,
            row.attempts,
        )
    notifier = notifiers.get(owed.platform)
    if notifier is None:
        async with sessions() as session, session.begin():
            await outbox.record_failure(
                session,
                message_id=owed.id,
                error=f"no notifier for {owed.platform.value}",
                retry_after=300,
                permanent=False,
                attempts=owed.attempts,
                now=now,
            )
        return 0
    sent = 0
    platform_id, channel = owed.message_id, owed.ref_channel_id
    for _ in range(MAX_SEND_ROUNDS):
        async with sessions() as session:
            version = await session.scalar(select(GestureMessage.want_version).where(GestureMessage.id == owed.id))
            view = await views.view_proposal(session, proposal_id=owed.proposal_id, now=now)
            reply = render_message(owed.purpose, owed.target, view)
        if reply is None:
            async with sessions() as session, session.begin():
                await outbox.record_failure(
                    session,
                    message_id=owed.id,
                    error="skipped: no longer relevant",
                    retry_after=None,
                    permanent=True,
                    attempts=owed.attempts,
                    now=now,
                )
            return sent
        try:
            if owed.direct:
                ref = await notifier.send_direct(workspace=owed.workspace, user_id=owed.target, reply=reply)
            elif platform_id is None:
                ref = await notifier.post_channel(workspace=owed.workspace, channel_id=owed.target, reply=reply)
            else:
                ref = MessageRef(owed.platform, owed.workspace, channel or owed.target, platform_id)
                await notifier.update(ref=ref, reply=reply)
        except Exception as error:
            failed = error if isinstance(error, DeliveryFailed) else None
            if failed is None:
                log.exception("gesture message %s (%s) failed", owed.id, owed.purpose)
            async with sessions() as session, session.begin():
                await outbox.record_failure(
                    session,
                    message_id=owed.id,
                    error=str(error) or type(error).__name__,
                    retry_after=failed.retry_after if failed else None,
                    permanent=bool(failed and failed.permanent),
                    attempts=owed.attempts,
                    now=now,
                )
            return sent
        sent += 1
        platform_id, channel = ref.message_id, ref.channel_id
        async with sessions() as session, session.begin():
            still_dirty = await outbox.record_sent(
                session,
                message_id=owed.id,
                version=version or 0,
                platform_message_id=ref.message_id,
                ref_channel_id=ref.channel_id,
                now=now,
            )
        if not still_dirty:
            return sent
    async with sessions() as session, session.begin():
        await outbox.release(session, message_id=owed.id)
    return sent


async def deliver_messages(
    *,
    sessions: async_sessionmaker[AsyncSession],
    notifiers: Mapping[Platform, Notifier],
    now: datetime,
    proposal_id: int | None = None,
    limit: int = 200,
) -> int:
    """Send every gesture message that is out of date and not being sent by someone else; returns how many
    platform calls were made."""
    async with sessions() as session:
        owed = await outbox.undelivered(session, now=now, proposal_id=proposal_id, limit=limit)
    sent = 0
    for message_id in owed:
        sent += await _deliver_one(sessions, notifiers, message_id, now)
    return sent


def deliver_after_commit(ctx: Context, proposal_id: int) -> None:
    sessions = ctx.sessions
    if sessions is None:
        return
    notifiers, now = ctx.notifiers, ctx.now

    async def work() -> None:
        await deliver_messages(sessions=sessions, notifiers=notifiers, now=now, proposal_id=proposal_id)

    ctx.after_commit.append(work)


@dataclass
class CloseReport:
    closed: list[int] = field(default_factory=list)
    reminders: int = 0
    sent: int = 0


async def close_due_proposals(
    *,
    sessions: async_sessionmaker[AsyncSession],
    notifiers: Mapping[Platform, Notifier],
    now: datetime,
    remind: bool = True,
) -> CloseReport:
    """The scheduler's gesture tick: close every proposal past its deadline (exactly once, across replicas and
    restarts), owe a delivery reminder once a day per approved, undelivered gesture (`remind=False` when the
    nudges engine reminds instead), and send whatever is owed."""
    report = CloseReport()
    async with sessions() as session:
        due = await closing.due_proposals(session, now=now)
    for proposal_id in due:
        try:
            async with sessions() as session, session.begin():
                closed = await closing.close_proposal(session, proposal_id=proposal_id, now=now)
        except Exception:
            log.exception("closing gesture %s failed; the next tick retries", proposal_id)
            continue
        if closed is not None:
            report.closed.append(proposal_id)
    if remind:
        async with sessions() as session, session.begin():
            report.reminders = await delivery.enqueue_delivery_reminders(session, now=now)
    report.sent = await deliver_messages(sessions=sessions, notifiers=notifiers, now=now)
    return report


# ---- commands -----------------------------------------------------------------------------------------------


@command("wow", usage=WOW_USAGE, summary="Propose, vote on and deliver small gestures for customers.", group=GROUP)
async def wow_command(ctx: Context, args: list[str]) -> Reply:
    need(args, 1, WOW_USAGE)
    verb = args[0].lower()
    if verb in SUBCOMMANDS:
        return await SUBCOMMAND_RUNNERS[verb](ctx, args[1:])
    return await _propose(ctx, args)


async def _propose(ctx: Context, args: list[str]) -> Reply:
    positional, options = split_options(
        args, {"cost": "what it costs, e.g. 15 or 15.50", "deadline": "how long the vote runs, e.g. 24h or 2d"}
    )
    need(positional, 2, PROPOSE_USAGE)
    customer = await find_customer(ctx.session, workspace_id=ctx.workspace.id, ref=positional[0])
    cost = (
        parse_amount(options["cost"], what="a gesture", maximum_cents=proposing.MAX_COST_CENTS)
        if "cost" in options
        else 0
    )
    deadline = (
        parse_duration(options["deadline"], minimum=proposing.MIN_DEADLINE, maximum=proposing.MAX_DEADLINE)
        if "deadline" in options
        else proposing.DEFAULT_DEADLINE
    )
    made = await proposing.propose(
        ctx.session,
        actor=ctx.actor,
        customer=customer,
        gesture=" ".join(positional[1:]),
        cost_cents=cost,
        deadline_in=deadline,
        platform=ctx.platform,
        channel_id=ctx.channel_id,
        now=ctx.now,
    )
    p = made.proposal
    deliver_after_commit(ctx, p.id)
    fields = [
        ("Cost", money(p.cost_cents, p.currency)),
        ("Voting closes", f"{when(p.deadline)} (in {describe(deadline)})"),
        ("Quorum", str(p.quorum)),
    ]
    if made.over_budget and made.budget_cents is not None:
        fields.append(
            (
                "Over budget",
                f"{money(p.cost_cents, p.currency)} would bring this month to "
                f"{format_amount(made.used_cents + p.cost_cents, p.currency)} of "
                f"{format_amount(made.budget_cents, p.currency)}; if approved, a lead must confirm it",
            )
        )
    return Reply(
        f"Proposed gesture #{p.id} for {customer.name}: {p.gesture}. {made.team.name} votes on it in its channel.",
        fields=fields,
    )


async def _vote_reply(ctx: Context, proposal_id: int, choice: VoteChoice) -> Reply:
    result = await voting.cast_vote(
        ctx.session,
        actor=ctx.actor,
        workspace_id=ctx.workspace.id,
        proposal_id=proposal_id,
        choice=choice,
        platform=ctx.platform,
        now=ctx.now,
    )
    p = result.proposal
    if not result.changed:
        return Reply(
            f"You already voted {choice.value} on gesture #{p.id}; you can change it until {when(p.deadline)}."
        )
    deliver_after_commit(ctx, p.id)
    verb = f"changed your vote to {choice.value}" if result.previous else f"voted {choice.value}"
    return Reply(f"You {verb} on gesture #{p.id}; you can change it until {when(p.deadline)}.")


def _choice(word: str) -> VoteChoice:
    try:
        return VoteChoice(word.lower())
    except ValueError:
        raise InvalidInput(f'Vote "yes" or "no", not "{word[:20]}".') from None


async def _vote(ctx: Context, args: list[str]) -> Reply:
    need(args, 2, "wow vote <id> yes|no")
    return await _vote_reply(ctx, proposing.parse_proposal_id(args[0]), _choice(args[1]))


async def _comment(ctx: Context, args: list[str]) -> Reply:
    need(args, 2, "wow comment <id> <text…>")
    return await _commented(ctx, proposing.parse_proposal_id(args[0]), " ".join(args[1:]))


async def _commented(ctx: Context, proposal_id: int, body: str | None) -> Reply:
    await voting.add_comment(
        ctx.session,
        actor=ctx.actor,
        workspace_id=ctx.workspace.id,
        proposal_id=proposal_id,
        body=body,
        platform=ctx.platform,
        now=ctx.now,
    )
    deliver_after_commit(ctx, proposal_id)
    return Reply(f"Your comment is on gesture #{proposal_id}'s card.")


async def _delivered(ctx: Context, args: list[str]) -> Reply:
    need(args, 1, "wow delivered <id>")
    return await _mark_delivered(ctx, proposing.parse_proposal_id(args[0]))


async def _mark_delivered(ctx: Context, proposal_id: int) -> Reply:
    p = await delivery.mark_delivered(
        ctx.session, actor=ctx.actor, workspace_id=ctx.workspace.id, proposal_id=proposal_id, now=ctx.now
    )
    deliver_after_commit(ctx, p.id)
    return Reply(f"Gesture #{p.id} is marked delivered. Thank you for making someone's day.")


async def _assign(ctx: Context, args: list[str]) -> Reply:
    need(args, 2, "wow assign <id> @member")
    to = await find_member(ctx.session, workspace_id=ctx.workspace.id, ref=args[1])
    p = await delivery.assign(
        ctx.session,
        actor=ctx.actor,
        workspace_id=ctx.workspace.id,
        proposal_id=proposing.parse_proposal_id(args[0]),
        to=to,
        now=ctx.now,
    )
    deliver_after_commit(ctx, p.id)
    return Reply(f"{to.display_name} delivers gesture #{p.id}.")


async def _list(ctx: Context, args: list[str]) -> Reply:
    lines = await views.list_gestures(
        ctx.session,
        workspace_id=ctx.workspace.id,
        team_id=ctx.actor.team_id,
        statuses=(GestureStatus.OPEN, GestureStatus.AWAITING_LEAD, GestureStatus.APPROVED),
    )
    if not lines:
        return Reply(f"No gestures are open or waiting for delivery. Propose one: `{PROPOSE_USAGE}`.")
    fields = []
    for line in lines:
        p = line.proposal
        if p.status == GestureStatus.OPEN:
            state = f"vote until {when(p.deadline)}"
        elif p.status == GestureStatus.APPROVED:
            state = f"approved, {line.assignee_name or 'nobody'} delivers it"
        else:
            state = STATUS_WORDS[p.status]
        fields.append((f"#{p.id} {line.customer_name}", f"{p.gesture} ({money(p.cost_cents, p.currency)}): {state}"))
    return Reply(f"{len(lines)} gesture(s) open or waiting for delivery", fields=fields)


async def _history(ctx: Context, args: list[str]) -> Reply:
    need(args, 1, "wow history <customer>")
    customer = await find_customer(ctx.session, workspace_id=ctx.workspace.id, ref=" ".join(args))
    lines = await views.customer_gestures(ctx.session, customer=customer)
    if not lines:
        return Reply(f"No gestures for {customer.name} yet. Propose one: `wow {quote(customer.name)} <gesture…>`.")
    fields = [
        (
            f"#{line.proposal.id} {when(line.proposal.created_at)}",
            f"{line.proposal.gesture} ({money(line.proposal.cost_cents, line.proposal.currency)}): "
            f"{STATUS_WORDS[line.proposal.status]}",
        )
        for line in lines
    ]
    return Reply(f"Gestures for {customer.name}", fields=fields)


async def _team(ctx: Context, options: dict[str, str]) -> Team:
    return await wow_budget.actor_team(ctx.session, actor=ctx.actor, name=options.get("team"))


async def _budget(ctx: Context, args: list[str]) -> Reply:
    positional, options = split_options(args, {"team": "the team's name"})
    team = await _team(ctx, options)
    if positional:
        settings = await wow_budget.settings_for(ctx.session, team_id=team.id, now=ctx.now)
        cents = parse_amount(positional[0], what="a monthly budget", maximum_cents=wow_budget.MAX_BUDGET_CENTS)
        await wow_budget.set_budget(ctx.session, actor=ctx.actor, team=team, cents=cents, now=ctx.now)
        return Reply(
            f"{team.name}'s monthly gesture budget is now {format_amount(cents, settings.currency)}.", ephemeral=False
        )
    digest = await views.gesture_digest(ctx.session, team_id=team.id, now=ctx.now)
    return Reply(f"{team.name}'s gestures this month", fields=digest_fields(digest))


def digest_fields(digest: views.GestureDigest) -> list[tuple[str, str]]:
    """The gesture part of a lead's digest (the nudges digest can show these fields as they are)."""
    budget = (
        "no budget set (`wow budget <amount>`)"
        if digest.budget_cents is None
        else (
            f"{format_amount(digest.used_cents, digest.currency)} of "
            f"{format_amount(digest.budget_cents, digest.currency)} used"
        )
    )
    fields = [("Budget", budget), ("Open votes", str(digest.open_proposals))]
    if digest.awaiting_lead:
        fields.append(("Waiting for a lead", ", ".join(f"#{i}" for i in digest.awaiting_lead)))
    fields += [
        (f"To deliver: #{d.proposal_id} {d.customer_name}", f"{d.gesture} ({d.assignee_name or 'nobody'})")
        for d in digest.pending
    ]
    return fields


async def _settings(ctx: Context, args: list[str]) -> Reply:
    positional, options = split_options(args, {"team": "the team's name"})
    team = await _team(ctx, options)
    if positional:
        need(positional, 2, SETTINGS_USAGE)
        name, value = positional[0].lower(), positional[1]
        changes: dict[str, object] = {}
        if name in ("anonymous", "hide-results"):
            if value.lower() not in ON:
                raise InvalidInput(f"Use on or off: `wow settings {name} on`.")
            changes["anonymous" if name == "anonymous" else "hide_results"] = ON[value.lower()]
        elif name == "quorum":
            if not value.isdigit():
                raise InvalidInput(f'A quorum is a number of votes, not "{value[:20]}".')
            changes["quorum"] = int(value)
        elif name == "currency":
            changes["currency"] = value
        else:
            raise InvalidInput(f"Usage: `{SETTINGS_USAGE}`")
        await wow_budget.change_settings(ctx.session, actor=ctx.actor, team=team, now=ctx.now, **changes)  # type: ignore[arg-type]
    settings = await wow_budget.settings_for(ctx.session, team_id=team.id, now=ctx.now)
    budget = (
        "none"
        if settings.monthly_budget_cents is None
        else format_amount(settings.monthly_budget_cents, settings.currency)
    )
    return Reply(
        f"{team.name}'s gesture settings"
        + (" (changed; running votes keep the settings they started with)" if positional else ""),
        fields=[
            ("Anonymous votes", "on" if settings.anonymous else "off"),
            ("Results hidden until close", "on" if settings.hide_results else "off"),
            ("Quorum", str(settings.quorum)),
            ("Currency", settings.currency),
            ("Monthly budget", budget),
        ],
    )


async def _decide(ctx: Context, proposal_id: int, confirm: bool) -> Reply:
    p = await closing.decide_over_budget(
        ctx.session,
        actor=ctx.actor,
        workspace_id=ctx.workspace.id,
        proposal_id=proposal_id,
        confirm=confirm,
        now=ctx.now,
    )
    deliver_after_commit(ctx, p.id)
    if confirm:
        return Reply(f"Gesture #{p.id} is approved over budget; it counts against this month.")
    return Reply(f"Gesture #{p.id} is declined; the budget stays as it was.")


async def _confirm(ctx: Context, args: list[str]) -> Reply:
    need(args, 1, "wow confirm <id>")
    return await _decide(ctx, proposing.parse_proposal_id(args[0]), True)


async def _decline(ctx: Context, args: list[str]) -> Reply:
    need(args, 1, "wow decline <id>")
    return await _decide(ctx, proposing.parse_proposal_id(args[0]), False)


SUBCOMMAND_RUNNERS = {
    "vote": _vote,
    "comment": _comment,
    "delivered": _delivered,
    "assign": _assign,
    "list": _list,
    "history": _history,
    "budget": _budget,
    "settings": _settings,
    "confirm": _confirm,
    "decline": _decline,
}


# ---- buttons ------------------------------------------------------------------------------------------------


def _button_id(act: ActionInvocation) -> int:
    try:
        return proposing.parse_proposal_id(act.value)
    except InvalidInput:
        raise InvalidInput("That button is out of date.") from None


@action(ActionId.GESTURE_VOTE_YES)
async def vote_yes(ctx: Context, act: ActionInvocation) -> Reply:
    return await _vote_reply(ctx, _button_id(act), VoteChoice.YES)


@action(ActionId.GESTURE_VOTE_NO)
async def vote_no(ctx: Context, act: ActionInvocation) -> Reply:
    return await _vote_reply(ctx, _button_id(act), VoteChoice.NO)


@action(ActionId.GESTURE_COMMENT)
async def comment_button(ctx: Context, act: ActionInvocation) -> Reply:
    proposal = await proposing.get_proposal(ctx.session, workspace_id=ctx.workspace.id, proposal_id=_button_id(act))
    await voting.may_vote(ctx.session, actor=ctx.actor, proposal=proposal)
    return Reply(
        f"Add a short comment to gesture #{proposal.id}.",
        prompt=Prompt(
            title="Comment",
            label=f"Your comment on gesture #{proposal.id}",
            submit_action_id=ActionId.GESTURE_COMMENT_SUBMIT,
            value=str(proposal.id),
            min_length=1,
            max_length=voting.MAX_COMMENT,
            placeholder="e.g. they loved the last card",
        ),
    )


@action(ActionId.GESTURE_COMMENT_SUBMIT)
async def comment_submit(ctx: Context, act: ActionInvocation) -> Reply:
    return await _commented(ctx, _button_id(act), act.input)


@action(ActionId.GESTURE_CONFIRM_OVER_BUDGET)
async def confirm_button(ctx: Context, act: ActionInvocation) -> Reply:
    return await _decide(ctx, _button_id(act), True)


@action(ActionId.GESTURE_DECLINE_OVER_BUDGET)
async def decline_button(ctx: Context, act: ActionInvocation) -> Reply:
    return await _decide(ctx, _button_id(act), False)


@action(ActionId.GESTURE_DELIVERED)
async def delivered_button(ctx: Context, act: ActionInvocation) -> Reply:
    return await _mark_delivered(ctx, _button_id(act))
