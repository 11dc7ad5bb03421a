"""Nudges in conversation: the buttons on a nudge (done, snooze, hand off, not happy) and the commands around them
(sla, snooze, done, nudges); `handlers.availability` has workhours, away and delegate.

A nudge itself is drawn by `handlers.nudge_messages` and sent by the nudge sweep (`jobs.nudge_sweep`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta

from db.models import (
    Customer,
    Member,
    NudgeKind,
    Ticket,
    Tier,
)
from nudges import actions as nudge_actions
from nudges.levels import MAX_MINUTES, TARGETS, service_levels, set_clock, set_service_level, timedelta_words
from nudges.planner import recheck_tier
from nudges.settings import NudgeSettings
from ownership.customers import parse_tier
from ownership.errors import InvalidInput, NotFound, quote
from ownership.numbers import parse_id
from ownership.people import find_member

from .claims import REASON, _offer
from .grammar import (
    Choice,
    Flag,
    MemberRef,
    Number,
    OneWord,
    TicketOrCustomer,
    Together,
    parse_text,
)
from .parsing import button_id, parse_duration
from .registry import Context, action, command
from .replies import ActionId, ActionInvocation, Prompt, Reply, when

GROUP = "Nudges and service levels"


# --- buttons -------------------------------------------------------------------------------------------


def _delivery_id(raw: str) -> int:
    """A nudge's number, typed (`snooze 12 1h`) or carried by its button (`12`, `12:1h`)."""
    return button_id(raw)


@action(ActionId.NUDGE_DONE)
async def done_button(ctx: Context, act: ActionInvocation) -> Reply:
    return await _done(ctx, _delivery_id(act.value), act.input)


async def _done(ctx: Context, delivery_id: int, note: str | None) -> Reply:
    view = await nudge_actions.mark_done(
        ctx.session, actor=ctx.actor, workspace_id=ctx.workspace.id, delivery_id=delivery_id, now=ctx.now, note=note
    )
    what = (
        "Check-in recorded: the customer is happy."
        if view.episode.kind == NudgeKind.CHECK_IN
        else f"Done: {view.episode.kind.value} follow-up recorded; nobody further up will be nudged about it."
    )
    return Reply(what, replace_original=True)


def parse_snooze(text: str) -> timedelta | None:
    """`morning` (None: the start of your next working day) or any duration up to the limit: `90m`, `4h`, `2d`."""
    word = text.strip().lower()
    if word == "morning":
        return None
    try:
        return parse_duration(word, noun="snooze")
    except InvalidInput:
        limit = nudge_actions.MAX_SNOOZE.days
        raise InvalidInput(
            f'"{text[:20]}" is not a snooze. Use a duration up to {limit} days (like 90m, 4h or 2d), or `morning`.'
        ) from None


async def _snooze(ctx: Context, delivery_id: int, choice: str) -> Reply:
    result = await nudge_actions.snooze(
        ctx.session,
        actor=ctx.actor,
        workspace_id=ctx.workspace.id,
        delivery_id=delivery_id,
        delay=parse_snooze(choice),
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
            noun="person and reason",
            # Where a native people picker exists (Slack users_select, Teams ChoiceSet), the person is picked
            # and the text is just the reason; a typed `@person reason` still works everywhere.
            pick_person="Who should take it?",
        ),
    )


@action(ActionId.NUDGE_HANDOFF_SUBMIT)
async def handoff_submit(ctx: Context, act: ActionInvocation) -> Reply:
    stale = "That form is out of date; use `handoff <customer> @person <reason>`."
    customer_id = parse_id(act.value, invalid=stale, missing=stale)
    customer = await ctx.session.get(Customer, customer_id)
    if customer is None or customer.workspace_id != ctx.workspace.id:
        raise NotFound("That customer no longer exists.")
    if act.picked_user:  # picked in the form's people picker: the text is the reason
        to = await find_member(ctx.session, workspace_id=ctx.workspace.id, ref=f"<@{act.picked_user}>")
        reason = (await parse_text(ctx.scope, (replace(REASON, prompted=True),), act.input or "", "<reason…>"))[
            "reason"
        ]
        assert reason is None or isinstance(reason, str)
    else:
        to, reason = await _receiver_and_reason(ctx, act.input or "")
    return await _offer(ctx, customer, to, reason)


HANDOFF_TO = (
    MemberRef("to", ask="Name the person first, then the reason: `@sam needs a German speaker`."),
    replace(REASON, prompted=True),
)


async def _receiver_and_reason(ctx: Context, typed: str) -> tuple[Member, str | None]:
    """`@sam reason`, `"Sam Jones" reason` or `@Sam Jones reason`, read by the command grammar: a form's text
    input can't @mention, and display names (always on Teams) have spaces."""
    values = await parse_text(ctx.scope, HANDOFF_TO, typed, "@person <reason…>")
    to, reason = values["to"], values["reason"]
    assert isinstance(to, Member) and (reason is None or isinstance(reason, str))
    return to, reason


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
            noun="answer",
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


TIER = Choice("tier", tuple(tier.value for tier in Tier), parse=parse_tier)


CLOCK_WORDS = ("business", "24x7")


@dataclass(frozen=True)
class DurationOrClock(OneWord):
    """A target's duration (`4h`, read and checked at once) or a clock word (`business`, `24x7`)."""

    def read(self, text: str) -> object:
        if text.lower() in CLOCK_WORDS or not any(ch.isdigit() for ch in text):
            return text
        parse_duration(text, noun="duration")  # "2" without a unit is refused here, naming the fix
        return text


@command(
    "sla",
    Together(
        (
            TIER,
            Choice("target", (*TARGETS, "clock"), noun="target"),
            DurationOrClock(
                "value", label="duration|business|24x7", note="e.g. 4h or 90m; for clock: business or 24x7"
            ),
        )
    ),
    Flag("urgent", note="with clock: the clock of the tier's urgent tickets"),
    summary="Service levels per tier; admins change them.",
    group=GROUP,
)
async def sla(ctx: Context, *, tier: Tier | None, target: str | None, value: str | None, urgent: bool) -> Reply:
    head = "Service levels"
    if tier is not None and target == "clock" and value is not None:
        await set_clock(ctx.session, actor=ctx.actor, tier=tier, clock=value, urgent=urgent, now=ctx.now)
        await recheck_tier(ctx.session, workspace_id=ctx.workspace.id, tier=tier)
        which = f"{tier.value} urgent tickets" if urgent else f"{tier.value} tickets"
        head = f"The clock of {which} now runs {'24/7' if value.lower() == '24x7' else 'on business hours'}."
    elif tier is not None and target is not None and value is not None:
        if urgent:
            raise InvalidInput("`--urgent` goes with `clock`: `sla premium clock 24x7 --urgent`.")
        duration = parse_duration(value, noun="duration")
        minutes = int(duration.total_seconds()) // 60
        if minutes <= 0 or minutes > MAX_MINUTES:
            raise InvalidInput(f"A target must be between 1 minute and {MAX_MINUTES // 1440} days.")
        await set_service_level(ctx.session, actor=ctx.actor, tier=tier, target=target, minutes=minutes, now=ctx.now)
        await recheck_tier(ctx.session, workspace_id=ctx.workspace.id, tier=tier)
        head = f"{tier.value} {target} is now {timedelta_words(timedelta(minutes=minutes))}."
    levels = await service_levels(ctx.session, workspace_id=ctx.workspace.id)

    def m(minutes: int) -> str:
        return timedelta_words(timedelta(minutes=minutes))

    def clock(word: str) -> str:
        return "24/7" if word == "24x7" else "business hours"

    fields = [
        (
            f"{each.value}{' (changed here)' if t.custom else ''}",
            f"first response {m(t.first_response)}, update {m(t.update)}, resolution {m(t.resolution)}; "
            f"lead after {m(t.lead_after)}, admins after {m(t.admins_after)} more (timed from the breach); "
            f"clock {clock(t.clock)}, urgent {clock(t.urgent_clock)}",
        )
        for each, t in sorted(levels.items(), key=lambda kv: list(Tier).index(kv[0]))
    ]
    fields.append(("Priority", "urgent ×0.25, high ×0.5, normal ×1, low ×2; the clock stops while pending"))
    fields.append(("Business hours", "`hours` shows them; business clocks skip nights, weekends and holidays"))
    return Reply(head, fields=fields)


@command(
    "snooze",
    Number("delivery_id", label="nudge-id", parse=_delivery_id),
    OneWord("until", label="duration|morning", note="any duration up to 7 days (90m, 4h, 2d), or morning"),
    summary="Snooze a nudge from the keyboard, like its Snooze button.",
    group=GROUP,
)
async def snooze_command(ctx: Context, *, delivery_id: int, until: str) -> Reply:
    return await _snooze(ctx, delivery_id, until)


@command(
    "done",
    Number("delivery_id", label="nudge-id", parse=_delivery_id),
    summary="Mark a nudge done from the keyboard, like its Done button.",
    group=GROUP,
)
async def done_command(ctx: Context, *, delivery_id: int) -> Reply:
    return await _done(ctx, delivery_id, None)


@command(
    "nudges",
    TicketOrCustomer(),
    summary="Every nudge and escalation step, with who got it.",
    group=GROUP,
)
async def nudges_history(ctx: Context, *, ref: int | Customer) -> Reply:
    ticket = None
    customer = None
    if isinstance(ref, int):
        ticket = await ctx.session.get(Ticket, ref)
        if ticket is None or ticket.workspace_id != ctx.workspace.id:
            raise NotFound(f"There is no ticket #{ref} here.")
        title = f"ticket #{ticket.id}"
    else:
        customer = ref
        title = customer.name
    entries = await nudge_actions.nudge_history(
        ctx.session, workspace_id=ctx.workspace.id, ticket=ticket, customer=customer
    )
    if not entries:
        return Reply(f"No nudges for {title} yet.")
    return Reply(f"Nudges for {title}", fields=[(when(e.at), e.what) for e in entries])
