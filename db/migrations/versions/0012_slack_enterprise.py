"""slack enterprise: a Slack workspace remembers its Enterprise Grid organization (org-wide installs are found by it)

Revision ID: 0012_slack_enterprise
Revises: 0011_hardening
Create Date: 2026-11-23 22:55:00.000000
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0012_slack_enterprise'
down_revision: str | Sequence[str] | None = '0011_hardening'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('workspaces', schema=None) as batch_op:
        batch_op.add_column(sa.Column('enterprise_id', sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('workspaces', schema=None) as batch_op:
        batch_op.drop_column('enterprise_id')
