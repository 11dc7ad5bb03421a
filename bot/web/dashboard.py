"""GET /dashboard (HTML) and GET /dashboard.json: the field report of one workspace for leads.

Off unless DASHBOARD_TOKEN is set (then both answer 404). With it: send `Authorization: Bearer <token>`, or open
`/dashboard?token=<token>` once: that sets an HttpOnly, SameSite=Strict cookie (a keyed digest, not the token)
and redirects to the address without the token. Pick the workspace with `?workspace=platform:id` (default: the
only workspace, else console:local).
"""

from __future__ import annotations

import hashlib
import hmac
import html
import logging
from datetime import timedelta

from aiohttp import web
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.platforms import PlatformStatus
from bot.runtime import Runtime
from bot.settings import DashboardSettings
from db.models import Platform, Workspace
from reports.field import FieldReport, TicketLine, field_report

from .failed_deliveries import failed_deliveries_html, failed_deliveries_json, failed_deliveries_of

log = logging.getLogger(__name__)
PATH = "/dashboard"
COOKIE = "ownerbot_dashboard"


def cookie_value(token: str) -> str:
    """What the cookie holds: a digest keyed by the token, so the token itself never sits in the browser."""
    return hmac.new(token.encode(), b"ownerbot-dashboard-cookie", hashlib.sha256).hexdigest()


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


def authorized(request: web.Request, token: str) -> bool:
    header = request.headers.get("Authorization", "")
    scheme, _, given = header.partition(" ")
    if scheme.lower() == "bearer" and given and _same(given.strip(), token):
        return True
    cookie = request.cookies.get(COOKIE)
    return cookie is not None and _same(cookie, cookie_value(token))


def _text(status: int, body: str) -> web.Response:
    return web.Response(status=status, text=body, headers={"Cache-Control": "no-store"})


async def _workspace(session: AsyncSession, ref: str | None) -> Workspace | None:
    if ref:
        platform, _, external_id = ref.partition(":")
        if platform not in {p.value for p in Platform} or not external_id:
            return None
        return (
            await session.execute(
                select(Workspace).where(Workspace.platform == Platform(platform), Workspace.external_id == external_id)
            )
        ).scalar_one_or_none()
    if await session.scalar(select(func.count()).select_from(Workspace)) == 1:
        return (await session.execute(select(Workspace))).scalar_one()
    return (
        await session.execute(
            select(Workspace).where(Workspace.platform == Platform.CONSOLE, Workspace.external_id == "local")
        )
    ).scalar_one_or_none()


class Dashboard:
    """The dashboard's routes over the runtime: its sessions, its clock and its nudge policy."""

    def __init__(self, runtime: Runtime, token: str) -> None:
        self.runtime = runtime
        self.token = token

    async def json(self, request: web.Request) -> web.StreamResponse:
        report = await self.report(request)
        if isinstance(report, web.StreamResponse):
            return report
        data = report.as_json()
        async with self.runtime.sessions() as session:
            data["failed_deliveries"] = failed_deliveries_json(await failed_deliveries_of(session, report.workspace))
        return web.json_response(data, headers={"Cache-Control": "no-store"})

    async def html(self, request: web.Request) -> web.StreamResponse:
        report = await self.report(request)
        if isinstance(report, web.StreamResponse):
            return report
        async with self.runtime.sessions() as session:
            failed = failed_deliveries_html(await failed_deliveries_of(session, report.workspace))
        return web.Response(
            text=render_html(report).replace("</body>", failed + "</body>"),
            content_type="text/html",
            charset="utf-8",
            headers={
                "Cache-Control": "no-store",
                "X-Content-Type-Options": "nosniff",
                "Referrer-Policy": "no-referrer",
                "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
            },
        )

    async def report(self, request: web.Request) -> FieldReport | web.Response:
        if not self.token:
            return _text(404, "Not found")
        if not authorized(request, self.token):
            return _sign_in(request, self.token)
        ref = request.query.get("workspace")
        async with self.runtime.sessions() as session:
            workspace = await _workspace(session, ref)
            if workspace is None:
                what = f"no workspace {ref!r}" if ref else "several workspaces: choose one with ?workspace=platform:id"
                return _text(404, f"Not found: {what}")
            return await field_report(
                session, workspace=workspace, now=self.runtime.clock(), policy=self.runtime.policy
            )


def _sign_in(request: web.Request, token: str) -> web.Response:
    """`?token=<token>` once sets the cookie and redirects to the address without the token; else 401."""
    given = request.query.get("token")
    if given is not None and _same(given, token):
        query = {k: v for k, v in request.query.items() if k != "token"}
        response = web.Response(
            status=303, headers={"Location": str(request.rel_url.with_query(query)), "Cache-Control": "no-store"}
        )
        response.set_cookie(
            COOKIE,
            cookie_value(token),
            httponly=True,
            samesite="Strict",
            path="/",
            secure=request.secure,
            max_age=7 * 24 * 3600,
        )
        return response
    return web.Response(
        status=401,
        text="Unauthorized: send Authorization: Bearer <DASHBOARD_TOKEN>.",
        headers={"WWW-Authenticate": 'Bearer realm="ownerbot dashboard"', "Cache-Control": "no-store"},
    )


# --- HTML ------------------------------------------------------------------------------------------------

e = html.escape

STYLE = """
body{font:15px/1.45 system-ui,sans-serif;margin:0 auto;max-width:1100px;padding:1rem 1.5rem;color:#1d1d1f}
h1{font-size:1.4rem;margin:.2rem 0}h2{font-size:1.05rem;margin:1.4rem 0 .4rem}
.muted{color:#666}.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(150px,1fr));gap:.6rem}
.card{border:1px solid #ddd;border-radius:8px;padding:.6rem .8rem}.card b{display:block;font-size:1.6rem}
.bad b{color:#b00020}table{border-collapse:collapse;width:100%}td,th{text-align:left;padding:.25rem .5rem;
border-bottom:1px solid #eee;vertical-align:top}th{font-weight:600}.far{background:#fff1f0}.flag{color:#b00020}
"""


def _span(span: timedelta | None) -> str:
    from handlers.tickets import duration

    return duration(span)


def _ticket_table(rows: list[TicketLine], detail: str | None = None) -> str:
    if not rows:
        return '<p class="muted">None.</p>'
    head = (
        "<tr><th>Ticket</th><th>Customer</th><th>Subject</th><th>Owner</th>"
        + (f"<th>{e(detail)}</th>" if detail else "")
        + "</tr>"
    )
    body = "".join(
        f"<tr><td>#{t.id}</td><td>{e(t.customer)}</td><td>{e(t.subject)}</td><td>{e(t.owner or 'nobody')}</td>"
        + (f"<td>{e(t.detail)}</td>" if detail else "")
        + "</tr>"
        for t in rows
    )
    return f"<table>{head}{body}</table>"


def _card(label: str, value: object, bad: bool = False) -> str:
    return f'<div class="card{" bad" if bad else ""}"><b>{e(str(value))}</b>{e(label)}</div>'


def render_html(report: FieldReport) -> str:
    r, t = report.reassigns, report.time_to_owner
    assert r is not None and t is not None
    cards = "".join(
        [
            _card("stale tickets", len(report.stale), bool(report.stale)),
            _card("service-level breaches", len(report.breaches), bool(report.breaches)),
            _card("unhappy customers", len(report.unhappy), bool(report.unhappy)),
            _card("unowned customers", len(report.unowned), bool(report.unowned)),
            _card("re-assigns per customer (30d)", f"{r.per_customer:.2f}"),
            _card("re-assigns per ticket (30d)", f"{r.per_ticket:.2f}"),
            _card("median time to owner: customers", _span(t.customers)),
            _card("median time to owner: tickets", _span(t.tickets)),
        ]
    )
    load = (
        "".join(
            f'<tr class="{"far" if a.far_above_median else ""}"><td>{e(a.name)}</td><td>{a.customers}</td>'
            f"<td>{a.open_tickets}</td><td>{a.overdue}</td>"
            f"<td>{'<span class=flag>⚠ far above the median</span>' if a.far_above_median else ''}</td></tr>"
            for a in report.load
        )
        or '<tr><td colspan="5" class="muted">No agents yet.</td></tr>'
    )
    potatoes = "".join(f"<li>{e(name)}: {n} moves</li>" for name, n in r.hot_customers + r.hot_tickets)
    unowned = ", ".join(e(name) for name in report.unowned) or "None."
    gestures = (
        "".join(
            f"<tr><td>{e(g.team)}</td><td>{e(g.budget)}</td><td>{g.open_votes}</td><td>"
            + ("; ".join(f"#{p[0]} {e(p[1])}: {e(p[2])} ({e(p[3] or 'nobody')})" for p in g.pending) or "nothing")
            + "</td></tr>"
            for g in report.gestures
        )
        or '<tr><td colspan="4" class="muted">No teams yet.</td></tr>'
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>ownerbot: the field in {e(report.workspace_name)}</title><style>{STYLE}</style></head><body>
<h1>The field in {e(report.workspace_name)}</h1>
<p class="muted">{e(report.workspace)} · {e(report.now.strftime("%A %d %B %Y %H:%M"))} UTC ·
<a href="?workspace={e(report.workspace)}">refresh</a></p>
<div class="grid">{cards}</div>
<h2>Each agent's load</h2>
<p class="muted">Team median: {report.median_open:g} open ticket(s).</p>
<table><tr><th>Agent</th><th>Customers</th><th>Open tickets</th><th>Overdue</th><th></th></tr>{load}</table>
<h2>Stale tickets</h2>{_ticket_table(report.stale)}
<h2>Service-level breaches</h2>{_ticket_table(report.breaches, "Breach")}
<h2>Unhappy customers</h2>{_ticket_table(report.unhappy, "Why")}
<h2>Unowned customers</h2><p>{unowned}</p>
<h2>Re-assigns in the last 30 days</h2>
<p>{r.customer_moves} over {r.customers} customer(s); {r.ticket_moves} over {r.tickets} ticket(s).</p>
<ul>{potatoes or '<li class="muted">No hot potatoes.</li>'}</ul>
<h2>Time to owner in the last 30 days</h2>
<p>Customers: median {e(_span(t.customers))} ({t.customers_counted} counted, {t.customers_waiting} still waiting).
Tickets: median {e(_span(t.tickets))} ({t.tickets_counted} counted, {t.tickets_waiting} still waiting).</p>
<h2>Gestures this month</h2>
<table><tr><th>Team</th><th>Budget</th><th>Open votes</th><th>To deliver</th></tr>{gestures}</table>
</body></html>
"""


def register(app: web.Application, runtime: Runtime, settings: DashboardSettings) -> PlatformStatus:
    token = settings.dashboard_token.get_secret_value() if settings.dashboard_token else ""
    routes = Dashboard(runtime, token)
    app.router.add_get(PATH, routes.html)
    app.router.add_get(PATH + ".json", routes.json)
    if not token:
        return PlatformStatus("dashboard", False, "DASHBOARD_TOKEN is not set")
    return PlatformStatus("dashboard", True, f"GET {PATH} and {PATH}.json with the bearer token")
