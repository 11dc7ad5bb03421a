"""Custody tests reuse the nudge desk: the real sweeper over the real database, nudges into a console inbox."""

from __future__ import annotations

import pytest

from jobs.custody_returns import CustodyReturns

from ..conftest import Clock, Database
from ..nudges.conftest import desk, inbox, policy, sweeper  # noqa: F401  (fixtures)


@pytest.fixture
def returns(db: Database, clock: Clock) -> CustodyReturns:
    return CustodyReturns(db.sessions, clock=clock)
