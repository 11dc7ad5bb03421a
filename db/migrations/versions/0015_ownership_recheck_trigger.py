"""ownership recheck trigger: an ownership event puts its customer and the customer's active tickets up for a
nudge re-check, in the database (one statement fewer per claim, handoff, reassign and release, and no way for a
code path that writes an event to forget it)

Revision ID: 0015_ownership_recheck_trigger
Revises: 0014_customer_lookup_index
Create Date: 2026-11-24 05:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0015_ownership_recheck_trigger"
down_revision: str | Sequence[str] | None = "0014_customer_lookup_index"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# EPOCH (db.models.nudges): "at the next tick". SQLite keeps datetimes as SQLAlchemy writes them.
RECHECK = """
    INSERT INTO nudge_checks (subject_kind, subject_id, check_at)
    SELECT kind, id, at FROM (
        SELECT 'customer' AS kind, NEW.customer_id AS id, {epoch} AS at
        UNION ALL
        SELECT 'ticket', tickets.id, {epoch} FROM tickets
        WHERE tickets.customer_id = NEW.customer_id AND tickets.status IN ('open', 'pending')
    ) AS due WHERE true
    ON CONFLICT (subject_kind, subject_id) DO UPDATE SET check_at = excluded.check_at;
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION ownership_events_recheck() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
            + RECHECK.format(epoch="TIMESTAMPTZ 'epoch'")
            + " RETURN NULL; END $$"
        )
        op.execute(
            "CREATE TRIGGER ownership_events_recheck AFTER INSERT ON ownership_events"
            " FOR EACH ROW EXECUTE FUNCTION ownership_events_recheck()"
        )
    else:
        op.execute(
            "CREATE TRIGGER ownership_events_recheck AFTER INSERT ON ownership_events BEGIN"
            + RECHECK.format(epoch="'1970-01-01 00:00:00.000000'")
            + " END"
        )


def downgrade() -> None:
    op.execute("DROP TRIGGER ownership_events_recheck" + (" ON ownership_events" if _postgres() else ""))
    if _postgres():
        op.execute("DROP FUNCTION ownership_events_recheck()")


def _postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"
