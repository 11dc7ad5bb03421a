"""The one wall clock, and the type every layer is handed it as.

`app.py` picks the clock once (`utc_now`) and passes it down; domain functions take `now` instead, so tests can
travel in time by handing the composition root a clock of their own. Times are timezone-aware UTC, which is
what `UTCDateTime` columns store.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)
