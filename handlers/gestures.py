"""Frugal wow: `wow …` commands and the vote / comment / confirm / delivered buttons.

Written once for every platform. What a change owes (the proposal card in the team's channel, its outcome, DMs)
is written to the outbox (`gestures.outbox`) in the same transaction; the outbox sender, woken right after the
commit, sends it (and the ticker retries what could not go out); the cards are drawn by `handlers.gesture_cards`.
"""

from __future__ import annotations

from datetime import timedelta

from db.models import Customer, GestureStatus, Member, Team, VoteChoice
from gestures.amounts import describe, format_amount, parse_amount
from gestures.budget import MAX_BUDGET_CENTS, MAX_QUORUM, actor_team, change_settings, set_budget, settings_for
from gestures.closing import decide_over_budget
from gestures.delivery import assign, mark_delivered
from gestures.proposing import (
    DEFAULT_DEADLINE,
    MAX_COST_CENTS,
    MAX_DEADLINE,
    MIN_DEADLINE,
    get_proposal,
    parse_proposal_id,
    propose,
)
from gestures.views import GestureDigest, customer_gestures, gesture_digest, list_gestures
from gestures.voting import MAX_COMMENT, add_comment, cast_vote, may_vote
from ownership.errors import InvalidInput, quote
from ownership.numbers import parse_count

from .gesture_cards import STATUS_WORDS, money
from .grammar import Choice, CustomerRef, Duration, MemberRef, Number, OneWord, Option, Text, Together
from .pages import PAGE, page_of
from .parsing import parse_yes_no
from .registry import Context, action, command_with_verbs
from .replies import ActionId, ActionInvocation, Prompt, Reply, person, when

GROUP = "Frugal wow"


# ---- commands -----------------------------------------------------------------------------------------------


WOW = command_with_verbs("wow", summary="Propose, vote on and deliver small gestures for customers.", group=GROUP)
PROPOSAL_ID = Number("proposal_id", label="id", parse=parse_proposal_id, ask="Which gesture? Give its number.")
TEAM = Option("team", example="T", note="the team's name (default: yours)", dest="team_name")


@WOW.otherwise(
    CustomerRef(),
    Text("gesture"),
    Option("cost", example="15", note="what it costs, e.g. 15 or 15.50"),
    Option("deadline", Duration("deadline"), example="24h", note="how long the vote runs, e.g. 24h or 2d"),
)
async def _propose(
    ctx: Context, *, customer: Customer, gesture: str, cost: str | None, deadline: timedelta | None
) -> Reply:
    cents = parse_amount(cost, what="a gesture", maximum_cents=MAX_COST_CENTS) if cost is not None else 0
    deadline = DEFAULT_DEADLINE if deadline is None else deadline
    if not MIN_DEADLINE <= deadline <= MAX_DEADLINE:
        raise InvalidInput(f"Pick a deadline between {describe(MIN_DEADLINE)} and {describe(MAX_DEADLINE)} from now.")
    made = await propose(
        ctx.session,
        actor=ctx.actor,
        customer=customer,
        gesture=gesture,
        cost_cents=cents,
        deadline_in=deadline,
        platform=ctx.platform,
        channel_id=ctx.channel_id,
        now=ctx.now,
    )
    p = made.proposal
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
    result = await cast_vote(
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
    verb = f"changed your vote to {choice.value}" if result.previous else f"voted {choice.value}"
    return Reply(f"You {verb} on gesture #{p.id}; you can change it until {when(p.deadline)}.")


def _choice(word: str) -> VoteChoice:
    try:
        return VoteChoice(word.lower())
    except ValueError:
        raise InvalidInput(f'Vote "yes" or "no", not "{word[:20]}".') from None


@WOW.verb(
    "vote", PROPOSAL_ID, Choice("choice", ("yes", "no"), parse=_choice), summary="Vote; change it until the deadline."
)
async def _vote(ctx: Context, *, proposal_id: int, choice: VoteChoice) -> Reply:
    return await _vote_reply(ctx, proposal_id, choice)


@WOW.verb("comment", PROPOSAL_ID, Text("text"), summary="A short comment on the card.")
async def _comment(ctx: Context, *, proposal_id: int, text: str) -> Reply:
    return await _commented(ctx, proposal_id, text)


async def _commented(ctx: Context, proposal_id: int, body: str | None) -> Reply:
    await add_comment(
        ctx.session,
        actor=ctx.actor,
        workspace_id=ctx.workspace.id,
        proposal_id=proposal_id,
        body=body,
        platform=ctx.platform,
        now=ctx.now,
    )
    return Reply(f"Your comment is on gesture #{proposal_id}'s card.")


@WOW.verb("delivered", PROPOSAL_ID, summary="Mark an approved gesture delivered.")
async def _delivered(ctx: Context, *, proposal_id: int) -> Reply:
    return await _mark_delivered(ctx, proposal_id)


async def _mark_delivered(ctx: Context, proposal_id: int) -> Reply:
    p = await mark_delivered(
        ctx.session, actor=ctx.actor, workspace_id=ctx.workspace.id, proposal_id=proposal_id, now=ctx.now
    )
    return Reply(f"Gesture #{p.id} is marked delivered. Thank you for making someone's day.")


@WOW.verb("assign", PROPOSAL_ID, MemberRef("to"), summary="Who delivers an approved gesture.")
async def _assign(ctx: Context, *, proposal_id: int, to: Member) -> Reply:
    p = await assign(
        ctx.session, actor=ctx.actor, workspace_id=ctx.workspace.id, proposal_id=proposal_id, to=to, now=ctx.now
    )
    return Reply(f"{person(to)} delivers gesture #{p.id}.")


@WOW.verb("list", PAGE, summary="Gestures open for votes or waiting for delivery.")
async def _list(ctx: Context, *, page: int | None) -> Reply:
    lines = await list_gestures(
        ctx.session,
        workspace_id=ctx.workspace.id,
        team_id=ctx.actor.team_id,
        statuses=(GestureStatus.OPEN, GestureStatus.AWAITING_LEAD, GestureStatus.APPROVED),
    )
    if not lines:
        return Reply(f"No gestures are open or waiting for delivery. Propose one: `{WOW.usage_of()}`.")
    shown = page_of(lines, page)
    fields = []
    for line in shown.items:
        p = line.proposal
        if p.status == GestureStatus.OPEN:
            state = f"vote until {when(p.deadline)}"
        elif p.status == GestureStatus.APPROVED:
            state = f"approved, {line.assignee_name or 'nobody'} delivers it"
        else:
            state = STATUS_WORDS[p.status]
        fields.append((f"#{p.id} {line.customer_name}", f"{p.gesture} ({money(p.cost_cents, p.currency)}): {state}"))
    return Reply(f"{len(lines)} gesture(s) open or waiting for delivery{shown.footer('wow list')}", fields=fields)


@WOW.verb("history", CustomerRef(), PAGE, summary="A customer's gestures.")
async def _history(ctx: Context, *, customer: Customer, page: int | None) -> Reply:
    lines = await customer_gestures(ctx.session, customer=customer)
    if not lines:
        return Reply(f"No gestures for {customer.name} yet. Propose one: `wow {quote(customer.name)} <gesture…>`.")
    fields = [
        (
            f"#{line.proposal.id} {when(line.proposal.created_at)}",
            f"{line.proposal.gesture} ({money(line.proposal.cost_cents, line.proposal.currency)}): "
            f"{STATUS_WORDS[line.proposal.status]}",
        )
        for line in page_of(lines, page).items
    ]
    footer = page_of(lines, page).footer(f"wow history {quote(customer.name)}")
    return Reply(f"Gestures for {customer.name}{footer}", fields=fields)


async def _team(ctx: Context, name: str | None) -> Team:
    return await actor_team(ctx.session, actor=ctx.actor, name=name)


@WOW.verb(
    "budget", OneWord("amount", required=False), TEAM, summary="The team's month; with an amount, set its budget."
)
async def _budget(ctx: Context, *, amount: str | None, team_name: str | None) -> Reply:
    team = await _team(ctx, team_name)
    if amount is not None:
        settings = await settings_for(ctx.session, team_id=team.id, now=ctx.now)
        cents = parse_amount(amount, what="a monthly budget", maximum_cents=MAX_BUDGET_CENTS)
        await set_budget(ctx.session, actor=ctx.actor, team=team, cents=cents, now=ctx.now)
        return Reply(
            f"{team.name}'s monthly gesture budget is now {format_amount(cents, settings.currency)}.", ephemeral=False
        )
    digest = await gesture_digest(ctx.session, team_id=team.id, now=ctx.now)
    return Reply(f"{team.name}'s gestures this month", fields=digest_fields(digest))


def digest_fields(digest: GestureDigest) -> list[tuple[str, str]]:
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


@WOW.verb(
    "settings",
    Together(
        (Choice("setting", ("anonymous", "hide-results", "quorum", "currency")), OneWord("value")),
        label="anonymous on|off | hide-results on|off | quorum N | currency EUR",
    ),
    TEAM,
    summary="How the team votes; admins and leads change it.",
)
async def _settings(ctx: Context, *, setting: str | None, value: str | None, team_name: str | None) -> Reply:
    team = await _team(ctx, team_name)
    if setting is not None and value is not None:
        name = setting
        changes: dict[str, object] = {}
        if name in ("anonymous", "hide-results"):
            changes["anonymous" if name == "anonymous" else "hide_results"] = parse_yes_no(value)
        elif name == "quorum":
            changes["quorum"] = parse_count(value, what="A quorum (a number of votes)", minimum=1, maximum=MAX_QUORUM)
        elif name == "currency":
            changes["currency"] = value
        await change_settings(ctx.session, actor=ctx.actor, team=team, now=ctx.now, **changes)  # type: ignore[arg-type]
    settings = await settings_for(ctx.session, team_id=team.id, now=ctx.now)
    budget = (
        "none"
        if settings.monthly_budget_cents is None
        else format_amount(settings.monthly_budget_cents, settings.currency)
    )
    return Reply(
        f"{team.name}'s gesture settings"
        + (" (changed; running votes keep the settings they started with)" if setting else ""),
        fields=[
            ("Anonymous votes", "on" if settings.anonymous else "off"),
            ("Results hidden until close", "on" if settings.hide_results else "off"),
            ("Quorum", str(settings.quorum)),
            ("Currency", settings.currency),
            ("Monthly budget", budget),
        ],
    )


async def _decide(ctx: Context, proposal_id: int, confirm: bool) -> Reply:
    p = await decide_over_budget(
        ctx.session,
        actor=ctx.actor,
        workspace_id=ctx.workspace.id,
        proposal_id=proposal_id,
        confirm=confirm,
        now=ctx.now,
    )
    if confirm:
        return Reply(f"Gesture #{p.id} is approved over budget; it counts against this month.")
    return Reply(f"Gesture #{p.id} is declined; the budget stays as it was.")


@WOW.verb("confirm", PROPOSAL_ID, summary="Leads: approve a voted gesture over budget.")
async def _confirm(ctx: Context, *, proposal_id: int) -> Reply:
    return await _decide(ctx, proposal_id, True)


@WOW.verb("decline", PROPOSAL_ID, summary="Leads: decline a voted gesture over budget.")
async def _decline(ctx: Context, *, proposal_id: int) -> Reply:
    return await _decide(ctx, proposal_id, False)


# ---- buttons ------------------------------------------------------------------------------------------------


def _button_id(act: ActionInvocation) -> int:
    try:
        return parse_proposal_id(act.value)
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
    proposal = await get_proposal(ctx.session, workspace_id=ctx.workspace.id, proposal_id=_button_id(act))
    await may_vote(ctx.session, actor=ctx.actor, proposal=proposal)
    return Reply(
        f"Add a short comment to gesture #{proposal.id}.",
        prompt=Prompt(
            title="Comment",
            label=f"Your comment on gesture #{proposal.id}",
            submit_action_id=ActionId.GESTURE_COMMENT_SUBMIT,
            value=str(proposal.id),
            min_length=1,
            max_length=MAX_COMMENT,
            placeholder="e.g. they loved the last card",
            noun="comment",
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
