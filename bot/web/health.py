"""GET /healthz: is the server up and can it reach its database."""

from __future__ import annotations

from aiohttp import web
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.runtime import Runtime

ENGINE_KEY = web.AppKey("engine", AsyncEngine)


async def healthz(request: web.Request) -> web.Response:
    engine = request.app[ENGINE_KEY]
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except Exception as error:  # the database is down or unreachable
        return web.json_response({"status": "error", "database": type(error).__name__}, status=503)
    return web.json_response({"status": "ok", "database": engine.dialect.name})


def register(app: web.Application, runtime: Runtime) -> None:
    app[ENGINE_KEY] = runtime.engine
    app.router.add_get("/healthz", healthz)
