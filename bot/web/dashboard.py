"""GET /dashboard (HTML), /dashboard.json and /dashboard.csv?table=...: the field of one workspace for leads.

Off unless DASHBOARD_TOKEN or DASHBOARD_TOKENS is set (then every route answers 404). DASHBOARD_TOKEN reads every
workspace; each DASHBOARD_TOKENS token reads only its own (`slack:T0123=<token>`). Send `Authorization: Bearer
<token>`, or open `/dashboard?token=<token>` once: that sets an HttpOnly, SameSite=Strict cookie (a keyed digest,
not the token), `Secure` when the request came over HTTPS (directly, or through a TRUSTED_PROXIES proxy saying
so in X-Forwarded-Proto / Forwarded), and redirects to the address without the token. Pick the workspace with
`?workspace=platform:id` (default: the token's own, else the only workspace, else console:local); filter with
`team`, `tier` and `owner`.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
from collections.abc import Sequence

from aiohttp import web
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.platforms import PlatformStatus
from bot.runtime import Runtime
from bot.settings import DashboardSettings
from db.models import Platform, Workspace
from reports.board import BoardFilter

from .dashboard_data import DashboardData, collect
from .dashboard_export import TABLES, csv_table
from .dashboard_page import render_html
from .failed_deliveries import failed_deliveries_html, failed_deliveries_json, failed_deliveries_of

log = logging.getLogger(__name__)
PATH = "/dashboard"
COOKIE = "ownerbot_dashboard"
ALL = "*"  # the scope of DASHBOARD_TOKEN: every workspace
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
HTML_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
    "form-action 'self'; frame-ancestors 'none'",
}


def cookie_value(token: str) -> str:
    """What the cookie holds: a digest keyed by the token, so the token itself never sits in the browser."""
    return hmac.new(token.encode(), b"ownerbot-dashboard-cookie", hashlib.sha256).hexdigest()


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


def scope_of(request: web.Request, scopes: Sequence[tuple[str, str | None]]) -> str | None:
    """The workspace the request's token reads (ALL for DASHBOARD_TOKEN), or None when it has no valid token."""
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    cookie = request.cookies.get(COOKIE)
    for token, workspace in scopes:
        if (scheme.lower() == "bearer" and given and _same(given.strip(), token)) or (
            cookie is not None and _same(cookie, cookie_value(token))
        ):
            return workspace or ALL
    return None


def came_over_https(request: web.Request, trusted: Sequence[Network]) -> bool:
    """HTTPS to us, or a trusted proxy (TRUSTED_PROXIES) says the browser used HTTPS."""
    if request.secure:
        return True
    try:
        peer = ipaddress.ip_address(request.remote or "")
    except ValueError:
        return False
    if not any(peer in network for network in trusted):
        return False
    forwarded_proto = request.headers.get("X-Forwarded-Proto", "").split(",")[0].strip().lower()
    forwarded = request.headers.get("Forwarded", "").split(",")[0].lower().replace(" ", "")
    return forwarded_proto == "https" or "proto=https" in forwarded.split(";")


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


def _filter(request: web.Request) -> BoardFilter:
    def value(name: str) -> str | None:
        given = request.query.get(name, "").strip()
        return given[:200] or None

    return BoardFilter(team=value("team"), tier=value("tier"), owner=value("owner"))


class Dashboard:
    """The dashboard's routes over the runtime: its sessions, its clock and its nudge policy."""

    def __init__(self, runtime: Runtime, settings: DashboardSettings) -> None:
        self.runtime = runtime
        self.scopes = settings.scopes()
        self.trusted = settings.trusted_proxies
        self.helpdesk_urls = dict(settings.helpdesk_ticket_urls)

    async def json(self, request: web.Request) -> web.StreamResponse:
        data = await self.data(request)
        if isinstance(data, web.StreamResponse):
            return data
        body = data.as_json()
        async with self.runtime.sessions() as session:
            body["failed_deliveries"] = failed_deliveries_json(
                await failed_deliveries_of(session, data.report.workspace)
            )
        return web.json_response(body, headers={"Cache-Control": "no-store"})

    async def html(self, request: web.Request) -> web.StreamResponse:
        data = await self.data(request)
        if isinstance(data, web.StreamResponse):
            return data
        async with self.runtime.sessions() as session:
            failed = failed_deliveries_html(await failed_deliveries_of(session, data.report.workspace))
        page = render_html(data).replace("</body>", failed + "</body>")
        return web.Response(text=page, content_type="text/html", charset="utf-8", headers=HTML_HEADERS)

    async def csv(self, request: web.Request) -> web.StreamResponse:
        table = request.query.get("table", "")
        if table not in TABLES:
            return _text(400, f"Bad request: table must be one of {', '.join(TABLES)}.")
        data = await self.data(request)
        if isinstance(data, web.StreamResponse):
            return data
        name = f"ownerbot-{table}-{data.report.workspace.replace(':', '-')}-{data.report.now:%Y%m%d}.csv"
        return web.Response(
            text=csv_table(data, table),
            content_type="text/csv",
            charset="utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
        )

    async def data(self, request: web.Request) -> DashboardData | web.Response:
        if not self.scopes:
            return _text(404, "Not found")
        scope = scope_of(request, self.scopes)
        if scope is None:
            return self.sign_in(request)
        ref = request.query.get("workspace") or (None if scope == ALL else scope)
        if scope != ALL and ref != scope:
            return _text(404, f"Not found: no workspace {ref!r}")  # another workspace: as if it did not exist
        async with self.runtime.sessions() as session:
            workspace = await _workspace(session, ref)
            if workspace is None:
                what = f"no workspace {ref!r}" if ref else "several workspaces: choose one with ?workspace=platform:id"
                return _text(404, f"Not found: {what}")
            return await collect(
                session,
                workspace=workspace,
                now=self.runtime.clock(),
                policy=self.runtime.policy,
                keep=_filter(request),
                helpdesk_urls=self.helpdesk_urls,
            )

    def sign_in(self, request: web.Request) -> web.Response:
        """`?token=<token>` once sets the cookie and redirects to the address without the token; else 401."""
        given = request.query.get("token")
        match = next((t for t, _ in self.scopes if given is not None and _same(given, t)), None)
        if match is not None:
            query = {k: v for k, v in request.query.items() if k != "token"}
            response = web.Response(
                status=303, headers={"Location": str(request.rel_url.with_query(query)), "Cache-Control": "no-store"}
            )
            response.set_cookie(
                COOKIE,
                cookie_value(match),
                httponly=True,
                samesite="Strict",
                path="/",
                secure=came_over_https(request, self.trusted),
                max_age=7 * 24 * 3600,
            )
            return response
        return web.Response(
            status=401,
            text="Unauthorized: send Authorization: Bearer <DASHBOARD_TOKEN>.",
            headers={"WWW-Authenticate": 'Bearer realm="ownerbot dashboard"', "Cache-Control": "no-store"},
        )


def register(app: web.Application, runtime: Runtime, settings: DashboardSettings) -> PlatformStatus:
    routes = Dashboard(runtime, settings)
    app.router.add_get(PATH, routes.html)
    app.router.add_get(PATH + ".json", routes.json)
    app.router.add_get(PATH + ".csv", routes.csv)
    if not routes.scopes:
        return PlatformStatus("dashboard", False, "DASHBOARD_TOKEN is not set")
    scoped = sum(1 for _, workspace in routes.scopes if workspace)
    return PlatformStatus(
        "dashboard",
        True,
        f"GET {PATH}, {PATH}.json and {PATH}.csv with a bearer token"
        + (f" ({scoped} scoped to one workspace)" if scoped else ""),
    )
