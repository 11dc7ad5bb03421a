"""console read markers: how far each member has read each console inbox

Revision ID: 0007_console_reads
Revises: 0006_nudges
Create Date: 2026-11-23 19:49:46.083831
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import db.models.base


revision: str = '0007_console_reads'
down_revision: str | Sequence[str] | None = '0006_nudges'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('console_read_markers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('box', sa.String(length=200), nullable=False),
    sa.Column('seen', sa.Integer(), nullable=False),
    sa.Column('updated_at', db.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_console_read_markers_member_id_members'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_console_read_markers')),
    sa.UniqueConstraint('member_id', 'box', name=op.f('uq_console_read_markers_member_id_box'))
    )


def downgrade() -> None:
    op.drop_table('console_read_markers')
