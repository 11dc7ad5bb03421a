"""stepout, stepback, cover, custody, and the Step out button an abusive customer message brings.

Custody (ownership.custody) moves who looks after a customer for a while; the owner stays the named owner and
the customer sees nothing of it.
"""

from __future__ import annotations

from datetime import timedelta

from db.models import Custody, Customer, Member, Ticket
from ownership import cover as cover_domain
from ownership import custody as custody_domain
from ownership.abuse import Abuse
from ownership.claims import MIN_REASON
from ownership.errors import NotFound, quote
from ownership.numbers import parse_id
from ownership.people import find_member

from .claims import member_user_id
from .grammar import Duration, MemberRef, Number, Option, Reason, TicketOrCustomer
from .registry import Context, action, command, command_with_verbs
from .replies import ActionId, ActionInvocation, Button, Notice, Reply, person, when

GROUP = "Ownership"
PERIOD = Option("for", Duration("period", note="how long, e.g. 3d or 2w (default 7 days)"), example="3d", dest="period")


async def _customer_of(ctx: Context, ref: int | Customer) -> tuple[Customer, int | None]:
    if isinstance(ref, Customer):
        return ref, None
    ticket = await ctx.session.get(Ticket, ref)
    if ticket is None or ticket.workspace_id != ctx.workspace.id:
        raise NotFound(f"There is no ticket #{ref}.")
    customer = await ctx.session.get(Customer, ticket.customer_id)
    assert customer is not None
    return customer, ticket.id


async def _member(ctx: Context, ref: str | None) -> Member | None:
    return await find_member(ctx.session, workspace_id=ctx.workspace.id, ref=ref) if ref else None


def step_out_buttons(ticket_id: int) -> list[Button]:
    return [Button("Step out", ActionId.STEP_OUT, str(ticket_id), "primary")]


async def _stepped_out(
    ctx: Context, customer: Customer, ticket_id: int | None, reason: str, to: Member | None, period: timedelta | None
) -> Reply:
    result = await custody_domain.step_out(
        ctx.session,
        actor=ctx.actor,
        customer=customer,
        reason=reason,
        to=to,
        period=period,
        ticket_id=ticket_id,
        platform=ctx.platform,
        now=ctx.now,
    )
    c, keeper = result.custody, result.keeper
    owner = await ctx.session.get(Member, c.owner_id)
    assert owner is not None and c.until is not None
    if result.needs_acceptance:
        ask = Reply(
            f"{person(ctx.actor)} asks you to look after {customer.name} until {when(c.until)}: "
            f"{person(owner)} steps out and stays the owner.",
            fields=[("Reason", c.reason), ("Answer", f"`stepout accept {c.id}` or `stepout decline {c.id}`")],
            buttons=[
                Button("Accept", ActionId.STEP_OUT_ACCEPT, str(c.id), "primary"),
                Button("Decline", ActionId.STEP_OUT_DECLINE, str(c.id), "danger"),
            ],
        )
        return Reply(
            f"Asked {person(keeper)} to look after {customer.name} until {when(c.until)}. "
            f"{person(owner)} keeps it until they accept.",
            notices=[Notice(keeper.platform_user_id, ask)],
        )
    told = Reply(
        f"{person(owner)} stepped out of {customer.name}: you look after it until {when(c.until)}. "
        f"You get its nudges and notices; {person(owner)} stays the owner. The customer sees nothing of this.",
        fields=[("Reason", c.reason)],
    )
    notices = [Notice(keeper.platform_user_id, told)] if keeper.id != ctx.actor.id else []
    if owner.id != ctx.actor.id:
        notices.append(
            Notice(
                owner.platform_user_id,
                Reply(
                    f"{person(ctx.actor)} took {customer.name} off your hands "
                    f"until {when(c.until)}; you stay its owner.",
                    fields=[("Reason", c.reason)],
                ),
            )
        )
    return Reply(
        f"{person(owner)} stepped out of {customer.name} until {when(c.until)}: {person(keeper)} looks "
        f"after it (nudges and notices). {person(owner)} stays the owner. "
        f"`stepback {quote(customer.name)}` takes it back earlier.",
        fields=[("Reason", c.reason)],
        notices=notices,
    )


STEPOUT = command_with_verbs(
    "stepout",
    summary="Step out of an abusive customer for a while: the lead (or a colleague) looks after it; you stay owner.",
    group=GROUP,
)


@STEPOUT.otherwise(
    TicketOrCustomer(),
    Reason(minimum=MIN_REASON, note=f"why, at least {MIN_REASON} characters, e.g. abusive calls"),
    Option("to", example="@member", note="a colleague who accepts (default: your lead, at once)"),
    PERIOD,
)
async def stepout(ctx: Context, *, ref: int | Customer, reason: str, to: str | None, period: timedelta | None) -> Reply:
    customer, ticket_id = await _customer_of(ctx, ref)
    return await _stepped_out(ctx, customer, ticket_id, reason, await _member(ctx, to), period)


async def _answer(ctx: Context, custody_id: int, accept: bool) -> Reply:
    found = await custody_domain.get_custody(ctx.session, workspace_id=ctx.workspace.id, custody_id=custody_id)
    c = await custody_domain.answer_step_out(ctx.session, actor=ctx.actor, custody=found, accept=accept, now=ctx.now)
    customer = await ctx.session.get(Customer, c.customer_id)
    assert customer is not None and c.until is not None
    owner_uid = await member_user_id(ctx, c.owner_id)
    asker_uid = await member_user_id(ctx, c.requested_by_id)
    if accept:
        text = f"{person(ctx.actor)} looks after {customer.name} until {when(c.until)}."
    else:
        text = f"{person(ctx.actor)} can't look after {customer.name}; try `stepout` with your lead."
    uids = {uid for uid in (owner_uid, asker_uid) if uid and uid != ctx.actor.platform_user_id}
    mine = (
        f"You look after {customer.name} until {when(c.until)}: its nudges and notices come to you."
        if accept
        else f"Declined: you won't look after {customer.name}."
    )
    return Reply(mine, replace_original=True, notices=[Notice(uid, Reply(text)) for uid in sorted(uids)])


def _custody_id(raw: str) -> int:
    return parse_id(
        raw,
        invalid="That is not a step-out number; `custody` lists them.",
        missing="There is no such step-out or cover; `custody` lists them.",
    )


CUSTODY_ID = Number("custody_id", label="id", parse=_custody_id)


@STEPOUT.verb("accept", CUSTODY_ID, summary="Accept looking after a customer for a colleague.")
async def stepout_accept(ctx: Context, *, custody_id: int) -> Reply:
    return await _answer(ctx, custody_id, True)


@STEPOUT.verb("decline", CUSTODY_ID, summary="Decline looking after it.")
async def stepout_decline(ctx: Context, *, custody_id: int) -> Reply:
    return await _answer(ctx, custody_id, False)


@action(ActionId.STEP_OUT_ACCEPT)
async def accept_button(ctx: Context, act: ActionInvocation) -> Reply:
    return await _answer(ctx, _custody_id(act.value), True)


@action(ActionId.STEP_OUT_DECLINE)
async def decline_button(ctx: Context, act: ActionInvocation) -> Reply:
    return await _answer(ctx, _custody_id(act.value), False)


@action(ActionId.STEP_OUT)
async def step_out_button(ctx: Context, act: ActionInvocation) -> Reply:
    """The button on an abusive-message notice: step out to the lead for the default period."""
    customer, ticket_id = await _customer_of(ctx, _custody_id(act.value))
    reply = await _stepped_out(ctx, customer, ticket_id, f"abusive messages on #{ticket_id}", None, None)
    reply.replace_original = True
    return reply


@command(
    "stepback",
    TicketOrCustomer(),
    summary="End a step-out now: the customer's nudges and notices come back to its owner.",
    group=GROUP,
)
async def stepback(ctx: Context, *, ref: int | Customer) -> Reply:
    customer, _ = await _customer_of(ctx, ref)
    c = await custody_domain.step_back(ctx.session, actor=ctx.actor, customer=customer, now=ctx.now)
    uids = {await member_user_id(ctx, c.keeper_id), await member_user_id(ctx, c.owner_id)}
    told = Reply(f"{person(ctx.actor)} stepped back into {customer.name}: its owner has it again.")
    notices = [Notice(uid, told) for uid in sorted(u for u in uids if u and u != ctx.actor.platform_user_id)]
    return Reply(f"Stepped back: {customer.name}'s nudges and notices go to its owner again.", notices=notices)


# --- cover --------------------------------------------------------------------------------------------------


async def cover_reply(ctx: Context, *, member: Member, cover: Member | None) -> Reply:
    result = await cover_domain.start_cover(
        ctx.session, actor=ctx.actor, member=member, cover=cover, platform=ctx.platform, now=ctx.now
    )
    keeper = result.keeper
    names = ", ".join(c.name for c in result.covered) or "no customers"
    skipped = f" ({len(result.skipped)} already looked after by someone else)" if result.skipped else ""
    told = Reply(
        f"You cover {person(member)}'s customers while they are away: {names}. Their nudges and notices come "
        f"to you; {person(member)} stays the owner and gets them back on return."
    )
    notices = [Notice(keeper.platform_user_id, told)] if keeper.id != ctx.actor.id else []
    if member.id != ctx.actor.id:
        notices.append(
            Notice(
                member.platform_user_id,
                Reply(f"{person(keeper)} covers your customers while you are away ({person(ctx.actor)} arranged it)."),
            )
        )
    return Reply(
        f"{person(keeper)} covers {person(member)}'s {len(result.covered)} customer(s) until "
        f"{person(member)} is back{skipped}.",
        notices=notices,
    )


async def away_cover(ctx: Context, *, away: bool, cover: str | None) -> Reply | None:
    """`away on --cover @member` hands custody over; `away off` gives it back. None: nothing to say."""
    if not away:
        ended = await cover_domain.end_cover(ctx.session, actor=ctx.actor, member=ctx.actor, now=ctx.now)
        return (
            Reply(
                f"Welcome back: your nudges come to you again, and your {ended} covered customer(s) are back with you."
            )
            if ended
            else None
        )
    if cover is None:
        return None
    return await cover_reply(ctx, member=ctx.actor, cover=await _member(ctx, cover))


COVER = command_with_verbs(
    "cover", summary="Leads: someone covers an away colleague's customers until they are back.", group=GROUP
)


@COVER.otherwise(
    MemberRef("member"),
    MemberRef("cover", label="@cover", required=False, note="default: their delegate, else their lead"),
)
async def cover(ctx: Context, *, member: Member, cover: Member | None) -> Reply:
    """`cover @sam @kim`: Sam is away (e.g. ill) and Kim looks after Sam's customers."""
    reply = await cover_reply(ctx, member=member, cover=cover)
    member.away = True
    return reply


@COVER.verb("end", MemberRef("member"), summary="Sam is back: the cover ends and their customers return.")
async def cover_end(ctx: Context, *, member: Member) -> Reply:
    if member.id != ctx.actor.id:
        custody_domain.require_owner_lead_or_admin(ctx.actor, member.id, f"end {person(member)}'s cover")
    ended = await cover_domain.end_cover(ctx.session, actor=ctx.actor, member=member, now=ctx.now)
    member.away = False
    return Reply(f"{person(member)} is back: {ended} customer(s) are with them again.")


@command("custody", summary="Step-outs and covers in force: who looks after which customer, until when.", group=GROUP)
async def custody_list(ctx: Context) -> Reply:
    lines = await custody_domain.custodies(ctx.session, workspace_id=ctx.workspace.id, now=ctx.now)
    if not lines:
        return Reply("Nobody is stepped out or covered: every customer is with its owner.")
    fields = []
    for line in lines[:25]:
        c: Custody = line.custody
        end = when(c.until) if c.until else "the owner is back"
        state = "waiting for an answer" if c.status.value == "offered" else c.kind.value
        fields.append((f"#{c.id} {line.customer}", f"{line.keeper} for {line.owner} ({state}) until {end}"))
    return Reply(f"{len(lines)} customer(s) looked after by someone other than their owner.", fields=fields)


# --- an abusive customer message -----------------------------------------------------------------------------


async def abuse_notices(ctx: Context, ticket: Ticket, abuse: Abuse) -> list[Notice]:
    """The owner hears privately that they may step out (with a button); the lead hears too. While a step-out
    or cover is in force, the keeper hears instead of the owner."""
    customer = await ctx.session.get(Customer, ticket.customer_id)
    owner = await ctx.session.get(Member, ticket.owner_id) if ticket.owner_id else None
    if customer is None or owner is None:
        return []
    kept = await custody_domain.custody_of(ctx.session, customer_id=customer.id, now=ctx.now)
    what = f"The customer on #{ticket.id} ({customer.name}: {ticket.subject}) wrote an {abuse.reason()}."
    notices: list[Notice] = []
    lead = await custody_domain.lead_for(ctx.session, member=owner, customer=customer)
    if kept is None:
        lead_name = person(lead) if lead else "your lead"
        notices.append(
            Notice(
                owner.platform_user_id,
                Reply(
                    what + " You don't have to take this. Step out and "
                    f"{lead_name} looks after {customer.name} for 7 days; you stay the owner and the customer sees "
                    "nothing of it.",
                    fields=[("Or type", f"`stepout #{ticket.id} <reason> [--to @colleague] [--for 3d]`")],
                    buttons=step_out_buttons(ticket.id),
                ),
            )
        )
    else:
        keeper = await ctx.session.get(Member, kept.keeper_id)
        if keeper is not None and (lead is None or keeper.id != lead.id):
            notices.append(Notice(keeper.platform_user_id, Reply(what + f" You look after {customer.name} for now.")))
    if lead is not None:
        state = "stepped out" if kept is not None else "offered a step-out"
        notices.append(Notice(lead.platform_user_id, Reply(what + f" Owner: {person(owner)}, who was {state}.")))
    return [n for n in notices if n.to_user_id != ctx.actor.platform_user_id]
