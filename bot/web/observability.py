"""GET /metrics (Prometheus text format, prometheus-client) and the request id every web request carries.

On by default; METRICS_TOKEN makes /metrics require `Authorization: Bearer <token>`; METRICS_ENABLED=false turns
it off (404). The metric definitions live in `db.metrics`; the nudge backlog gauges are read at scrape time.
"""

from __future__ import annotations

import hmac
import logging
import re
from collections.abc import Awaitable, Callable
from datetime import timedelta

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

from bot.platforms import PlatformStatus
from bot.runtime import Runtime
from bot.settings import MetricsSettings
from db import metrics
from db.structured_logs import bound_request_id
from reports.operations import nudge_backlog

log = logging.getLogger(__name__)
PATH = "/metrics"
REQUEST_ID_HEADER = "X-Request-Id"
SAFE_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def request_ids(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Each request runs under a request id (the caller's X-Request-Id when it is a plain token, else a new
    one): every log line it writes carries it, and the answer names it."""
    given = request.headers.get(REQUEST_ID_HEADER, "")
    with bound_request_id(given if SAFE_ID.fullmatch(given) else None) as current:
        try:
            response = await handler(request)
        except web.HTTPException as error:
            error.headers[REQUEST_ID_HEADER] = current
            raise
        if not response.prepared:
            response.headers[REQUEST_ID_HEADER] = current
        return response


class Metrics:
    def __init__(self, runtime: Runtime, token: str | None) -> None:
        self.runtime = runtime
        self.token = token

    async def scrape(self, request: web.Request) -> web.Response:
        if self.token is not None:
            scheme, _, given = request.headers.get("Authorization", "").partition(" ")
            if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), self.token.encode()):
                return web.Response(
                    status=401,
                    text="Unauthorized: send Authorization: Bearer <METRICS_TOKEN>.",
                    headers={"WWW-Authenticate": 'Bearer realm="ownerbot metrics"'},
                )
        try:
            async with self.runtime.sessions() as session:
                backlog = await nudge_backlog(
                    session, now=self.runtime.clock(), behind=timedelta(seconds=2 * self.runtime.policy.tick_seconds)
                )
            metrics.set_nudges(due=backlog.due, overdue=backlog.overdue)
        except Exception as error:  # the database is down: the other metrics still answer (and count it)
            log.warning("metrics: could not read the nudge backlog (%s)", type(error).__name__)
        return web.Response(
            body=generate_latest(REGISTRY), headers={"Content-Type": CONTENT_TYPE_LATEST, "Cache-Control": "no-store"}
        )


def register(app: web.Application, runtime: Runtime, settings: MetricsSettings) -> PlatformStatus:
    if not settings.metrics_enabled:
        return PlatformStatus("metrics", False, "METRICS_ENABLED is false")
    app.router.add_get(PATH, Metrics(runtime, settings.token).scrape)
    return PlatformStatus("metrics", True, f"GET {PATH}" + (" with the bearer METRICS_TOKEN" if settings.token else ""))
