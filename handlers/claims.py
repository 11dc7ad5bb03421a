"""claim, handoff, accept, decline, reassign, release, whoowns, history, mine."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from sqlalchemy import select

from db.models import Customer, EventKind, HandoffRequest, Member, Ticket
from nudges.availability import away_warning, is_away
from nudges.urgency import ticket_urgency
from ownership import claim_views, claims, cover
from ownership.errors import InvalidInput, NotFound, quote
from ownership.numbers import parse_id

from .grammar import CustomerRef, MemberRef, Reason
from .pages import PAGE, page_of
from .registry import Context, action, command
from .replies import ActionId, ActionInvocation, Button, Notice, Prompt, Reply, person, when

GROUP = "Ownership"
REASON = Reason(minimum=claims.MIN_REASON, note=f"at least {claims.MIN_REASON} characters")


async def member_user_id(ctx: Context, member_id: int | None) -> str | None:
    if member_id is None:
        return None
    return await ctx.session.scalar(select(Member.platform_user_id).where(Member.id == member_id))


def handoff_buttons(handoff: HandoffRequest) -> list[Button]:
    return [
        Button("Accept", ActionId.ACCEPT_HANDOFF, str(handoff.id), "primary"),
        Button("Decline", ActionId.DECLINE_HANDOFF, str(handoff.id), "danger"),
    ]


@command("claim", CustomerRef(), summary="Make a customer yours (its open tickets follow).", group=GROUP)
async def claim(ctx: Context, *, customer: Customer) -> Reply:
    result = await claims.claim_customer(
        ctx.session, actor=ctx.actor, customer=customer, platform=ctx.platform, now=ctx.now
    )
    if result.already_yours:
        return Reply(f"{customer.name} is already yours.")
    moved = f" Its {result.tickets_moved} open ticket(s) are yours too." if result.tickets_moved else ""
    return Reply(f"{person(ctx.actor)} now owns {customer.name}.{moved}", ephemeral=False)


async def _offer(ctx: Context, customer: Customer, to: Member, reason: str | None) -> Reply:
    handoff = await claims.request_handoff(
        ctx.session,
        actor=ctx.actor,
        customer=customer,
        to=to,
        reason=reason,
        platform=ctx.platform,
        now=ctx.now,
    )
    owner = await ctx.session.get(Member, handoff.from_member_id) if handoff.from_member_id else None
    owner_name = person(owner) if owner else "nobody"
    offer = Reply(
        f"{person(ctx.actor)} wants to hand {customer.name} over to you.",
        fields=[
            ("Customer", f"{customer.name} ({customer.tier.value})"),
            ("Reason", handoff.reason),
            ("Current owner", owner_name),
        ],
        buttons=handoff_buttons(handoff),
    )
    warning = await away_warning(ctx.session, member=to, customer=customer, now=ctx.now)
    keeper = await cover.cover_for(ctx.session, member=to, now=ctx.now) if is_away(to, ctx.now) else None
    if keeper is not None:  # an away cover (ownership.cover): whoever looks after their customers meanwhile
        warning += f" ⚠ {person(to)} is away; {person(keeper)} covers for them."
    return Reply(
        f"Handoff of {customer.name} to {person(to)} requested. {owner_name} still owns it until "
        f"{person(to)} accepts.{warning}",
        fields=[("Reason", handoff.reason)],
        ephemeral=False,
        notices=[Notice(to.platform_user_id, offer)],
    )


@command(
    "handoff",
    CustomerRef(),
    MemberRef("to"),
    replace(REASON, prompted=True),
    summary="Offer a customer to someone, with a reason; you own it until they accept.",
    group=GROUP,
)
async def handoff(ctx: Context, *, customer: Customer, to: Member, reason: str | None) -> Reply:
    if not reason:
        return Reply(
            f"A handoff needs a reason, so {person(to)} knows why. Add it: "
            f"`handoff {quote(customer.name)} @{to.display_name} <reason>`.",
            error=True,
            prompt=Prompt(
                title="Hand off",
                label=f"Why should {to.display_name} take {customer.name}?",
                submit_action_id=ActionId.HANDOFF_REASON,
                value=f"{customer.id}:{to.id}",
                min_length=claims.MIN_REASON,
                max_length=claims.MAX_REASON,
                placeholder="e.g. they need a German speaker for the migration",
            ),
        )
    return await _offer(ctx, customer, to, reason)


@action(ActionId.HANDOFF_REASON)
async def handoff_with_reason(ctx: Context, act: ActionInvocation) -> Reply:
    stale = "That form is out of date; run `handoff` again."
    customer_part, _, member_part = act.value.partition(":")
    customer_id = parse_id(customer_part, invalid=stale, missing=stale)
    member_id = parse_id(member_part, invalid=stale, missing=stale)
    customer = await ctx.session.get(Customer, customer_id)
    to = await ctx.session.get(Member, member_id)
    if (
        customer is None
        or to is None
        or customer.workspace_id != ctx.workspace.id
        or to.workspace_id != ctx.workspace.id
    ):
        raise NotFound("That customer or person no longer exists.")
    return await _offer(ctx, customer, to, act.input)


async def _waiting_handoff(ctx: Context, customer: Customer | None) -> HandoffRequest:
    waiting = await claim_views.handoffs_waiting_for(ctx.session, member=ctx.actor)
    if customer is not None:
        for handoff_row, row_customer in waiting:
            if row_customer.id == customer.id:
                return handoff_row
        raise NotFound(f"No handoff of {customer.name} is waiting for you.")
    if len(waiting) == 1:
        return waiting[0][0]
    if not waiting:
        raise NotFound("No handoff is waiting for you.")
    names = ", ".join(c.name for _, c in waiting)
    raise InvalidInput(f"Several handoffs are waiting for you ({names}): name the customer.")


async def _tell_offerers(ctx: Context, handoff_row: HandoffRequest, told: Reply) -> list[Notice]:
    """The old owner and whoever asked for the handoff hear the outcome (once each, never the actor)."""
    ids = {
        await member_user_id(ctx, handoff_row.from_member_id),
        await member_user_id(ctx, handoff_row.requested_by_id),
    }
    return [Notice(uid, told) for uid in sorted(i for i in ids if i and i != ctx.actor.platform_user_id)]


async def _accepted(ctx: Context, handoff_row: HandoffRequest) -> Reply:
    customer = await claims.accept_handoff(
        ctx.session, actor=ctx.actor, handoff=handoff_row, platform=ctx.platform, now=ctx.now
    )
    told = Reply(
        f"{person(ctx.actor)} accepted {customer.name}; it is theirs now.",
        fields=[("Reason", handoff_row.reason)],
    )
    notices = await _tell_offerers(ctx, handoff_row, told)
    return Reply(
        f"You now own {customer.name}.",
        fields=[("Reason", handoff_row.reason)],
        replace_original=True,
        ephemeral=False,
        notices=notices,
    )


async def _declined(ctx: Context, handoff_row: HandoffRequest, reason: str | None) -> Reply:
    customer = await claims.decline_handoff(
        ctx.session, actor=ctx.actor, handoff=handoff_row, reason=reason, platform=ctx.platform, now=ctx.now
    )
    told = Reply(
        f"{person(ctx.actor)} declined {customer.name}; it stays with its owner.",
        fields=[("Handoff reason", handoff_row.reason), ("Declined because", handoff_row.decline_reason or "")],
    )
    notices = await _tell_offerers(ctx, handoff_row, told)
    return Reply(
        f"You declined {customer.name}.",
        fields=[("Because", handoff_row.decline_reason or "")],
        replace_original=True,
        notices=notices,
    )


@command("accept", CustomerRef(required=False), summary="Accept a handoff offered to you.", group=GROUP)
async def accept(ctx: Context, *, customer: Customer | None) -> Reply:
    return await _accepted(ctx, await _waiting_handoff(ctx, customer))


@command("decline", CustomerRef(), REASON, summary="Decline a handoff, with a reason.", group=GROUP)
async def decline(ctx: Context, *, customer: Customer, reason: str) -> Reply:
    return await _declined(ctx, await _waiting_handoff(ctx, customer), reason)


async def _handoff_from_button(ctx: Context, act: ActionInvocation) -> HandoffRequest:
    stale = "That button is out of date."
    handoff_id = parse_id(act.value, invalid=stale, missing="That handoff no longer exists.")
    return await claim_views.get_handoff(ctx.session, workspace_id=ctx.workspace.id, handoff_id=handoff_id)


@action(ActionId.ACCEPT_HANDOFF)
async def accept_button(ctx: Context, act: ActionInvocation) -> Reply:
    return await _accepted(ctx, await _handoff_from_button(ctx, act))


@action(ActionId.DECLINE_HANDOFF)
async def decline_button(ctx: Context, act: ActionInvocation) -> Reply:
    handoff_row = await _handoff_from_button(ctx, act)
    if handoff_row.to_member_id != ctx.actor.id:
        raise InvalidInput("Only the person this handoff was offered to can answer it.")
    return Reply(
        "Tell them why you decline.",
        prompt=Prompt(
            title="Decline handoff",
            label="Why are you declining?",
            submit_action_id=ActionId.DECLINE_REASON,
            value=str(handoff_row.id),
            min_length=claims.MIN_REASON,
            max_length=claims.MAX_REASON,
        ),
    )


@action(ActionId.DECLINE_REASON)
async def decline_with_reason(ctx: Context, act: ActionInvocation) -> Reply:
    return await _declined(ctx, await _handoff_from_button(ctx, act), act.input)


@command(
    "reassign",
    CustomerRef(),
    MemberRef("to"),
    REASON,
    summary="Leads: move a customer directly, with a reason.",
    group=GROUP,
)
async def reassign(ctx: Context, *, customer: Customer, to: Member, reason: str) -> Reply:
    previous = customer.owner_id
    await claims.reassign_customer(
        ctx.session, actor=ctx.actor, customer=customer, to=to, reason=reason, platform=ctx.platform, now=ctx.now
    )
    notices = [
        Notice(
            to.platform_user_id,
            Reply(f"{person(ctx.actor)} made you the owner of {customer.name}.", fields=[("Reason", reason)]),
        )
    ]
    old = await member_user_id(ctx, previous)
    if old and old != ctx.actor.platform_user_id:
        notices.append(
            Notice(
                old,
                Reply(f"{person(ctx.actor)} moved {customer.name} to {person(to)}.", fields=[("Reason", reason)]),
            )
        )
    return Reply(
        f"{customer.name} now belongs to {person(to)}.",
        fields=[("Reason", reason)],
        ephemeral=False,
        notices=[n for n in notices if n.to_user_id != ctx.actor.platform_user_id],
    )


@command("release", CustomerRef(), REASON, summary="Put a customer back in the team queue.", group=GROUP)
async def release(ctx: Context, *, customer: Customer, reason: str) -> Reply:
    await claims.release_customer(
        ctx.session, actor=ctx.actor, customer=customer, reason=reason, platform=ctx.platform, now=ctx.now
    )
    return Reply(
        f"{customer.name} is back in the team queue; anyone can `claim` it.",
        fields=[("Reason", reason)],
        ephemeral=False,
    )


@command("whoowns", CustomerRef(), summary="Who owns a customer, since when.", group=GROUP)
async def whoowns(ctx: Context, *, customer: Customer) -> Reply:
    view = await claim_views.who_owns(ctx.session, customer=customer)
    fields = [("Tier", customer.tier.value), ("Re-assigns", str(view.reassigns))]
    if view.owner and customer.owned_since:
        fields.insert(0, ("Since", when(customer.owned_since)))
    if view.pending and view.pending_to:
        fields.append(("Handoff waiting", f"to {person(view.pending_to)}: {view.pending.reason}"))
    if view.owner is None:
        return Reply(f"Nobody owns {customer.name}. `claim {quote(customer.name)}` to make it yours.", fields=fields)
    return Reply(f"{person(view.owner)} owns {customer.name}.", fields=fields)


EVENT_WORDS = {
    EventKind.CLAIM: "claimed by {to}",
    EventKind.HANDOFF_REQUESTED: "{actor} offered it to {to}",
    EventKind.HANDOFF_ACCEPTED: "{to} accepted it from {frm}",
    EventKind.HANDOFF_DECLINED: "{to} declined it",
    EventKind.HANDOFF_CANCELLED: "handoff to {to} cancelled",
    EventKind.HANDOFF_WITHDRAWN: "{actor} withdrew the offer to {to}",
    EventKind.RELEASE: "{actor} released it to the queue",
    EventKind.REASSIGN: "{actor} reassigned it from {frm} to {to}",
    EventKind.STEP_OUT: "step-out: {to} looks after it for {frm}, who stays the owner",
    EventKind.STEP_BACK: "step-back: back with {frm} from {to}",
    EventKind.COVER: "cover: {to} looks after it while {frm} is away",
    EventKind.COVER_END: "cover ended: back with {frm} from {to}",
}


@command("history", CustomerRef(), PAGE, summary="A customer's ownership audit trail.", group=GROUP)
async def history(ctx: Context, *, customer: Customer, page: int | None) -> Reply:
    lines = await claim_views.customer_history(ctx.session, customer=customer, limit=HISTORY_READ)
    if not lines:
        return Reply(f"{customer.name} has no ownership history yet.")
    shown = page_of(lines, page)
    fields = []
    for line in shown.items:
        words = EVENT_WORDS[line.kind].format(
            actor=line.actor or "ownerbot", to=line.to_name or "nobody", frm=line.from_name or "nobody"
        )
        reason = f": {line.reason}" if line.reason else ""
        fields.append((when(line.at), f"{words}{reason} (via {line.platform.value})"))
    footer = shown.footer(f"history {quote(customer.name)}")
    return Reply(f"Ownership history of {customer.name}{footer}", fields=fields)


STALE_AFTER = timedelta(hours=24)
HISTORY_READ = 2000  # audit lines read for `history` (shown a page at a time)


def stale_mark(ticket: Ticket, now: datetime) -> str:
    """` · stale (no activity for 2 days)` when a ticket has been quiet for longer than STALE_AFTER."""
    quiet = now - ticket.last_activity_at
    if quiet <= STALE_AFTER:
        return ""
    days, hours = quiet.days, quiet.seconds // 3600
    return f" · stale (no activity for {f'{days} day(s)' if days else f'{hours} hour(s)'})"


@command("mine", summary="Your customers, open tickets, and handoffs waiting for you.", group=GROUP)
async def mine(ctx: Context) -> Reply:
    owned = await claim_views.my_customers(ctx.session, member=ctx.actor)
    tickets = await claim_views.my_open_tickets(ctx.session, member=ctx.actor)
    waiting = await claim_views.handoffs_waiting_for(ctx.session, member=ctx.actor)
    fields = [(c.customer.name, f"{c.customer.tier.value}, {c.open_tickets} open ticket(s)") for c in owned]
    ranked = await ticket_urgency(ctx.session, tickets, now=ctx.now, policy=ctx.policy)  # urgency first
    fields += [
        (
            f"#{u.ticket.id} {u.customer.name}",
            f"{u.ticket.subject} [{u.ticket.status.value}, {u.ticket.priority.value}]{stale_mark(u.ticket, ctx.now)}"
            + (f" · {u.words()}" if u.words() else ""),
        )
        for u in ranked
    ]
    buttons = [
        Button(f"{b.label} {c.name}", b.action_id, b.value, b.style) for h, c in waiting for b in handoff_buttons(h)
    ]
    fields += [(f"Waiting for you: {c.name}", h.reason) for h, c in waiting]
    if not fields:
        return Reply("You own no customers yet. `claim <customer>` to take one.")
    return Reply(f"You own {len(owned)} customer(s) and {len(tickets)} open ticket(s).", fields=fields, buttons=buttons)
