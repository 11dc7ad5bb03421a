"""The dashboard's HTML: one page, no script, readable on a phone (tables scroll sideways inside their own box,
charts scale to the screen). Every value is escaped; the charts are pygal's inline SVG."""

from __future__ import annotations

import html
from urllib.parse import urlencode

from handlers.tickets import duration
from reports.board import BoardRow

from .dashboard_data import DashboardData

e = html.escape

STYLE = """
*{box-sizing:border-box}body{font:15px/1.45 system-ui,sans-serif;margin:0 auto;max-width:1200px;padding:1rem;
color:#1d1d1f}h1{font-size:1.4rem;margin:.2rem 0}h2{font-size:1.05rem;margin:1.4rem 0 .4rem}
.muted{color:#666}.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(140px,1fr));gap:.6rem}
.card{border:1px solid #ddd;border-radius:8px;padding:.6rem .8rem}.card b{display:block;font-size:1.6rem}
.bad b{color:#b00020}.scroll{overflow-x:auto;-webkit-overflow-scrolling:touch;max-width:100%}
table{border-collapse:collapse;width:100%}td,th{text-align:left;padding:.3rem .5rem;border-bottom:1px solid #eee;
vertical-align:top}th{font-weight:600;white-space:nowrap}.far{background:#fff1f0}.flag{color:#b00020}
.tier-premium{font-weight:600}.late{color:#b00020;white-space:nowrap}.problems{margin:0;padding-left:1rem}
form.filters{display:flex;flex-wrap:wrap;gap:.5rem;align-items:end}form.filters label{display:flex;
flex-direction:column;font-size:.85rem}select,button{font:inherit;padding:.3rem .4rem}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,460px),1fr));gap:1rem}
.charts figure{margin:0;border:1px solid #eee;border-radius:8px;padding:.3rem}.charts svg{width:100%;height:auto}
.csv{font-size:.85rem;margin-left:.5rem;font-weight:normal}
@media (max-width:640px){body{padding:.6rem;font-size:14px}.card b{font-size:1.3rem}td,th{padding:.25rem .35rem}}
"""


def _select(name: str, label: str, choices: list[str], chosen: str | None) -> str:
    options = '<option value="">all</option>' + "".join(
        f'<option value="{e(c)}"{" selected" if chosen and c.casefold() == chosen.casefold() else ""}>{e(c)}</option>'
        for c in choices
    )
    return f'<label>{e(label)}<select name="{name}" id="filter-{name}">{options}</select></label>'


def _query(data: DashboardData, **extra: str) -> str:
    params = {"workspace": data.report.workspace, **{k: v for k, v in vars(data.keep).items() if v}, **extra}
    return urlencode(params)


def _csv(data: DashboardData, table: str) -> str:
    return f'<a class="csv" id="csv-{table}" href="/dashboard.csv?{e(_query(data, table=table))}">CSV</a>'


def _card(label: str, value: object, bad: bool = False) -> str:
    return f'<div class="card{" bad" if bad else ""}"><b>{e(str(value))}</b>{e(label)}</div>'


def _ticket_row(t: BoardRow) -> str:
    problems = "".join(f"<li>{e(p)}</li>" for p in t.problems)
    links = " · ".join(f'<a href="{e(link.url)}" rel="noreferrer">{e(link.label)}</a>' for link in t.links)
    late = f'<span class="late">{e(duration(t.overdue_by))}</span>' if t.overdue_by is not None else "—"
    return (
        f'<tr data-ticket="{t.id}"><td>#{t.id}</td><td>{e(t.customer)}</td><td>{e(t.subject)}</td>'
        f'<td class="tier-{e(t.tier)}">{e(t.tier)}</td><td>{e(t.priority)}</td><td>{e(duration(t.age))}</td>'
        f"<td>{late}</td><td>{e(t.owner or 'nobody')}</td><td>{e(t.team or '—')}</td>"
        f'<td><ul class="problems">{problems}</ul></td><td>{links or "—"}</td></tr>'
    )


def _tickets(data: DashboardData) -> str:
    if not data.tickets:
        return f'<p class="muted">No ticket needs attention{" with these filters" if _filtered(data) else ""}.</p>'
    head = (
        "<tr><th>Ticket</th><th>Customer</th><th>Subject</th><th>Tier</th><th>Priority</th><th>Age</th>"
        "<th>Overdue by</th><th>Owner</th><th>Team</th><th>Problems</th><th>Links</th></tr>"
    )
    return f'<div class="scroll"><table id="tickets">{head}{"".join(map(_ticket_row, data.tickets))}</table></div>'


def _filtered(data: DashboardData) -> bool:
    return any(vars(data.keep).values())


def _load(data: DashboardData) -> str:
    report = data.report
    rows = "".join(
        f'<tr class="{"far" if a.far_above_median else ""}"><td>{e(a.name)}</td><td>{a.customers}</td>'
        f"<td>{a.open_tickets}</td><td>{a.overdue}</td>"
        f"<td>{'<span class=flag>⚠ far above the median</span>' if a.far_above_median else ''}</td></tr>"
        for a in report.load
    )
    nobody = (
        f'<tr class="muted"><td>nobody (unowned)</td><td>{len(report.unowned)}</td><td>{data.unowned_open}</td>'
        "<td></td><td></td></tr>"
    )
    return (
        '<div class="scroll"><table id="load"><tr><th>Agent</th><th>Customers</th><th>Open tickets</th>'
        f"<th>Overdue</th><th></th></tr>{rows}{nobody}</table></div>"
    )


def _ideas(data: DashboardData) -> str:
    if not data.ideas:
        return '<p class="muted">No ideas recorded yet (`idea &lt;customer&gt; #theme …` in chat).</p>'
    rows = "".join(
        f"<tr><td>{e(i.customer)}</td><td>#{e(i.theme)}</td><td>{i.ideas}</td><td>{i.latest:%d %b %Y}</td></tr>"
        for i in data.ideas
    )
    return (
        '<div class="scroll"><table id="ideas"><tr><th>Customer</th><th>Theme</th><th>Ideas</th><th>Latest</th></tr>'
        f"{rows}</table></div>"
    )


def _gestures(data: DashboardData) -> str:
    rows = (
        "".join(
            f"<tr><td>{e(g.team)}</td><td>{e(g.budget)}</td><td>{g.open_votes}</td><td>"
            + ("; ".join(f"#{p[0]} {e(p[1])}: {e(p[2])} ({e(p[3] or 'nobody')})" for p in g.pending) or "nothing")
            + "</td></tr>"
            for g in data.report.gestures
        )
        or '<tr><td colspan="4" class="muted">No teams yet.</td></tr>'
    )
    return (
        '<div class="scroll"><table id="gestures"><tr><th>Team</th><th>Budget</th><th>Open votes</th>'
        f"<th>To deliver</th></tr>{rows}</table></div>"
    )


def _share(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


def _requests(data: DashboardData) -> str:
    rows = "".join(
        f"<tr><td>{e(row.customer)}</td><td>{e(row.channel_id)}</td><td>{row.requests}</td></tr>"
        for row in data.report.requests.per_channel
    )
    if not rows:
        return '<p class="muted">No requests from customer channels.</p>'
    return f'<table id="requests"><tr><th>Customer</th><th>Channel</th><th>Requests</th></tr>{rows}</table>'


def render_html(data: DashboardData) -> str:
    report = data.report
    r, t = report.reassigns, report.time_to_owner
    assert r is not None and t is not None
    late = [row for row in data.tickets if row.overdue_by is not None]
    cards = "".join(
        [
            _card("tickets need attention", len(data.tickets), bool(data.tickets)),
            _card("past a deadline", len(late), bool(late)),
            _card("unhappy customers", len(report.unhappy), bool(report.unhappy)),
            _card("unowned customers", len(report.unowned), bool(report.unowned)),
            _card("re-assigns per customer (30d)", f"{r.per_customer:.2f}"),
            _card("re-assigns per ticket (30d)", f"{r.per_ticket:.2f}"),
            _card("median time to owner: customers", duration(t.customers)),
            _card("median time to owner: tickets", duration(t.tickets)),
            _card("customer requests (30d)", report.requests.requests),
            _card("median first response to requests (business time)", duration(report.requests.median_first_response)),
            _card("requests answered within target", _share(report.requests.within_target)),
        ]
    )
    filters = (
        '<form class="filters" method="get" action="/dashboard" id="filters">'
        f'<input type="hidden" name="workspace" value="{e(report.workspace)}">'
        + _select("team", "Team", data.teams, data.keep.team)
        + _select("tier", "Tier", data.tiers, data.keep.tier)
        + _select("owner", "Owner", data.owners, data.keep.owner)
        + '<button type="submit" id="apply">Apply</button>'
        + (f' <a href="/dashboard?{e(_query(data, team="", tier="", owner=""))}">clear</a>' if _filtered(data) else "")
        + "</form>"
    )
    from .dashboard_charts import all_charts  # pygal loads with the first page drawn, not with the server

    charts = "".join(f'<figure class="chart">{svg}</figure>' for svg in all_charts(data.trends))
    potatoes = "".join(f"<li>{e(name)}: {n} moves</li>" for name, n in r.hot_customers + r.hot_tickets)
    unowned = ", ".join(e(name) for name in report.unowned) or "None."
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>ownerbot: the field in {e(report.workspace_name)}</title><style>{STYLE}</style></head><body>
<h1>The field in {e(report.workspace_name)}</h1>
<p class="muted">{e(report.workspace)} · {e(report.now.strftime("%A %d %B %Y %H:%M"))} UTC ·
<a href="/dashboard?{e(_query(data))}">refresh</a></p>
<div class="grid">{cards}</div>
<h2>Tickets that need attention, most urgent first {_csv(data, "tickets")}</h2>
{filters}
{_tickets(data)}
<h2>The last 12 weeks {_csv(data, "trends")}</h2>
<div class="charts" id="charts">{charts}</div>
<h2>Each agent's load {_csv(data, "load")}</h2>
<p class="muted">Team median: {report.median_open:g} open ticket(s).</p>
{_load(data)}
<h2>Unowned customers {_csv(data, "unowned")}</h2><p>{unowned}</p>
<h2>Customers' ideas {_csv(data, "ideas")}</h2>
{_ideas(data)}
<h2>Re-assigns in the last 30 days</h2>
<p>{r.customer_moves} over {r.customers} customer(s); {r.ticket_moves} over {r.tickets} ticket(s).</p>
<ul>{potatoes or '<li class="muted">No hot potatoes.</li>'}</ul>
<h2>Time to owner in the last 30 days</h2>
<p>Customers: median {e(duration(t.customers))} ({t.customers_counted} counted, {t.customers_waiting} still waiting).
Tickets: median {e(duration(t.tickets))} ({t.tickets_counted} counted, {t.tickets_waiting} still waiting).</p>
<h2>Requests from customer channels in the last 30 days</h2>
{_requests(data)}
<h2>Gestures this month {_csv(data, "gestures")}</h2>
{_gestures(data)}
</body></html>
"""
