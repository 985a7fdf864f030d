"""Console: staff accounts, login throttling, internal notes, application and escalation outcomes.

Revision ID: 3416548e6e63
Revises: f758ed535f7e
Create Date: 2026-11-23 13:01:22.323770
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '3416548e6e63'
down_revision = 'f758ed535f7e'
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table('login_throttle',
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('window_started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_login_throttle'))
    )
    op.create_table('staff_users',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('display_name', sa.String(length=120), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('role', sa.String(length=24), nullable=False),
    sa.Column('municipality_code', sa.String(length=3), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('session_version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_login_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("role = 'admin' OR municipality_code IS NOT NULL", name=op.f('ck_staff_users_municipality_for_role')),
    sa.CheckConstraint("role IN ('caseworker', 'employer_consultant', 'admin')", name=op.f('ck_staff_users_role')),
    sa.ForeignKeyConstraint(['municipality_code'], ['municipalities.code'], name=op.f('fk_staff_users_municipality_code_municipalities')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_users')),
    sa.UniqueConstraint('username', name=op.f('uq_staff_users_username'))
    )
    op.create_table('escalation_notes',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('escalation_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('author', sa.String(length=120), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['escalation_id'], ['escalations.id'], name=op.f('fk_escalation_notes_escalation_id_escalations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_escalation_notes'))
    )
    with op.batch_alter_table('escalation_notes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_escalation_notes_escalation_id'), ['escalation_id'], unique=False)

    with op.batch_alter_table('card_applications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('decided_by', sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column('card_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_card_applications_card_id_cards'), 'cards', ['card_id'], ['id'])

    with op.batch_alter_table('escalations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('outcome', sa.String(length=20), nullable=True))




def downgrade() -> None:

    with op.batch_alter_table('escalations', schema=None) as batch_op:
        batch_op.drop_column('outcome')

    with op.batch_alter_table('card_applications', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_card_applications_card_id_cards'), type_='foreignkey')
        batch_op.drop_column('card_id')
        batch_op.drop_column('decided_by')

    with op.batch_alter_table('escalation_notes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_escalation_notes_escalation_id'))

    op.drop_table('escalation_notes')
    op.drop_table('staff_users')
    op.drop_table('login_throttle')

