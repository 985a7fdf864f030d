"""Conversations: state per sender, transcript, outbox, escalations, applications, link codes.

Revision ID: f758ed535f7e
Revises: b3ed6ec7c5e2
Create Date: 2026-11-23 11:24:00.449594
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = 'f758ed535f7e'
down_revision = 'b3ed6ec7c5e2'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('conversations',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('channel', sa.String(length=10), nullable=False),
    sa.Column('address', sa.String(length=64), nullable=False),
    sa.Column('state_json', sa.Text(), nullable=False),
    sa.Column('handoff', sa.String(length=10), nullable=False),
    sa.Column('opted_out', sa.Boolean(), nullable=False),
    sa.Column('municipality_code', sa.String(length=3), nullable=True),
    sa.Column('last_activity_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("channel IN ('sms', 'telegram', 'web')", name=op.f('ck_conversations_channel')),
    sa.CheckConstraint("handoff IN ('bot', 'waiting', 'human')", name=op.f('ck_conversations_handoff')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_conversations')),
    sa.UniqueConstraint('channel', 'address', name='channel_address')
    )
    op.create_table('link_attempts',
    sa.Column('channel', sa.String(length=10), nullable=False),
    sa.Column('address', sa.String(length=64), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('channel', 'address', name=op.f('pk_link_attempts'))
    )
    op.create_table('card_applications',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('conversation_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('cpr_encrypted', sa.LargeBinary(), nullable=True),
    sa.Column('cpr_hash', sa.String(length=64), nullable=True),
    sa.Column('municipality_code', sa.String(length=3), nullable=True),
    sa.Column('postcode', sa.String(length=4), nullable=True),
    sa.Column('answers_json', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('decision_reason', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('received', 'approved', 'rejected')", name=op.f('ck_card_applications_status')),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'], name=op.f('fk_card_applications_conversation_id_conversations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_card_applications'))
    )
    with op.batch_alter_table('card_applications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_card_applications_municipality_code'), ['municipality_code'], unique=False)

    op.create_table('escalations',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('conversation_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('urgent', sa.Boolean(), nullable=False),
    sa.Column('reason', sa.String(length=40), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('owner', sa.String(length=120), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('taken_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('waiting', 'taken', 'resolved')", name=op.f('ck_escalations_status')),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'], name=op.f('fk_escalations_conversation_id_conversations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_escalations'))
    )
    with op.batch_alter_table('escalations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_escalations_conversation_id'), ['conversation_id'], unique=False)
        batch_op.create_index('ix_escalations_open', ['status', 'urgent', 'created_at'], unique=False)

    op.create_table('outbox',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('channel', sa.String(length=10), nullable=False),
    sa.Column('recipient', sa.String(length=64), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('buttons_json', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=False),
    sa.Column('provider_message_id', sa.String(length=128), nullable=True),
    sa.Column('conversation_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('pending', 'sent', 'dead')", name=op.f('ck_outbox_status')),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'], name=op.f('fk_outbox_conversation_id_conversations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox'))
    )
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_due', ['status', 'next_attempt_at'], unique=False)
        batch_op.create_index('ix_outbox_recipient', ['channel', 'recipient', 'id'], unique=False)

    op.create_table('transcript_messages',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('conversation_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('direction', sa.String(length=3), nullable=False),
    sa.Column('channel', sa.String(length=10), nullable=False),
    sa.Column('provider_message_id', sa.String(length=128), nullable=True),
    sa.Column('author', sa.String(length=120), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('intent', sa.String(length=40), nullable=True),
    sa.Column('replies_json', sa.Text(), nullable=True),
    sa.Column('processed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('outbox_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("direction IN ('in', 'out')", name=op.f('ck_transcript_messages_direction')),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversations.id'], name=op.f('fk_transcript_messages_conversation_id_conversations')),
    sa.ForeignKeyConstraint(['outbox_id'], ['outbox.id'], name=op.f('fk_transcript_messages_outbox_id_outbox')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_transcript_messages')),
    sa.UniqueConstraint('channel', 'provider_message_id', name='channel_provider_id')
    )
    with op.batch_alter_table('transcript_messages', schema=None) as batch_op:
        batch_op.create_index('ix_transcript_messages_conversation', ['conversation_id', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_transcript_messages_created_at'), ['created_at'], unique=False)

    op.create_table('link_codes',
    sa.Column('card_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['card_id'], ['cards.id'], name=op.f('fk_link_codes_card_id_cards')),
    sa.PrimaryKeyConstraint('card_id', name=op.f('pk_link_codes'))
    )


def downgrade() -> None:
    op.drop_table('link_codes')
    with op.batch_alter_table('transcript_messages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_transcript_messages_created_at'))
        batch_op.drop_index('ix_transcript_messages_conversation')

    op.drop_table('transcript_messages')
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_recipient')
        batch_op.drop_index('ix_outbox_due')

    op.drop_table('outbox')
    with op.batch_alter_table('escalations', schema=None) as batch_op:
        batch_op.drop_index('ix_escalations_open')
        batch_op.drop_index(batch_op.f('ix_escalations_conversation_id'))

    op.drop_table('escalations')
    with op.batch_alter_table('card_applications', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_card_applications_municipality_code'))

    op.drop_table('card_applications')
    op.drop_table('link_attempts')
    op.drop_table('conversations')
