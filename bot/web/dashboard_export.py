"""CSV export of every dashboard table (`/dashboard.csv?table=tickets`, with the page's workspace and filters).

Durations are in minutes, times in UTC ISO 8601. A cell that a spreadsheet would run as a formula (starting with
=, +, -, @, tab or carriage return) is prefixed with an apostrophe, so a customer named `=HYPERLINK(...)` stays text.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable
from datetime import timedelta

from .dashboard_data import DashboardData

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: object) -> object:
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _minutes(span: timedelta | None) -> int | str:
    return "" if span is None else int(span.total_seconds() // 60)


def _tickets(d: DashboardData) -> Iterable[list[object]]:
    yield [
        "ticket",
        "customer",
        "subject",
        "tier",
        "priority",
        "status",
        "age_minutes",
        "overdue_by_minutes",
        "owner",
        "team",
        "problems",
        "links",
    ]
    for r in d.tickets:
        yield [
            r.id,
            r.customer,
            r.subject,
            r.tier,
            r.priority,
            r.status,
            _minutes(r.age),
            _minutes(r.overdue_by),
            r.owner or "nobody",
            r.team or "",
            "; ".join(r.problems),
            " ".join(link.url for link in r.links),
        ]


def _load(d: DashboardData) -> Iterable[list[object]]:
    yield ["agent", "customers", "open_tickets", "overdue", "far_above_median"]
    for a in d.report.load:
        yield [a.name, a.customers, a.open_tickets, a.overdue, "yes" if a.far_above_median else "no"]
    yield ["nobody", len(d.report.unowned), d.unowned_open, "", ""]


def _trends(d: DashboardData) -> Iterable[list[object]]:
    yield [
        "week",
        "premium_hit_rate",
        "standard_hit_rate",
        "basic_hit_rate",
        "median_first_response_minutes",
        "csat_good",
        "csat_bad",
        "reassigns",
        "unhappy_customers",
        "gestures_delivered",
    ]
    for w in d.trends.weeks:
        rates = [w.hit_rate.get(t) for t in ("premium", "standard", "basic")]
        yield [
            w.start.date().isoformat(),
            *["" if r is None else round(r, 3) for r in rates],
            _minutes(w.median_first_response),
            w.csat_good,
            w.csat_bad,
            w.reassigns,
            w.unhappy_customers,
            w.gestures_delivered,
        ]


def _ideas(d: DashboardData) -> Iterable[list[object]]:
    yield ["customer", "theme", "ideas", "latest"]
    for i in d.ideas:
        yield [i.customer, i.theme, i.ideas, i.latest.isoformat()]


def _unowned(d: DashboardData) -> Iterable[list[object]]:
    yield ["customer"]
    for name in d.report.unowned:
        yield [name]


def _gestures(d: DashboardData) -> Iterable[list[object]]:
    yield ["team", "budget", "used_cents", "budget_cents", "open_votes", "to_deliver"]
    for g in d.report.gestures:
        pending = "; ".join(f"#{p[0]} {p[1]}: {p[2]} ({p[3] or 'nobody'})" for p in g.pending)
        yield [g.team, g.budget, g.used_cents, "" if g.budget_cents is None else g.budget_cents, g.open_votes, pending]


TABLES: dict[str, Callable[[DashboardData], Iterable[list[object]]]] = {
    "tickets": _tickets,
    "load": _load,
    "trends": _trends,
    "ideas": _ideas,
    "unowned": _unowned,
    "gestures": _gestures,
}


def csv_table(data: DashboardData, table: str) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    for row in TABLES[table](data):
        writer.writerow([_cell(v) for v in row])
    return out.getvalue()
