"""GET /healthz and GET /readyz.

- `/healthz`: the server is up, reaches its database, and the schema is at the newest migration; otherwise 503
  with the reason (`database unreachable: ...`, `schema not at head: ... run ./ownerbot db upgrade`).
- `/readyz`: the same, and the server takes new work: 503 while it starts and once it is stopping (SIGTERM), so a
  load balancer drains it before it exits.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from aiohttp import web
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.runtime import Runtime
from db import migrate

ENGINE_KEY = web.AppKey("engine", AsyncEngine)


@dataclass
class Readiness:
    """Whether this server takes new work; `serve` flips it when it has started and when it begins to stop."""

    started: bool = False
    stopping: bool = False
    heads: frozenset[str] = field(default_factory=frozenset)

    def reason(self) -> str | None:
        if self.stopping:
            return "stopping: finishing in-flight work"
        if not self.started:
            return "starting"
        return None


READINESS = web.AppKey("readiness", Readiness)


def migration_heads() -> frozenset[str]:
    """The newest revision(s) the code's migrations reach (read from the files, no database)."""
    return migrate.migration_heads()


async def database_problem(engine: AsyncEngine, heads: frozenset[str]) -> str | None:
    """None when the database answers and its schema is at head; otherwise one line saying what is wrong."""
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
            try:
                current = set((await connection.execute(text("SELECT version_num FROM alembic_version"))).scalars())
            except Exception:
                await connection.rollback()
                current = set()
    except Exception as error:  # down, unreachable, wrong credentials: the class only (no URL, no password)
        return f"database unreachable: {type(error).__name__}"
    if current != set(heads):
        at = ", ".join(sorted(current)) or "no schema"
        return f"schema not at head (database at {at}, code at {', '.join(sorted(heads))}): run ./ownerbot db upgrade"
    return None


async def healthz(request: web.Request) -> web.Response:
    engine = request.app[ENGINE_KEY]
    problem = await database_problem(engine, request.app[READINESS].heads)
    if problem is not None:
        return web.json_response({"status": "error", "reason": problem}, status=503)
    return web.json_response({"status": "ok", "database": engine.dialect.name})


async def readyz(request: web.Request) -> web.Response:
    readiness = request.app[READINESS]
    problem = readiness.reason() or await database_problem(request.app[ENGINE_KEY], readiness.heads)
    if problem is not None:
        return web.json_response({"status": "not ready", "reason": problem}, status=503)
    return web.json_response({"status": "ready"})


def register(app: web.Application, runtime: Runtime) -> Readiness:
    readiness = Readiness(heads=migration_heads())
    app[ENGINE_KEY] = runtime.engine
    app[READINESS] = readiness
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    return readiness
