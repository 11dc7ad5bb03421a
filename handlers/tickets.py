"""ticket open|note|pending|reopen|resolve|mood|csat|show, tickets, idea, ideas."""

from __future__ import annotations

from datetime import timedelta

from db.models import Customer, Member, Mood, Platform, Priority, Ticket, TicketEventKind, TicketStatus
from nudges.business_time import business_words
from nudges.clocks import pauses_of, show_due, ticket_clocks
from nudges.levels import ServiceLevels
from nudges.urgency import rank_tickets
from ownership import ideas as idea_domain
from ownership import ticket_status, ticket_views, timeline
from ownership import tickets as ticket_domain
from ownership.custody import acting_owner
from ownership.errors import quote

from .custody import abuse_notices
from .grammar import Choice, CustomerRef, Duration, Flag, Number, Option, Text
from .pages import PAGE, page_of
from .registry import CommandFn, Context, command, command_with_verbs
from .replies import Notice, Reply, person, when

LIST_SCAN = 500  # a list reads this many tickets, ranks them by urgency, and shows them a page at a time
GROUP = "Tickets"
STATUS_DONE = {
    TicketStatus.PENDING: "#{id} is pending: waiting on the customer, the service-level clock is paused.",
    TicketStatus.OPEN: "#{id} is open again.",
    TicketStatus.RESOLVED: "#{id} is resolved.",
}
TICKET_ID = Number(
    "ticket_id", label="id", parse=ticket_domain.parse_ticket_id, ask="Which ticket? Give its number, e.g. `#12`."
)


def duration(delta: timedelta | None) -> str:
    if delta is None:
        return "—"
    minutes = max(0, int(delta.total_seconds()) // 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes:02d}m"
    return f"{minutes}m"


async def _ticket(ctx: Context, ticket_id: int) -> Ticket:
    return await ticket_domain.get_ticket(
        ctx.session, workspace_id=ctx.workspace.id, ticket_id=ticket_id, for_update=True
    )


async def _tell_owner(ctx: Context, ticket: Ticket, reply: Reply) -> list[Notice]:
    """The owner hears, or whoever looks after the customer for them (a step-out or away cover)."""
    acting = await acting_owner(ctx.session, owner_id=ticket.owner_id, customer_id=ticket.customer_id, now=ctx.now)
    uid = acting.platform_user_id if acting else None
    return [Notice(uid, reply)] if uid and uid != ctx.actor.platform_user_id else []


TICKET = command_with_verbs(
    "ticket", summary="Open and work tickets: notes, pending, resolve, mood, CSAT.", group=GROUP
)


@TICKET.verb(
    "open",
    CustomerRef(),
    Text("subject"),
    Option("priority", Choice("priority", tuple(p.value for p in Priority), parse=ticket_domain.parse_priority)),
    summary="Open a ticket; its owner is the customer's owner.",
)
async def _open(ctx: Context, *, customer: Customer, subject: str, priority: Priority | None) -> Reply:
    opened = await ticket_domain.open_ticket(
        ctx.session,
        customer=customer,
        subject=subject,
        priority=priority or Priority.NORMAL,
        actor=ctx.actor,
        platform=ctx.platform,
        now=ctx.now,
    )
    t = opened.ticket
    fields = [("Customer", customer.name), ("Priority", t.priority.value)]
    if opened.flagged:
        notice = Reply(
            f"Nobody owns {customer.name}, and {person(ctx.actor)} just opened #{t.id}: {t.subject}. "
            f"Someone please `claim {quote(customer.name)}`.",
            fields=fields,
        )
        team = await ticket_views.team_to_tell(ctx.session, customer=customer)
        notices = [Notice(m.platform_user_id, notice) for m in team if m.id != ctx.actor.id]
        fields.append(("Owner", "nobody: flagged to the team"))
        return Reply(
            f"Opened #{t.id} for {customer.name}: {t.subject}. Nobody owns {customer.name}, so it is "
            f"flagged to the team; `claim {quote(customer.name)}` to take it.",
            fields=fields,
            ephemeral=False,
            notices=notices,
        )
    owner = await ctx.session.get(Member, t.owner_id) if t.owner_id else None
    fields.append(("Owner", person(owner) if owner else "nobody"))
    told = Reply(
        f"{person(ctx.actor)} opened #{t.id} for your customer {customer.name}: {t.subject}",
        fields=[("Priority", t.priority.value)],
    )
    return Reply(
        f"Opened #{t.id} for {customer.name}: {t.subject}",
        fields=fields,
        ephemeral=False,
        notices=await _tell_owner(ctx, t, told),
    )


@TICKET.verb(
    "note",
    TICKET_ID,
    Text("text"),
    Flag("from-customer", note="the customer wrote this: its tone is scored"),
    summary="Add a note; `--from-customer` records the customer's own words.",
)
async def _note(ctx: Context, *, ticket_id: int, text: str, from_customer: bool) -> Reply:
    found = await _ticket(ctx, ticket_id)
    result = await ticket_domain.add_note(
        ctx.session,
        ticket=found,
        text=text,
        from_customer=from_customer,
        actor=ctx.actor,
        platform=ctx.platform,
        now=ctx.now,
    )
    if not from_customer:
        first = " First response recorded." if result.first_response else ""
        return Reply(f"Noted on #{found.id}.{first}")
    assert result.tone is not None
    fields = [
        ("Tone", f"{result.tone.score:+.2f}" + (f" ({', '.join(result.tone.words)})" if result.tone.words else ""))
    ]
    if result.reopened:
        fields.append(("Status", "open again: the customer wrote back"))
    notices: list[Notice] = []
    if result.abuse is not None:
        fields.append(("Mood", f"unhappy: {found.mood_reason}"))
        notices = await abuse_notices(ctx, found, result.abuse)
    elif result.tone.clearly_negative:
        fields.append(("Mood", f"unhappy: {found.mood_reason}"))
        if result.became_unhappy:
            notices = await _tell_owner(
                ctx,
                found,
                Reply(
                    f"The customer on #{found.id} ({found.subject}) sounds unhappy.",
                    fields=[("Why", found.mood_reason or "")],
                ),
            )
    return Reply(f"Customer message recorded on #{found.id}.", fields=fields, notices=notices)


def _status_verb(status: TicketStatus) -> CommandFn:
    async def change(ctx: Context, *, ticket_id: int) -> Reply:
        found = await _ticket(ctx, ticket_id)
        await ticket_status.change_status(
            ctx.session, ticket=found, to=status, actor=ctx.actor, platform=ctx.platform, now=ctx.now
        )
        return Reply(STATUS_DONE[status].format(id=found.id), ephemeral=False)

    return change


TICKET.verb("pending", TICKET_ID, summary="Waiting on the customer: the clock pauses.")(
    _status_verb(TicketStatus.PENDING)
)
TICKET.verb("reopen", TICKET_ID, summary="Open it again.")(_status_verb(TicketStatus.OPEN))
TICKET.verb("resolve", TICKET_ID, summary="Mark it resolved.")(_status_verb(TicketStatus.RESOLVED))


@TICKET.verb(
    "mood",
    TICKET_ID,
    Choice("mood", tuple(m.value for m in Mood), parse=ticket_domain.parse_mood),
    summary="Your judgement of the customer's mood.",
)
async def _mood(ctx: Context, *, ticket_id: int, mood: Mood) -> Reply:
    found = await _ticket(ctx, ticket_id)
    await ticket_domain.set_mood(
        ctx.session, ticket=found, mood=mood, actor=ctx.actor, platform=ctx.platform, now=ctx.now
    )
    return Reply(f"#{found.id} is marked {mood.value}.", ephemeral=False)


@TICKET.verb(
    "csat",
    TICKET_ID,
    Choice("rating", ticket_domain.CSAT_RATINGS, noun="rating"),
    Text("comment", required=False),
    summary="The customer's satisfaction rating; bad marks it unhappy.",
)
async def _csat(ctx: Context, *, ticket_id: int, rating: str, comment: str | None) -> Reply:
    found = await _ticket(ctx, ticket_id)
    result = await ticket_domain.record_csat(
        ctx.session,
        ticket=found,
        rating=rating,
        comment=comment or "",
        actor=ctx.actor,
        platform=ctx.platform,
        now=ctx.now,
    )
    if result.rating == "bad":
        notices = await _tell_owner(
            ctx,
            found,
            Reply(
                f"Bad satisfaction rating on #{found.id} ({found.subject}).", fields=[("Why", found.mood_reason or "")]
            ),
        )
        return Reply(
            f"Bad rating recorded on #{found.id}; the ticket is marked unhappy.",
            fields=[("Mood", found.mood_reason or "")],
            notices=notices,
        )
    return Reply(f"Good rating recorded on #{found.id}.")


def _timeline_words(line: timeline.TimelineLine) -> str:
    who = line.actor or ("the helpdesk" if line.platform == Platform.WEBHOOK else "someone")
    kind = line.kind
    if kind == TicketEventKind.OPENED:
        return f"opened by {who}: {line.text}"
    if kind == TicketEventKind.NOTE:
        return f"{who} noted: {line.text}"
    if kind == TicketEventKind.CUSTOMER_MESSAGE:
        tone = f" (tone {line.tone_score:+.2f})" if line.tone_score is not None else ""
        return f"customer wrote{tone}: {line.text}"
    if kind in (TicketEventKind.PENDING, TicketEventKind.REOPENED, TicketEventKind.RESOLVED, TicketEventKind.CLOSED):
        why = f" ({line.text})" if line.text else ""
        return f"{who}: {line.from_status} → {line.to_status}{why}"
    if kind == TicketEventKind.MOOD:
        return f"mood {line.mood.value if line.mood else '?'}: {line.text}"
    if kind == TicketEventKind.CSAT:
        return f"satisfaction {line.text}"
    if kind == TicketEventKind.UPDATED:
        return f"{who} updated {line.text}"
    return f"{line.text}"


async def _due_fields(ctx: Context, ticket: Ticket, customer: Customer) -> list[tuple[str, str]]:
    """When the ticket's service-level targets fall due (first response, resolution), on its calendar (business
    hours or 24/7, as the nudges reckon them); a pending ticket's clock is stopped."""
    if ticket.status == TicketStatus.PENDING:
        return [("Due", "the clock is stopped while the ticket waits on the customer")]
    levels = ServiceLevels(ctx.session)
    calendar = await levels.ticket_calendar(ticket, customer)
    targets = await levels.get(ticket.workspace_id, customer.tier)
    pauses = await pauses_of(ctx.session, ticket)
    kind = "24/7" if calendar.always else "business time"
    due: list[tuple[str, str]] = []
    for clock in ticket_clocks(ticket, targets, calendar=calendar, pauses=pauses, policy=ctx.policy, now=ctx.now):
        label = clock.name.replace("-", " ").capitalize() + " due"
        late = (
            f" (overdue by {business_words(clock.overdue)}, {kind})"
            if clock.overdue is not None
            else f" (in {business_words(calendar.between(ctx.now, clock.due_at))}, {kind})"
        )
        due.append((label, show_due(clock.due_at, calendar) + late))
    if ticket.status == TicketStatus.OPEN:
        update_at = calendar.add(ticket.last_activity_at, targets.scaled(targets.update, ticket.priority))
        late = (
            f" (overdue by {business_words(calendar.between(update_at, ctx.now))}, {kind})"
            if ctx.now >= update_at
            else f" (in {business_words(calendar.between(ctx.now, update_at))}, {kind})"
        )
        due.insert(len(due) - 1, ("Next update due", show_due(update_at, calendar) + late))
    return due


@TICKET.verb("show", TICKET_ID, summary="Everything about a ticket: owner, re-assigns, due times and its timeline.")
async def _show(ctx: Context, *, ticket_id: int) -> Reply:
    found = await ticket_domain.get_ticket(ctx.session, workspace_id=ctx.workspace.id, ticket_id=ticket_id)
    customer = await ctx.session.get(Customer, found.customer_id)
    assert customer is not None
    owner_id = ticket_views.current_owner_id(found, customer)
    owner = await ctx.session.get(Member, owner_id) if owner_id else None
    levels = ticket_views.service_levels(found, now=ctx.now)
    mood = found.mood.value + (f" ({found.mood_reason})" if found.mood_reason and found.mood != Mood.NEUTRAL else "")
    fields = [
        ("Customer", customer.name),
        ("Status", found.status.value),
        ("Priority", found.priority.value),
        ("Owner", person(owner) if owner else "nobody"),
        ("Re-assigns", str(found.reassign_count)),
        *await _due_fields(ctx, found, customer),
        ("Mood", mood),
        ("CSAT", found.csat or "—"),
        ("Opened", when(found.opened_at)),
        ("First response", duration(levels.first_response)),
        ("Time pending", duration(levels.pending)),
        ("Resolution", duration(levels.resolution)),
        ("Since last activity", duration(levels.since_activity)),
    ]
    if found.source != "chat":
        fields.insert(1, ("Helpdesk", f"{found.source} #{found.external_ref}"))
    for line in await timeline.ticket_timeline(ctx.session, ticket=found):
        fields.append((when(line.at), f"{_timeline_words(line)} (via {line.platform.value})"))
    return Reply(f"#{found.id} {found.subject}", fields=fields)


@command(
    "tickets",
    CustomerRef(required=False),
    PAGE,
    summary="Your open tickets, or a customer's tickets, most urgent first.",
    group=GROUP,
)
async def tickets(ctx: Context, *, customer: Customer | None, page: int | None) -> Reply:
    if customer is not None:
        rows = await ticket_views.list_tickets(
            ctx.session, workspace_id=ctx.workspace.id, customer_id=customer.id, limit=LIST_SCAN
        )
        title = f"{customer.name}: {len(rows)} ticket(s) not closed"
        empty = f"{customer.name} has no tickets. `ticket open {quote(customer.name)} <subject>` to open one."
    else:
        rows = await ticket_views.list_tickets(
            ctx.session, workspace_id=ctx.workspace.id, owner_id=ctx.actor.id, limit=LIST_SCAN
        )
        title = f"You have {len(rows)} open or pending ticket(s)"
        empty = "You have no open tickets."
    if not rows:
        return Reply(empty)
    by_id = {row.ticket.id: row for row in rows}
    ranked = await rank_tickets(ctx.session, [row.ticket for row in rows], now=ctx.now, policy=ctx.policy)
    shown = page_of(ranked, page)
    fields = []
    for urgency in shown.items:  # urgency first: tier x priority, then how far past due
        t, row = urgency.ticket, by_id[urgency.ticket.id]
        mood = ", unhappy" if t.mood == Mood.UNHAPPY else ""
        due = urgency.words()
        fields.append(
            (
                f"#{t.id} {row.customer}",
                f"{t.subject} [{t.status.value}, {t.priority.value}{mood}] owner {row.owner or 'nobody'}"
                + (f" · {due}" if due else ""),
            )
        )
    if len(rows) >= LIST_SCAN:
        title += f" (the {LIST_SCAN} newest read)"
    command = f"tickets {quote(customer.name)}" if customer is not None else "tickets"
    return Reply(f"{title}{shown.footer(command)}", fields=fields)


@command("idea", CustomerRef(), Text("text"), summary="Record a customer's idea or suggestion.", group=GROUP)
async def idea(ctx: Context, *, customer: Customer, text: str) -> Reply:
    recorded = await idea_domain.record_idea(
        ctx.session, actor=ctx.actor, customer=customer, text=text, platform=ctx.platform, now=ctx.now
    )
    return Reply(f"Recorded {customer.name}'s idea: {recorded.text}")


@command(
    "ideas",
    CustomerRef(required=False),
    Option("since", Duration("since", noun="period"), example="30d"),
    PAGE,
    summary="Customers' ideas, per customer and period.",
    group=GROUP,
)
async def ideas(ctx: Context, *, customer: Customer | None, since: timedelta | None, page: int | None) -> Reply:
    start = ctx.now - since if since is not None else None
    rows = await idea_domain.list_ideas(
        ctx.session, workspace_id=ctx.workspace.id, customer_id=customer.id if customer else None, since=start
    )
    scope = f" from {customer.name}" if customer else ""
    period = f" since {when(start)}" if start else ""
    if not rows:
        return Reply(f"No ideas{scope}{period} yet. `idea <customer> <text>` records one.")
    shown = page_of(rows, page)
    command = " ".join(
        ["ideas", *([quote(customer.name)] if customer else []), *([f"--since {since_typed(since)}"] if since else [])]
    )
    return Reply(
        f"{len(rows)} idea(s){scope}{period}{shown.footer(command)}",
        fields=[
            (f"{when(r.idea.created_at)} {r.customer}", f"{r.idea.text} (by {r.author or '?'})") for r in shown.items
        ],
    )


def since_typed(period: timedelta) -> str:
    """A period as `--since` reads it back: `30d`, `12h`, `45m`."""
    minutes = int(period.total_seconds() // 60)
    if minutes % 1440 == 0:
        return f"{minutes // 1440}d"
    return f"{minutes // 60}h" if minutes % 60 == 0 else f"{minutes}m"
