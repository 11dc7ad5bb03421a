"""Nudges in conversation: the buttons on a nudge (done, snooze, hand off, not happy) and the commands around them
(sla, workhours, away, delegate, snooze, nudges).

A nudge itself is drawn by `handlers.nudge_messages` and sent by the nudge sweep (`jobs.nudge_sweep`).
"""

from __future__ import annotations

from db.models import Customer, Member, NudgeKind, Ticket, Tier
from nudges import actions as nudge_actions
from nudges import availability
from nudges.levels import TARGETS, parse_duration, service_levels, set_service_level, timedelta_words
from nudges.planner import recheck_tier
from nudges.settings import NudgeSettings
from ownership.customers import find_customer, parse_tier
from ownership.errors import InvalidInput, MemberNotFound, NotFound, quote
from ownership.people import find_member

from .claims import _offer, need, when
from .registry import Context, action, command
from .replies import ActionId, ActionInvocation, Prompt, Reply

GROUP = "Nudges and service levels"


# --- buttons -------------------------------------------------------------------------------------------


def _delivery_id(raw: str) -> int:
    try:
        return int(raw.split(":")[0].lstrip("#"))
    except ValueError:
        raise InvalidInput("That button is out of date.") from None


@action(ActionId.NUDGE_DONE)
async def done_button(ctx: Context, act: ActionInvocation) -> Reply:
    view = await nudge_actions.mark_done(
        ctx.session,
        actor=ctx.actor,
        workspace_id=ctx.workspace.id,
        delivery_id=_delivery_id(act.value),
        now=ctx.now,
        note=act.input,
    )
    what = (
        "Check-in recorded: the customer is happy."
        if view.episode.kind == NudgeKind.CHECK_IN
        else f"Done: {view.episode.kind.value} follow-up recorded; nobody further up will be nudged about it."
    )
    return Reply(what, replace_original=True)


async def _snooze(ctx: Context, delivery_id: int, choice: str) -> Reply:
    result = await nudge_actions.snooze(
        ctx.session,
        actor=ctx.actor,
        workspace_id=ctx.workspace.id,
        delivery_id=delivery_id,
        choice=choice,
        now=ctx.now,
        policy=policy_of(ctx),
    )
    text = f"Snoozed until {when(result.until)}; I'll remind you then."
    if result.escalates_at is not None:
        text += f" If it's not done by {when(result.escalates_at)}, the next person up hears about it"
        text += " (snoozing can't hold that back longer)." if result.limited else "."
    return Reply(text, replace_original=True)


@action(ActionId.NUDGE_SNOOZE)
async def snooze_button(ctx: Context, act: ActionInvocation) -> Reply:
    delivery, _, choice = act.value.partition(":")
    return await _snooze(ctx, _delivery_id(delivery), choice or "1h")


@action(ActionId.NUDGE_HANDOFF)
async def handoff_button(ctx: Context, act: ActionInvocation) -> Reply:
    view = await nudge_actions.get_nudge(
        ctx.session, workspace_id=ctx.workspace.id, delivery_id=_delivery_id(act.value)
    )
    if view.customer is None:
        raise InvalidInput("This nudge is not about a customer, so there is nothing to hand off.")
    name = quote(view.customer.name)
    return Reply(
        f"Who should take {view.customer.name}, and why? Or type `handoff {name} @person <reason>`.",
        prompt=Prompt(
            title="Hand off",
            label=f"@person and the reason they should take {view.customer.name}",
            submit_action_id=ActionId.NUDGE_HANDOFF_SUBMIT,
            value=str(view.customer.id),
            min_length=3,
            max_length=2000,
            placeholder="@sam needs a German speaker for the migration",
        ),
    )


@action(ActionId.NUDGE_HANDOFF_SUBMIT)
async def handoff_submit(ctx: Context, act: ActionInvocation) -> Reply:
    try:
        customer_id = int(act.value)
    except ValueError:
        raise InvalidInput("That form is out of date; use `handoff <customer> @person <reason>`.") from None
    customer = await ctx.session.get(Customer, customer_id)
    if customer is None or customer.workspace_id != ctx.workspace.id:
        raise NotFound("That customer no longer exists.")
    to, reason = await _receiver_and_reason(ctx, act.input or "")
    return await _offer(ctx, customer, to, reason)


async def _receiver_and_reason(ctx: Context, typed: str) -> tuple[Member, str]:
    """`@sam reason`, `"Sam Jones" reason` or `@Sam Jones reason`: a form's text input can't @mention, and
    display names (always on Teams) have spaces, so the longest leading name that is someone's wins."""
    text = typed.strip()
    if not text:
        raise InvalidInput("Name the person first, then the reason: `@sam needs a German speaker`.")
    if text[0] in '"“':
        name, closed, rest = text[1:].partition("”" if text[0] == "“" else '"')
        if closed:
            return await find_member(ctx.session, workspace_id=ctx.workspace.id, ref=name), rest.strip()
    words = text.split()
    for count in range(min(len(words), 4), 1, -1):
        try:
            found = await find_member(ctx.session, workspace_id=ctx.workspace.id, ref=" ".join(words[:count]))
        except MemberNotFound:
            continue
        return found, " ".join(words[count:])
    return await find_member(ctx.session, workspace_id=ctx.workspace.id, ref=words[0]), " ".join(words[1:])


@action(ActionId.NUDGE_NOT_HAPPY)
async def not_happy_button(ctx: Context, act: ActionInvocation) -> Reply:
    view = await nudge_actions.get_nudge(
        ctx.session, workspace_id=ctx.workspace.id, delivery_id=_delivery_id(act.value)
    )
    if view.episode.kind != NudgeKind.CHECK_IN:
        raise InvalidInput("Only a check-in can be answered with “not happy”.")
    return Reply(
        "What is the customer unhappy about?",
        prompt=Prompt(
            title="Not happy",
            label="What is wrong?",
            submit_action_id=ActionId.NUDGE_NOT_HAPPY_SUBMIT,
            value=str(view.delivery.id),
            min_length=5,
            max_length=2000,
            placeholder="the export still times out",
        ),
    )


@action(ActionId.NUDGE_NOT_HAPPY_SUBMIT)
async def not_happy_submit(ctx: Context, act: ActionInvocation) -> Reply:
    view = await nudge_actions.not_happy(
        ctx.session,
        actor=ctx.actor,
        workspace_id=ctx.workspace.id,
        delivery_id=_delivery_id(act.value),
        reason=act.input,
        now=ctx.now,
    )
    return Reply(
        f"Noted: ticket #{view.episode.ticket_id} is marked unhappy; you'll be nudged to follow up until it's done.",
        replace_original=True,
    )


# --- commands ------------------------------------------------------------------------------------------


def policy_of(ctx: Context) -> NudgeSettings:
    """The nudge settings of this server (loaded once by the composition root)."""
    return ctx.policy


SLA_USAGE = f"sla · sla <premium|standard|basic> <{'|'.join(TARGETS)}> <duration, e.g. 4h>"


@command("sla", usage=SLA_USAGE, summary="Service levels per tier; admins change them.", group=GROUP)
async def sla(ctx: Context, args: list[str]) -> Reply:
    if args:
        need(args, 3, SLA_USAGE)
        tier = parse_tier(args[0])
        minutes = parse_duration(args[2])
        await set_service_level(ctx.session, actor=ctx.actor, tier=tier, target=args[1], minutes=minutes, now=ctx.now)
        await recheck_tier(ctx.session, workspace_id=ctx.workspace.id, tier=tier)
    levels = await service_levels(ctx.session, workspace_id=ctx.workspace.id)
    from datetime import timedelta

    def m(minutes: int) -> str:
        return timedelta_words(timedelta(minutes=minutes))

    fields = [
        (
            f"{tier.value}{' (changed here)' if t.custom else ''}",
            f"first response {m(t.first_response)}, update {m(t.update)}, resolution {m(t.resolution)}; "
            f"lead after {m(t.lead_after)}, admins after {m(t.admins_after)}",
        )
        for tier, t in sorted(levels.items(), key=lambda kv: list(Tier).index(kv[0]))
    ]
    fields.append(("Priority", "urgent ×0.25, high ×0.5, normal ×1, low ×2; the clock stops while pending"))
    head = f"{args[0].lower()} {args[1].lower()} is now {m(parse_duration(args[2]))}." if args else "Service levels"
    return Reply(head, fields=fields)


WORKHOURS_USAGE = "workhours [HH:MM-HH:MM] [--days mon-fri] [--tz Europe/Berlin]"


def _hours_reply(member: Member, head: str) -> Reply:
    days = "".join(member.work_days)
    names = ", ".join(name.title() for name, n in availability.DAY_NAMES.items() if str(n) in days)
    return Reply(
        head,
        fields=[
            ("Hours", f"{member.work_start}-{member.work_end} {member.time_zone}"),
            ("Days", names or "every day"),
            ("Away", "yes" if member.away else "no"),
        ],
    )


@command("workhours", usage=WORKHOURS_USAGE, summary="When nudges may reach you, in your time zone.", group=GROUP)
async def workhours(ctx: Context, args: list[str]) -> Reply:
    from .parsing import split_options

    positional, options = split_options(args, {"days": "e.g. mon-fri", "tz": "a time zone like Europe/Berlin"})
    if not positional and not options:
        return _hours_reply(ctx.actor, "Your working hours")
    start, end = ctx.actor.work_start, ctx.actor.work_end
    if positional:
        span = positional[0]
        if "-" not in span:
            raise InvalidInput(f"Usage: `{WORKHOURS_USAGE}`")
        start, _, end = span.partition("-")
    availability.set_work_hours(ctx.actor, start=start, end=end, days=options.get("days"), time_zone=options.get("tz"))
    return _hours_reply(ctx.actor, "Working hours saved; nudges wait for them (urgent premium breaches don't).")


@command("away", usage="away on|off", summary="Away: your nudges go to your delegate or your lead.", group=GROUP)
async def away(ctx: Context, args: list[str]) -> Reply:
    need(args, 1, "away on|off")
    word = args[0].lower()
    if word not in ("on", "off", "yes", "no"):
        raise InvalidInput("Usage: `away on|off`")
    availability.set_away(ctx.actor, away=word in ("on", "yes"))
    if not ctx.actor.away:
        return Reply("Welcome back: your nudges come to you again.")
    stand_in = await ctx.session.get(Member, ctx.actor.delegate_id) if ctx.actor.delegate_id else None
    to = stand_in.display_name if stand_in else "your lead (set a delegate with `delegate @person`)"
    return Reply(f"You're away: your nudges go to {to}.")


@command("delegate", usage="delegate <@member|none>", summary="Who gets your nudges while you're away.", group=GROUP)
async def delegate(ctx: Context, args: list[str]) -> Reply:
    need(args, 1, "delegate <@member|none>")
    if args[0].lower() == "none":
        await availability.set_delegate(ctx.session, member=ctx.actor, delegate=None)
        return Reply("No delegate: while you're away, your nudges go to your lead.")
    person = await find_member(ctx.session, workspace_id=ctx.workspace.id, ref=args[0])
    await availability.set_delegate(ctx.session, member=ctx.actor, delegate=person)
    return Reply(f"{person.display_name} gets your nudges while you're away.")


@command("snooze", usage="snooze <nudge-id> <1h|4h|morning>", summary="Snooze a nudge from the keyboard.", group=GROUP)
async def snooze_command(ctx: Context, args: list[str]) -> Reply:
    need(args, 2, "snooze <nudge-id> <1h|4h|morning>")
    return await _snooze(ctx, _delivery_id(args[0]), args[1].lower())


@command(
    "nudges",
    usage="nudges <ticket-id|customer>",
    summary="Every nudge and escalation step, with who got it.",
    group=GROUP,
)
async def nudges_history(ctx: Context, args: list[str]) -> Reply:
    need(args, 1, "nudges <ticket-id|customer>")
    ref = " ".join(args)
    ticket = None
    customer = None
    if ref.lstrip("#").isdigit():
        ticket = await ctx.session.get(Ticket, int(ref.lstrip("#")))
        if ticket is None or ticket.workspace_id != ctx.workspace.id:
            raise NotFound(f"There is no ticket #{ref.lstrip('#')} here.")
        title = f"ticket #{ticket.id}"
    else:
        customer = await find_customer(ctx.session, workspace_id=ctx.workspace.id, ref=ref)
        title = customer.name
    entries = await nudge_actions.nudge_history(
        ctx.session, workspace_id=ctx.workspace.id, ticket=ticket, customer=customer
    )
    if not entries:
        return Reply(f"No nudges for {title} yet.")
    return Reply(f"Nudges for {title}", fields=[(when(e.at), e.what) for e in entries])
