"""Nudges in conversation: render them as Replies with buttons, deliver them through the Notifiers, and the
commands around them (sla, workhours, away, delegate, snooze, nudges).

`NudgeSweeper.tick` is what the scheduler calls: plan (one transaction), claim and render (one transaction),
send each message through the recipient's platform Notifier (no transaction open), mark each result.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import (
    Customer,
    HandoffRequest,
    Member,
    NudgeKind,
    Platform,
    SubjectKind,
    Ticket,
    Tier,
)
from nudges import actions as nudge_actions
from nudges import availability
from nudges.delivery import Message, claim_due, mark_failed, mark_retry, mark_sent
from nudges.digest import Digest, build_digest
from nudges.levels import MAX_MINUTES, TARGETS, service_levels, set_service_level, timedelta_words
from nudges.planner import plan_due, recheck_tier
from nudges.rules import LADDERS
from nudges.settings import NudgeSettings
from ownership.customers import parse_tier
from ownership.errors import InvalidInput, NotFound, quote

from .claims import REASON, _offer, when
from .dispatch import utc_now
from .grammar import (
    Choice,
    Duration,
    MemberRef,
    Number,
    OneWord,
    Option,
    TicketOrCustomer,
    Together,
    parse_text,
)
from .parsing import parse_yes_no
from .ports import DeliveryFailed, Notifier
from .registry import Context, action, command, usage_of
from .replies import ActionId, ActionInvocation, Button, Prompt, Reply

log = logging.getLogger(__name__)
GROUP = "Nudges and service levels"
RETRY_WHEN_PLATFORM_OFF = 300.0
RETRY_AFTER_ERROR = 60.0

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


# --- rendering ----------------------------------------------------------------------------------------


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


def nudge_buttons(delivery_id: int, kind: NudgeKind, customer: Customer | None) -> list[Button]:
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
    if customer is not None and customer.owner_id is not None and kind != NudgeKind.HANDOFF_NOT_ACCEPTED:
        buttons.append(Button("Hand off", ActionId.NUDGE_HANDOFF, value))
    return buttons


async def _escalated_from(session: AsyncSession, step: int, kind: NudgeKind) -> str | None:
    if step == 0:
        return None
    ladder = LADDERS.get(kind, ())
    previous = ladder[step - 1] if step - 1 < len(ladder) else "the owner"
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
        return render_digest(await build_digest(session, lead=message.recipient, now=now, policy=policy), now)
    text = await describe(session, (episode.subject_kind, episode.subject_id), episode.ticket_id, episode.customer_id)
    headline = HEADLINES[delivery.kind].format(subject=text.subject)
    fields = [("Why", episode.detail)]
    if text.customer is not None:
        owner = await session.get(Member, text.customer.owner_id) if text.customer.owner_id else None
        fields.append(
            (
                "Customer",
                f"{text.customer.name} ({text.customer.tier.value}), "
                f"owner: {owner.display_name if owner else 'nobody'}",
            )
        )
    if text.ticket is not None:
        fields.append(("Ticket", f"#{text.ticket.id} [{text.ticket.status.value}, {text.ticket.priority.value}]"))
    climbed = await _escalated_from(session, delivery.step, delivery.kind)
    if climbed:
        fields.append(("Escalation", climbed))
    if delivery.audience == "delegate":
        fields.append(("Delegated", "You are the delegate of someone who is away."))
    if delivery.round > 0:
        fields.append(("Reminder", "You snoozed this earlier."))
    if delivery.kind == NudgeKind.DELIVERY_FAILED:
        fields.append(("Delivery", delivery.error or "the platform refused it"))
        return Reply(
            headline, fields=fields, buttons=[Button("Done", ActionId.NUDGE_DONE, str(delivery.id), "primary")]
        )
    if delivery.kind == NudgeKind.HANDOFF_NOT_ACCEPTED and episode.subject_kind == SubjectKind.HANDOFF:
        fields.append(("Answer it", "`accept <customer>` or `decline <customer> <reason>`"))
    return Reply(headline, fields=fields, buttons=nudge_buttons(delivery.id, delivery.kind, text.customer))


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
                load.member.display_name,
                f"{load.customers} customer(s), {load.open_tickets} open ticket(s), {load.overdue} overdue{flag}",
            )
        )
    return Reply(
        f"Good morning {digest.lead.display_name}: the {digest.team} digest for {now:%A %d %B}.", fields=fields
    )


# --- delivery ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TickResult:
    checked: int
    planned: int
    sent: int
    retried: int
    failed: int
    cancelled: int
    held: int


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class NudgeSweeper:
    """Plans and delivers nudges; several replicas may run it against one PostgreSQL at the same time."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        notifiers: Mapping[Platform, Notifier],
        *,
        policy: NudgeSettings,
        clock: Callable[[], datetime] = utc_now,
        worker: str | None = None,
    ) -> None:
        self.sessions = sessions
        self.notifiers = notifiers
        self.policy = policy
        self.clock = clock
        self.worker = worker or worker_name()

    async def plan(self, now: datetime) -> tuple[int, int]:
        async with self.sessions() as session, session.begin():
            result = await plan_due(session, now=now, policy=self.policy)
        return result.checked, result.deliveries

    async def claim(self, now: datetime) -> tuple[list[tuple[Message, Reply]], int, int]:
        async with self.sessions() as session, session.begin():
            claimed = await claim_due(session, now=now, worker=self.worker, policy=self.policy)
            rendered = [(m, await render_message(session, m, self.policy, now)) for m in claimed.messages]
        return rendered, claimed.cancelled, claimed.held

    async def deliver(self, message: Message, reply: Reply) -> str:
        """Send one message; returns sent / retried / failed."""
        platform = Platform(message.workspace.platform)
        notifier = self.notifiers.get(platform)
        now = self.clock()
        try:
            if notifier is None:
                raise DeliveryFailed(f"{platform.value} is off on this server", retry_after=RETRY_WHEN_PLATFORM_OFF)
            ref = await notifier.send_direct(
                workspace=message.workspace.external_id, user_id=message.recipient.platform_user_id, reply=reply
            )
        except DeliveryFailed as error:
            async with self.sessions() as session, session.begin():
                if error.permanent:
                    log.warning("nudge %s to %s failed for good: %s", message.ids, message.recipient.id, error)
                    await mark_failed(session, ids=message.ids, worker=self.worker, now=now, error=str(error))
                    return "failed"
                await mark_retry(
                    session,
                    ids=message.ids,
                    worker=self.worker,
                    now=now,
                    retry_after=error.retry_after or RETRY_AFTER_ERROR,
                    error=str(error),
                )
            return "retried"
        except Exception as error:  # a bug or a network error in a notifier: try again later, never drop
            log.exception("nudge %s to %s: notifier error", message.ids, message.recipient.id)
            async with self.sessions() as session, session.begin():
                await mark_retry(
                    session,
                    ids=message.ids,
                    worker=self.worker,
                    now=now,
                    retry_after=RETRY_AFTER_ERROR,
                    error=f"{type(error).__name__}: {error}",
                )
            return "retried"
        async with self.sessions() as session, session.begin():
            await mark_sent(
                session,
                ids=message.ids,
                worker=self.worker,
                now=self.clock(),
                platform=ref.platform.value,
                channel=ref.channel_id,
                message_id=ref.message_id,
            )
        return "sent"

    async def tick(self) -> TickResult:
        now = self.clock()
        checked, planned = await self.plan(now)
        rendered, cancelled, held = await self.claim(now)
        outcome = {"sent": 0, "retried": 0, "failed": 0}
        for message, reply in rendered:
            outcome[await self.deliver(message, reply)] += 1
        return TickResult(checked, planned, outcome["sent"], outcome["retried"], outcome["failed"], cancelled, held)


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

POLICY: dict[str, NudgeSettings] = {}


def policy_of(_ctx: Context) -> NudgeSettings:
    """The nudge settings of this process (set by the app at start; defaults otherwise)."""
    return POLICY.get("current") or POLICY.setdefault("current", NudgeSettings())


def use_policy(policy: NudgeSettings) -> None:
    POLICY["current"] = policy


TIER = Choice("tier", tuple(tier.value for tier in Tier), parse=parse_tier)


@command(
    "sla",
    Together((TIER, Choice("target", tuple(TARGETS), noun="target"), Duration("duration", note="e.g. 4h or 90m"))),
    summary="Service levels per tier; admins change them.",
    group=GROUP,
)
async def sla(ctx: Context, *, tier: Tier | None, target: str | None, duration: timedelta | None) -> Reply:
    head = "Service levels"
    if tier is not None and target is not None and duration is not None:
        minutes = int(duration.total_seconds()) // 60
        if minutes <= 0 or minutes > MAX_MINUTES:
            raise InvalidInput(f"A target must be between 1 minute and {MAX_MINUTES // 1440} days.")
        await set_service_level(ctx.session, actor=ctx.actor, tier=tier, target=target, minutes=minutes, now=ctx.now)
        await recheck_tier(ctx.session, workspace_id=ctx.workspace.id, tier=tier)
        head = f"{tier.value} {target} is now {timedelta_words(timedelta(minutes=minutes))}."
    levels = await service_levels(ctx.session, workspace_id=ctx.workspace.id)

    def m(minutes: int) -> str:
        return timedelta_words(timedelta(minutes=minutes))

    fields = [
        (
            f"{each.value}{' (changed here)' if t.custom else ''}",
            f"first response {m(t.first_response)}, update {m(t.update)}, resolution {m(t.resolution)}; "
            f"lead after {m(t.lead_after)}, admins after {m(t.admins_after)}",
        )
        for each, t in sorted(levels.items(), key=lambda kv: list(Tier).index(kv[0]))
    ]
    fields.append(("Priority", "urgent ×0.25, high ×0.5, normal ×1, low ×2; the clock stops while pending"))
    return Reply(head, fields=fields)


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


@command(
    "workhours",
    OneWord("hours", label="HH:MM-HH:MM", required=False),
    Option("days", example="mon-fri", note="e.g. mon-fri or mon,tue,thu"),
    Option("tz", example="Europe/Berlin", note="a time zone like Europe/Berlin"),
    summary="When nudges may reach you, in your time zone.",
    group=GROUP,
)
async def workhours(ctx: Context, *, hours: str | None, days: str | None, tz: str | None) -> Reply:
    if hours is None and days is None and tz is None:
        return _hours_reply(ctx.actor, "Your working hours")
    start, end = ctx.actor.work_start, ctx.actor.work_end
    if hours is not None:
        if "-" not in hours:
            raise InvalidInput(f"Usage: `{usage_of('workhours')}`")
        start, _, end = hours.partition("-")
    availability.set_work_hours(ctx.actor, start=start, end=end, days=days, time_zone=tz)
    return _hours_reply(ctx.actor, "Working hours saved; nudges wait for them (urgent premium breaches don't).")


@command(
    "away",
    Choice("away", ("on", "off"), parse=parse_yes_no),
    summary="Away: your nudges go to your delegate or your lead.",
    group=GROUP,
)
async def away(ctx: Context, *, away: bool) -> Reply:
    availability.set_away(ctx.actor, away=away)
    if not ctx.actor.away:
        return Reply("Welcome back: your nudges come to you again.")
    stand_in = await ctx.session.get(Member, ctx.actor.delegate_id) if ctx.actor.delegate_id else None
    to = stand_in.display_name if stand_in else "your lead (set a delegate with `delegate @person`)"
    return Reply(f"You're away: your nudges go to {to}.")


@command(
    "delegate",
    MemberRef("person", label="@member|none", or_none=True),
    summary="Who gets your nudges while you're away.",
    group=GROUP,
)
async def delegate(ctx: Context, *, person: Member | None) -> Reply:
    if person is None:
        await availability.set_delegate(ctx.session, member=ctx.actor, delegate=None)
        return Reply("No delegate: while you're away, your nudges go to your lead.")
    await availability.set_delegate(ctx.session, member=ctx.actor, delegate=person)
    return Reply(f"{person.display_name} gets your nudges while you're away.")


@command(
    "snooze",
    Number("delivery_id", label="nudge-id", parse=_delivery_id),
    Choice("until", ("1h", "4h", "morning"), noun="snooze"),
    summary="Snooze a nudge from the keyboard.",
    group=GROUP,
)
async def snooze_command(ctx: Context, *, delivery_id: int, until: str) -> Reply:
    return await _snooze(ctx, delivery_id, until)


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
