"""ticket open|note|pending|reopen|resolve|mood|csat|show, tickets, idea, ideas."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from db.models import Customer, Member, Mood, Platform, Priority, Ticket, TicketEventKind, TicketStatus
from ownership import ideas as idea_domain
from ownership import ticket_status, ticket_views, timeline
from ownership import tickets as ticket_domain
from ownership.customers import find_customer
from ownership.errors import InvalidInput, quote

from .claims import member_user_id, need, when
from .parsing import split_options
from .registry import Context, command
from .replies import Notice, Reply

GROUP = "Tickets"
TICKET_USAGE = (
    "ticket open <customer> <subject…> [--priority urgent|high|normal|low] · "
    "ticket note <id> <text…> [--from-customer] · ticket pending|reopen|resolve <id> · "
    "ticket mood <id> unhappy|neutral|happy · ticket csat <id> good|bad [comment…] · ticket show <id>"
)
USAGE = {
    "open": "ticket open <customer> <subject…> [--priority urgent|high|normal|low]",
    "note": "ticket note <id> <text…> [--from-customer]",
    "pending": "ticket pending <id>",
    "reopen": "ticket reopen <id>",
    "resolve": "ticket resolve <id>",
    "mood": "ticket mood <id> unhappy|neutral|happy",
    "csat": "ticket csat <id> good|bad [comment…]",
    "show": "ticket show <id>",
}
STATUS_VERBS = {"pending": TicketStatus.PENDING, "reopen": TicketStatus.OPEN, "resolve": TicketStatus.RESOLVED}
STATUS_DONE = {
    TicketStatus.PENDING: "#{id} is pending: waiting on the customer, the service-level clock is paused.",
    TicketStatus.OPEN: "#{id} is open again.",
    TicketStatus.RESOLVED: "#{id} is resolved.",
}
SINCE = re.compile(r"^(\d{1,4})([hdw])$")


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


def parse_since(raw: str, now: datetime) -> datetime:
    match = SINCE.match(raw.strip().lower())
    if not match:
        raise InvalidInput(f'"{raw[:20]}" is not a period. Use e.g. `--since 30d`, `--since 2w` or `--since 12h`.')
    amount, unit = int(match.group(1)), match.group(2)
    return now - {"h": timedelta(hours=amount), "d": timedelta(days=amount), "w": timedelta(weeks=amount)}[unit]


async def _ticket(ctx: Context, raw: str) -> Ticket:
    return await ticket_domain.get_ticket(
        ctx.session, workspace_id=ctx.workspace.id, ticket_id=ticket_domain.parse_ticket_id(raw), for_update=True
    )


async def _tell_owner(ctx: Context, ticket: Ticket, reply: Reply) -> list[Notice]:
    uid = await member_user_id(ctx, ticket.owner_id)
    return [Notice(uid, reply)] if uid and uid != ctx.actor.platform_user_id else []


@command(
    "ticket", usage=TICKET_USAGE, summary="Open and work tickets: notes, pending, resolve, mood, CSAT.", group=GROUP
)
async def ticket(ctx: Context, args: list[str]) -> Reply:
    need(args, 1, TICKET_USAGE)
    verb, rest = args[0].lower(), args[1:]
    if verb not in USAGE:
        raise InvalidInput(f"Usage: `{TICKET_USAGE}`")
    if verb == "open":
        return await _open(ctx, rest)
    need(rest, 1, USAGE[verb])
    if verb == "note":
        return await _note(ctx, rest)
    if verb in STATUS_VERBS:
        found = await _ticket(ctx, rest[0])
        await ticket_status.change_status(
            ctx.session, ticket=found, to=STATUS_VERBS[verb], actor=ctx.actor, platform=ctx.platform, now=ctx.now
        )
        return Reply(STATUS_DONE[STATUS_VERBS[verb]].format(id=found.id), ephemeral=False)
    if verb == "mood":
        need(rest, 2, USAGE[verb])
        mood = ticket_domain.parse_mood(rest[1])
        found = await _ticket(ctx, rest[0])
        await ticket_domain.set_mood(
            ctx.session, ticket=found, mood=mood, actor=ctx.actor, platform=ctx.platform, now=ctx.now
        )
        return Reply(f"#{found.id} is marked {mood.value}.", ephemeral=False)
    if verb == "csat":
        return await _csat(ctx, rest)
    return await _show(ctx, rest)


async def _open(ctx: Context, rest: list[str]) -> Reply:
    positional, options = split_options(rest, {"priority": "urgent, high, normal or low"})
    need(positional, 2, USAGE["open"])
    priority = ticket_domain.parse_priority(options.get("priority", Priority.NORMAL.value))
    customer = await find_customer(ctx.session, workspace_id=ctx.workspace.id, ref=positional[0])
    opened = await ticket_domain.open_ticket(
        ctx.session,
        customer=customer,
        subject=" ".join(positional[1:]),
        priority=priority,
        actor=ctx.actor,
        platform=ctx.platform,
        now=ctx.now,
    )
    t = opened.ticket
    fields = [("Customer", customer.name), ("Priority", t.priority.value)]
    if opened.flagged:
        notice = Reply(
            f"Nobody owns {customer.name}, and {ctx.actor.display_name} just opened #{t.id}: {t.subject}. "
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
    fields.append(("Owner", owner.display_name if owner else "nobody"))
    told = Reply(
        f"{ctx.actor.display_name} opened #{t.id} for your customer {customer.name}: {t.subject}",
        fields=[("Priority", t.priority.value)],
    )
    return Reply(
        f"Opened #{t.id} for {customer.name}: {t.subject}",
        fields=fields,
        ephemeral=False,
        notices=await _tell_owner(ctx, t, told),
    )


async def _note(ctx: Context, rest: list[str]) -> Reply:
    positional, options = split_options(rest, {}, flags={"from-customer": "the customer wrote this"})
    need(positional, 2, USAGE["note"])
    found = await _ticket(ctx, positional[0])
    from_customer = options.get("from-customer") == "yes"
    result = await ticket_domain.add_note(
        ctx.session,
        ticket=found,
        text=" ".join(positional[1:]),
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
    if result.tone.clearly_negative:
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


async def _csat(ctx: Context, rest: list[str]) -> Reply:
    need(rest, 2, USAGE["csat"])
    found = await _ticket(ctx, rest[0])
    result = await ticket_domain.record_csat(
        ctx.session,
        ticket=found,
        rating=rest[1],
        comment=" ".join(rest[2:]),
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


async def _show(ctx: Context, rest: list[str]) -> Reply:
    found = await ticket_domain.get_ticket(
        ctx.session, workspace_id=ctx.workspace.id, ticket_id=ticket_domain.parse_ticket_id(rest[0])
    )
    customer = await ctx.session.get(Customer, found.customer_id)
    owner = await ctx.session.get(Member, found.owner_id) if found.owner_id else None
    levels = ticket_views.service_levels(found, now=ctx.now)
    mood = found.mood.value + (f" ({found.mood_reason})" if found.mood_reason and found.mood != Mood.NEUTRAL else "")
    fields = [
        ("Customer", customer.name if customer else "?"),
        ("Status", found.status.value),
        ("Priority", found.priority.value),
        ("Owner", owner.display_name if owner else "nobody"),
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


@command("tickets", usage="tickets [customer]", summary="Your open tickets, or a customer's tickets.", group=GROUP)
async def tickets(ctx: Context, args: list[str]) -> Reply:
    if args:
        customer = await find_customer(ctx.session, workspace_id=ctx.workspace.id, ref=" ".join(args))
        rows = await ticket_views.list_tickets(ctx.session, workspace_id=ctx.workspace.id, customer_id=customer.id)
        title = f"{customer.name}: {len(rows)} ticket(s) not closed"
        empty = f"{customer.name} has no tickets. `ticket open {quote(customer.name)} <subject>` to open one."
    else:
        rows = await ticket_views.list_tickets(ctx.session, workspace_id=ctx.workspace.id, owner_id=ctx.actor.id)
        title = f"You have {len(rows)} open or pending ticket(s)"
        empty = "You have no open tickets."
    if not rows:
        return Reply(empty)
    fields = []
    for row in rows:
        t = row.ticket
        mood = ", unhappy" if t.mood == Mood.UNHAPPY else ""
        fields.append(
            (
                f"#{t.id} {row.customer}",
                f"{t.subject} [{t.status.value}, {t.priority.value}{mood}] owner {row.owner or 'nobody'}",
            )
        )
    return Reply(title, fields=fields)


@command("idea", usage="idea <customer> <text…>", summary="Record a customer's idea or suggestion.", group=GROUP)
async def idea(ctx: Context, args: list[str]) -> Reply:
    need(args, 2, "idea <customer> <text…>")
    customer = await find_customer(ctx.session, workspace_id=ctx.workspace.id, ref=args[0])
    recorded = await idea_domain.record_idea(
        ctx.session, actor=ctx.actor, customer=customer, text=" ".join(args[1:]), platform=ctx.platform, now=ctx.now
    )
    return Reply(f"Recorded {customer.name}'s idea: {recorded.text}")


@command(
    "ideas", usage="ideas [customer] [--since 30d]", summary="Customers' ideas, per customer and period.", group=GROUP
)
async def ideas(ctx: Context, args: list[str]) -> Reply:
    positional, options = split_options(args, {"since": "a period like 30d, 2w or 12h"})
    since = parse_since(options["since"], ctx.now) if "since" in options else None
    customer = None
    if positional:
        customer = await find_customer(ctx.session, workspace_id=ctx.workspace.id, ref=" ".join(positional))
    rows = await idea_domain.list_ideas(
        ctx.session, workspace_id=ctx.workspace.id, customer_id=customer.id if customer else None, since=since
    )
    scope = f" from {customer.name}" if customer else ""
    period = f" since {when(since)}" if since else ""
    if not rows:
        return Reply(f"No ideas{scope}{period} yet. `idea <customer> <text>` records one.")
    return Reply(
        f"{len(rows)} idea(s){scope}{period}",
        fields=[(f"{when(r.idea.created_at)} {r.customer}", f"{r.idea.text} (by {r.author or '?'})") for r in rows],
    )
