"""How much database work runs at once, and the connection pool that carries it (environment variables).

- DATABASE_WRITERS: commands whose transaction runs at once (handlers.admission); the rest wait their turn in
  order. Default 1 on SQLite (it has one writer: more would only wait on its lock) and 8 on PostgreSQL.
- DATABASE_QUEUE_SECONDS (300): how long a command waits for its turn before it is answered "busy" (nothing
  changed). The platform was acked long before; only the reply waits (Slack's response_url lasts 30 minutes).
- DATABASE_POOL_SIZE: connections kept open; default DATABASE_WRITERS + 4, so the commands in their turn, the
  outbox sender, the ticker and the health check never wait for a connection. DATABASE_POOL_OVERFLOW (4) more
  may open for a moment; a checkout waits DATABASE_POOL_TIMEOUT (30) seconds at most. On PostgreSQL each
  replica holds up to size + overflow connections: keep replicas × (size + overflow) below `max_connections`.
  Connections are not pinged when taken from the pool (a round trip for every transaction): a command whose
  connection died with a database restart is tried once more on a fresh one (handlers.dispatch).
"""

from __future__ import annotations

from typing import Any

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class CapacitySettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    database_writers: int | None = Field(default=None, ge=1, le=256)
    database_queue_seconds: float = Field(default=300.0, gt=0, le=3600)
    database_pool_size: int | None = Field(default=None, ge=1, le=512)
    database_pool_overflow: int = Field(default=4, ge=0, le=512)
    database_pool_timeout: float = Field(default=30.0, gt=0, le=600)

    def writers(self, database_url: str) -> int:
        if self.database_writers is not None:
            return self.database_writers
        return 1 if database_url.startswith("sqlite") else 8

    def pool(self, database_url: str) -> dict[str, Any]:
        """Keyword arguments for `db.engine.create_engine` (none for an in-memory SQLite, which has one connection)."""
        if ":memory:" in database_url or database_url.rstrip("/").endswith("sqlite+aiosqlite:"):
            return {}
        return {
            "pool_size": self.database_pool_size or self.writers(database_url) + 4,
            "max_overflow": self.database_pool_overflow,
            "pool_timeout": self.database_pool_timeout,
        }
