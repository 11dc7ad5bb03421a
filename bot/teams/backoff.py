"""Bot Connector calls, retried on 429 and 5xx with exponential back-off (Retry-After wins when given)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")
MAX_RETRY_AFTER = 60.0


def connector_status(error: BaseException) -> int | None:
    """The HTTP status of a failed Bot Connector call (msrest's HttpOperationError carries the response)."""
    response = getattr(error, "response", None)
    status = getattr(response, "status_code", None)
    return status if isinstance(status, int) else None


def retry_after(error: BaseException) -> float | None:
    response = getattr(error, "response", None)
    headers = getattr(response, "headers", None) or {}
    try:
        value = headers.get("Retry-After")
        return min(float(value), MAX_RETRY_AFTER) if value is not None else None
    except (TypeError, ValueError):
        return None


def is_transient(error: BaseException) -> bool:
    status = connector_status(error)
    return status == 429 or (status is not None and status >= 500)


async def with_backoff(
    call: Callable[[], Awaitable[T]],
    *,
    attempts: int,
    base_seconds: float,
    what: str,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> T:
    """Run `call`; on a transient Bot Connector error wait and try again, up to `attempts` times in all."""
    for attempt in range(1, attempts + 1):
        try:
            return await call()
        except Exception as error:
            if not is_transient(error) or attempt == attempts:
                raise
            delay = retry_after(error)
            if delay is None:
                delay = base_seconds * (2 ** (attempt - 1))
            log.warning(
                "Bot Connector answered %s to %s; retrying in %.1fs (attempt %d of %d)",
                connector_status(error),
                what,
                delay,
                attempt + 1,
                attempts,
            )
            await sleep(delay)
    raise AssertionError("unreachable")
