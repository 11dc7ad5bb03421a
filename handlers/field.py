"""`field`: the field report of a whole workspace in chat, for leads (`reports.field` builds it; the web
dashboard shows the same report)."""

from __future__ import annotations

from ownership.people import require_lead
from reports.exposure import exposure_report
from reports.field import FieldReport, TicketLine, field_report
from reports.trends import Trends, weekly_trends

from .exposure import exposure_fields, move_buttons
from .nudges import policy_of
from .registry import Context, command
from .replies import Reply
from .tickets import duration


def _tickets(lines: list[TicketLine]) -> str:
    if not lines:
        return "none"
    parts = [f"#{t.id} {t.customer}" + (f" ({t.detail})" if t.detail else "") for t in lines[:10]]
    return "; ".join(parts) + (f" and {len(lines) - 10} more" if len(lines) > 10 else "")


def _rate(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


def trend_line(trends: Trends) -> str:
    """This week against the week before and the 12 weeks: service level, first response, CSAT, re-assigns."""
    weeks = trends.weeks
    now, before = weeks[-1], weeks[-2] if len(weeks) > 1 else None
    premium = f"premium service level {_rate(before.hit_rate.get('premium') if before else None)} → "
    premium += _rate(now.hit_rate.get("premium"))
    response = f"median first response {duration(now.median_first_response)}"
    if before is not None and before.median_first_response is not None:
        response += f" (was {duration(before.median_first_response)})"
    moves = [w.reassigns for w in weeks]
    average = sum(moves) / len(moves) if moves else 0
    return (
        f"{premium}; {response}; CSAT {now.csat_good} good / {now.csat_bad} bad this week; "
        f"re-assigns {now.reassigns} this week ({average:.1f} a week over {len(weeks)} weeks); "
        f"{now.unhappy_customers} unhappy customer(s), {now.gestures_delivered} gesture(s) delivered"
    )


def requests_line(report: FieldReport) -> str:
    """Requests from customer channels: how many, per customer and channel, and how fast the team answered."""
    q = report.requests
    where = ", ".join(f"{row.customer} in {channel_name(row.channel_id)} {row.requests}" for row in q.per_channel[:8])
    return (
        f"{q.requests} request(s) ({where}); median first response {duration(q.median_first_response)} "
        f"in business time; {_rate(q.within_target)} answered within target"
    )


def channel_name(channel_id: str) -> str:
    return f"<#{channel_id}>" if channel_id[:1] in ("C", "G") else "their Teams channel"


def render_field(report: FieldReport, trends: Trends | None = None) -> Reply:
    r, t = report.reassigns, report.time_to_owner
    assert r is not None and t is not None
    fields = [
        ("Stale tickets", _tickets(report.stale)),
        ("Service-level breaches", _tickets(report.breaches)),
        ("Unhappy customers", _tickets(report.unhappy)),
        ("Unowned customers", ", ".join(report.unowned[:15]) or "none"),
        (
            "Re-assigns (30 days)",
            f"{r.customer_moves} over {r.customers} customer(s) ({r.per_customer:.2f} each); "
            f"{r.ticket_moves} over {r.tickets} ticket(s) ({r.per_ticket:.2f} each)",
        ),
        ("Hot potatoes", "; ".join(f"{name} ({n} moves)" for name, n in r.hot_customers + r.hot_tickets) or "none"),
        (
            "Time to owner (30 days)",
            f"customers {duration(t.customers)} median ({t.customers_counted} counted, {t.customers_waiting} waiting); "
            f"tickets {duration(t.tickets)} median ({t.tickets_counted} counted, {t.tickets_waiting} waiting)",
        ),
    ]
    if report.requests.requests:
        fields.append(("Customer channels (30 days)", requests_line(report)))
    if trends is not None:
        fields.append(("Trend (12 weeks)", trend_line(trends)))
    for load in report.load:
        flag = f"  ⚠ far above the team median of {report.median_open:g}" if load.far_above_median else ""
        fields.append(
            (
                load.name,
                f"{load.customers} customer(s), {load.open_tickets} open ticket(s), {load.overdue} overdue{flag}",
            )
        )
    for g in report.gestures:
        pending = "; ".join(f"#{p[0]} {p[1]}: {p[2]} ({p[3] or 'nobody'})" for p in g.pending) or "nothing to deliver"
        fields.append((f"Gestures: {g.team}", f"{g.budget}; {g.open_votes} open vote(s); {pending}"))
    return Reply(f"The field in {report.workspace_name} on {report.now:%A %d %B %H:%M} UTC", fields=fields)


@command(
    "field",
    summary="Leads: the whole field: stale, unhappy, re-assigns, time to owner, load, and the 12-week trend.",
    group="Leads",
)
async def field_command(ctx: Context) -> Reply:
    require_lead(ctx.actor, "see the whole field")
    report = await field_report(ctx.session, workspace=ctx.workspace, now=ctx.now, policy=policy_of(ctx))
    reply = render_field(report, await weekly_trends(ctx.session, workspace=ctx.workspace, now=ctx.now))
    exposure = await exposure_report(ctx.session, workspace_id=ctx.workspace.id, now=ctx.now, policy=policy_of(ctx))
    reply.fields += exposure_fields(exposure)  # reports.exposure: absorbed hostility, evenings, step-outs, moves
    reply.buttons += move_buttons(exposure)
    return reply
