"""ownership triggers: a customer's open tickets follow its owner; an ownership event asks for a nudge re-check

What must follow a change of owner is done by the database, for every code path and with no statement of its
own (claims, handoffs, reassigns, releases and imports each write one or two fewer):
- a customer's open and pending tickets follow its owner; a move away from someone counts as a re-assign
  (claiming an unowned customer does not);
- an ownership event puts its customer and the customer's active tickets up for a nudge re-check.

Revision ID: 0015_ownership_triggers
Revises: 0014_customer_lookup_index
Create Date: 2026-11-24 05:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0015_ownership_triggers"
down_revision: str | Sequence[str] | None = "0014_customer_lookup_index"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ACTIVE = "tickets.status IN ('open', 'pending')"  # ownership.claim_views.ACTIVE_STATUSES
MOVE = f"""
    UPDATE tickets SET owner_id = NEW.owner_id,
        reassign_count = reassign_count + CASE WHEN OLD.owner_id IS NULL THEN 0 ELSE 1 END
    WHERE tickets.customer_id = NEW.id AND {ACTIVE};
"""
# EPOCH (db.models.nudges) is "at the next tick"; SQLite keeps datetimes as SQLAlchemy writes them.
RECHECK = f"""
    INSERT INTO nudge_checks (subject_kind, subject_id, check_at)
    SELECT kind, id, at FROM (
        SELECT 'customer' AS kind, NEW.customer_id AS id, {{epoch}} AS at
        UNION ALL
        SELECT 'ticket', tickets.id, {{epoch}} FROM tickets WHERE tickets.customer_id = NEW.customer_id AND {ACTIVE}
    ) AS due WHERE true
    ON CONFLICT (subject_kind, subject_id) DO UPDATE SET check_at = excluded.check_at;
"""
TRIGGERS = {  # name: (event, PostgreSQL's WHEN, SQLite's WHEN, body)
    "customers_owner_moves_tickets": (
        "AFTER UPDATE OF owner_id ON customers",
        "OLD.owner_id IS DISTINCT FROM NEW.owner_id",
        "OLD.owner_id IS NOT NEW.owner_id",
        MOVE,
    ),
    "ownership_events_recheck": ("AFTER INSERT ON ownership_events", None, None, RECHECK),
}


def upgrade() -> None:
    postgres = _postgres()
    for name, (on, pg_when, sqlite_when, body) in TRIGGERS.items():
        body = body.format(epoch="TIMESTAMPTZ 'epoch'" if postgres else "'1970-01-01 00:00:00.000000'")
        if postgres:
            op.execute(f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN {body} RETURN NULL; END $$")
            when = f" WHEN ({pg_when})" if pg_when else ""
            op.execute(f"CREATE TRIGGER {name} {on} FOR EACH ROW{when} EXECUTE FUNCTION {name}()")
        else:
            when = f" WHEN {sqlite_when}" if sqlite_when else ""
            op.execute(f"CREATE TRIGGER {name} {on}{when} BEGIN {body} END")


def downgrade() -> None:
    for name, (on, *_) in TRIGGERS.items():
        if _postgres():
            op.execute(f"DROP TRIGGER {name} ON {on.rsplit(' ', 1)[1]}")
            op.execute(f"DROP FUNCTION {name}()")
        else:
            op.execute(f"DROP TRIGGER {name}")


def _postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"
