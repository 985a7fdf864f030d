"""Outreach (issue 16): rules, messages with their unique key, INGEN PÅMINDELSER, announcements;
when a caseworker first opened an application.

Revision ID: 9c2e4f6a8b10
Revises: 3b8f0c5d2e17
Create Date: 2026-12-06 11:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '9c2e4f6a8b10'
down_revision = '3b8f0c5d2e17'
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('outreach_rules',
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('text_id', sa.String(length=60), nullable=False),
    sa.Column('who', sa.Text(), nullable=False),
    sa.Column('timing', sa.Text(), nullable=False),
    sa.Column('delay_hours', sa.Integer(), nullable=False),
    sa.Column('every_days', sa.Integer(), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_outreach_rules'))
    )
    op.create_table('outreach_messages',
    sa.Column('id', _ID, nullable=False),
    sa.Column('rule', sa.String(length=40), nullable=False),
    sa.Column('person_key', sa.String(length=40), nullable=False),
    sa.Column('occasion', sa.String(length=40), nullable=False),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('reason', sa.String(length=40), nullable=False),
    sa.Column('channel', sa.String(length=10), nullable=True),
    sa.Column('segments', sa.Integer(), nullable=False),
    sa.Column('outbox_id', _ID, nullable=True),
    sa.Column('conversation_id', sa.BigInteger(), nullable=True),
    sa.Column('card_id', sa.BigInteger(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('queued', 'skipped')", name=op.f('ck_outreach_messages_status')),
    sa.ForeignKeyConstraint(['outbox_id'], ['outbox.id'], name=op.f('fk_outreach_messages_outbox_id_outbox')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outreach_messages')),
    sa.UniqueConstraint('rule', 'person_key', 'occasion', name='rule_person_occasion')
    )
    with op.batch_alter_table('outreach_messages', schema=None) as batch_op:
        batch_op.create_index('ix_outreach_messages_person', ['person_key', 'created_at'], unique=False)
        batch_op.create_index('ix_outreach_messages_rule', ['rule', 'created_at'], unique=False)
    op.create_table('outreach_pauses',
    sa.Column('conversation_id', _ID, nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'], name=op.f('fk_outreach_pauses_conversation_id_conversations')),
    sa.PrimaryKeyConstraint('conversation_id', name=op.f('pk_outreach_pauses'))
    )
    op.create_table('outreach_announcements',
    sa.Column('id', _ID, nullable=False),
    sa.Column('municipality_code', sa.String(length=3), nullable=False),
    sa.Column('audience', sa.String(length=12), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('created_by', sa.String(length=120), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("audience IN ('active', 'used', 'never_used', 'digest')", name=op.f('ck_outreach_announcements_audience')),
    sa.CheckConstraint("status IN ('scheduled', 'done')", name=op.f('ck_outreach_announcements_status')),
    sa.ForeignKeyConstraint(['municipality_code'], ['municipalities.code'], name=op.f('fk_outreach_announcements_municipality_code_municipalities')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outreach_announcements'))
    )
    with op.batch_alter_table('card_applications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('opened_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('card_applications', schema=None) as batch_op:
        batch_op.drop_column('opened_at')
    op.drop_table('outreach_announcements')
    op.drop_table('outreach_pauses')
    with op.batch_alter_table('outreach_messages', schema=None) as batch_op:
        batch_op.drop_index('ix_outreach_messages_rule')
        batch_op.drop_index('ix_outreach_messages_person')
    op.drop_table('outreach_messages')
    op.drop_table('outreach_rules')
