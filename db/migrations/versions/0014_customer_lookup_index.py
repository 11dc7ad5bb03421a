"""customer lookup index: a typed external id in any case is found by index, not by scanning the workspace

Revision ID: 0014_customer_lookup_index
Revises: 0013_customer_channels
Create Date: 2026-11-24 01:40:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014_customer_lookup_index"
down_revision: str | Sequence[str] | None = "0013_customer_channels"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_customers_external_id_lower", "customers", ["workspace_id", sa.text("lower(external_id)")], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_customers_external_id_lower", table_name="customers")
