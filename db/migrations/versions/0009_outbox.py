"""outbox: one table for every message ownerbot sends on its own

The gesture messages move into it (`gesture_messages` is dropped): a message not sent yet becomes a pending
outbox row, a sent one a sent row with its platform message id (so later changes still edit it in place), and
a sent one that was out of date also owes an update in place. A downgrade recreates `gesture_messages` empty
and drops the outbox (what it still owed is lost).

Revision ID: 0009_outbox
Revises: 0008_escape_routes
Create Date: 2026-11-23 19:38:24.124980
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import db.models.base


revision: str = '0009_outbox'
down_revision: str | Sequence[str] | None = '0008_escape_routes'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


RENDER = "'gesture:' || CAST(g.proposal_id AS VARCHAR(20)) || ':' || g.purpose"
KEY = f"{RENDER} || ':' || g.target"
PURPOSE = "CASE g.purpose WHEN 'card' THEN 'gesture-card' WHEN 'outcome' THEN 'gesture-outcome' ELSE 'gesture-dm' END"


def upgrade() -> None:
    op.create_table('outbox_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('platform', sa.Enum('slack', 'teams', 'console', 'webhook', name='platform', native_enum=False, length=16), nullable=False),
    sa.Column('workspace', sa.String(length=128), nullable=False),
    sa.Column('direct', sa.Boolean(), nullable=False),
    sa.Column('target', sa.String(length=128), nullable=False),
    sa.Column('purpose', sa.String(length=40), nullable=False),
    sa.Column('content', sa.Text(), nullable=True),
    sa.Column('render', sa.String(length=120), nullable=True),
    sa.Column('replaces_id', sa.Integer(), nullable=True),
    sa.Column('tell_on_failure', sa.Text(), nullable=False),
    sa.Column('status', sa.Enum('pending', 'sending', 'sent', 'failed', 'skipped', name='outboxstatus', native_enum=False, length=16), nullable=False),
    sa.Column('due_at', db.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('claimed_by', sa.String(length=80), nullable=True),
    sa.Column('lease_until', db.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('message_id', sa.String(length=256), nullable=True),
    sa.Column('message_channel', sa.String(length=256), nullable=True),
    sa.Column('created_at', db.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('sent_at', db.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['replaces_id'], ['outbox_messages.id'], name=op.f('fk_outbox_messages_replaces_id_outbox_messages'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_messages')),
    sa.UniqueConstraint('key', name=op.f('uq_outbox_messages_key'))
    )
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_messages_replaces', ['replaces_id', 'status'], unique=False)
        batch_op.create_index('ix_outbox_messages_status_due', ['status', 'due_at'], unique=False)
        batch_op.create_index('ix_outbox_messages_status_lease', ['status', 'lease_until'], unique=False)

    # Gesture messages -> outbox rows, drawn again at send time ("gesture:<id>:<purpose>").
    op.execute(
        f"""
        INSERT INTO outbox_messages (key, platform, workspace, direct, target, purpose, render, tell_on_failure,
            status, due_at, attempts, last_error, message_id, message_channel, created_at, sent_at)
        SELECT {KEY}, g.platform, g.workspace, g.direct, g.target, {PURPOSE}, {RENDER}, '',
            CASE WHEN g.message_id IS NOT NULL THEN 'sent' WHEN g.dirty THEN 'pending' ELSE 'failed' END,
            g.created_at, g.attempts, g.last_error, g.message_id, g.ref_channel_id, g.created_at, g.sent_at
        FROM gesture_messages g
        """
    )
    op.execute(
        f"""
        INSERT INTO outbox_messages (key, platform, workspace, direct, target, purpose, render, replaces_id,
            tell_on_failure, status, due_at, attempts, created_at)
        SELECT {KEY} || ':update:1', g.platform, g.workspace, g.direct, g.target, {PURPOSE}, {RENDER}, o.id, '',
            'pending', g.created_at, 0, g.created_at
        FROM gesture_messages g JOIN outbox_messages o ON o.key = {KEY}
        WHERE g.dirty AND g.message_id IS NOT NULL
        """
    )
    with op.batch_alter_table('gesture_messages', schema=None) as batch_op:
        batch_op.drop_index('ix_gesture_messages_dirty_claimed')
    op.drop_table('gesture_messages')



def downgrade() -> None:
    op.create_table('gesture_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('proposal_id', sa.Integer(), nullable=False),
    sa.Column('purpose', sa.String(length=40), nullable=False),
    sa.Column('direct', sa.Boolean(), nullable=False),
    sa.Column('target', sa.String(length=128), nullable=False),
    sa.Column('platform', sa.Enum('slack', 'teams', 'console', 'webhook', name='platform', native_enum=False, length=16), nullable=False),
    sa.Column('workspace', sa.String(length=128), nullable=False),
    sa.Column('message_id', sa.String(length=256), nullable=True),
    sa.Column('ref_channel_id', sa.String(length=256), nullable=True),
    sa.Column('want_version', sa.Integer(), nullable=False),
    sa.Column('sent_version', sa.Integer(), nullable=False),
    sa.Column('dirty', sa.Boolean(), nullable=False),
    sa.Column('claimed_until', db.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', db.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('sent_at', db.models.base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['proposal_id'], ['gesture_proposals.id'], name=op.f('fk_gesture_messages_proposal_id_gesture_proposals'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_gesture_messages')),
    sa.UniqueConstraint('proposal_id', 'purpose', 'target', name=op.f('uq_gesture_messages_proposal_id_purpose_target'))
    )
    with op.batch_alter_table('gesture_messages', schema=None) as batch_op:
        batch_op.create_index('ix_gesture_messages_dirty_claimed', ['dirty', 'claimed_until'], unique=False)

    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_messages_status_lease')
        batch_op.drop_index('ix_outbox_messages_status_due')
        batch_op.drop_index('ix_outbox_messages_replaces')

    op.drop_table('outbox_messages')
