"""escape routes: custody (step-outs and away cover) of customers

Revision ID: 0008_escape_routes
Revises: 0007_console_reads
Create Date: 2026-11-23 19:45:16.822500
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import db.models.base


revision: str = '0008_escape_routes'
down_revision: str | Sequence[str] | None = '0007_console_reads'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    
    op.create_table('custodies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('workspace_id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.Enum('step-out', 'away-cover', name='custodykind', native_enum=False, length=16), nullable=False),
    sa.Column('status', sa.Enum('offered', 'active', 'ended', 'declined', name='custodystatus', native_enum=False, length=16), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('keeper_id', sa.Integer(), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('platform', sa.Enum('slack', 'teams', 'console', 'webhook', name='platform', native_enum=False, length=16), nullable=False),
    sa.Column('requested_at', db.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('starts_at', db.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('until', db.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('ended_at', db.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('ended_by_id', sa.Integer(), nullable=True),
    sa.Column('end_reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_custodies_customer_id_customers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['ended_by_id'], ['members.id'], name=op.f('fk_custodies_ended_by_id_members'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['keeper_id'], ['members.id'], name=op.f('fk_custodies_keeper_id_members'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['owner_id'], ['members.id'], name=op.f('fk_custodies_owner_id_members'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['requested_by_id'], ['members.id'], name=op.f('fk_custodies_requested_by_id_members'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_custodies_ticket_id_tickets'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'], name=op.f('fk_custodies_workspace_id_workspaces'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_custodies'))
    )
    with op.batch_alter_table('custodies', schema=None) as batch_op:
        batch_op.create_index('ix_custodies_keeper_status', ['keeper_id', 'status'], unique=False)
        batch_op.create_index('ix_custodies_owner_status', ['owner_id', 'status'], unique=False)
        batch_op.create_index('ix_custodies_status_until', ['status', 'until'], unique=False)
        batch_op.create_index('uq_custodies_one_open', ['customer_id'], unique=True, sqlite_where=sa.text("status IN ('offered', 'active')"), postgresql_where=sa.text("status IN ('offered', 'active')"))

    


def downgrade() -> None:
    
    with op.batch_alter_table('custodies', schema=None) as batch_op:
        batch_op.drop_index('uq_custodies_one_open', sqlite_where=sa.text("status IN ('offered', 'active')"), postgresql_where=sa.text("status IN ('offered', 'active')"))
        batch_op.drop_index('ix_custodies_status_until')
        batch_op.drop_index('ix_custodies_owner_status')
        batch_op.drop_index('ix_custodies_keeper_status')

    op.drop_table('custodies')
    
