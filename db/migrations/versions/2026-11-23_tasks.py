"""Small jobs: tasks, task assignments, employers' own lists, job digests, helpers' phone
lists; the console role "helper".

Revision ID: 5f9405e548fb
Revises: 3416548e6e63
Create Date: 2026-11-23 14:06:52.430232
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '5f9405e548fb'
down_revision = '3416548e6e63'
branch_labels = None
depends_on = None


OLD_ROLES = "role IN ('caseworker', 'employer_consultant', 'admin')"
NEW_ROLES = "role IN ('caseworker', 'employer_consultant', 'admin', 'helper')"


def _roles(check: str) -> None:
    """Replaces the staff_users role CHECK (batch mode: SQLite recreates the table)."""
    with op.batch_alter_table('staff_users', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_staff_users_role'), type_='check')
        batch_op.create_check_constraint(op.f('ck_staff_users_role'), check)


def upgrade() -> None:
    _roles(NEW_ROLES)
    op.create_table('tasks',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('employer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('place', sa.String(length=200), nullable=False),
    sa.Column('postcode', sa.String(length=4), nullable=False),
    sa.Column('municipality_code', sa.String(length=3), nullable=False),
    sa.Column('window_start', sa.Date(), nullable=False),
    sa.Column('window_end', sa.Date(), nullable=False),
    sa.Column('expected_hours_centi', sa.Integer(), nullable=False),
    sa.Column('pay_per_hour_ore', sa.BigInteger(), nullable=False),
    sa.Column('places', sa.Integer(), nullable=False),
    sa.Column('places_taken', sa.Integer(), nullable=False),
    sa.Column('audience', sa.String(length=10), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('actor', sa.String(length=120), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('filled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("audience IN ('open', 'own_list')", name=op.f('ck_tasks_audience')),
    sa.CheckConstraint("status IN ('open', 'filled', 'cancelled', 'expired', 'done')", name=op.f('ck_tasks_status')),
    sa.CheckConstraint('expected_hours_centi > 0', name=op.f('ck_tasks_expected_hours')),
    sa.CheckConstraint('pay_per_hour_ore > 0', name=op.f('ck_tasks_pay')),
    sa.CheckConstraint('places BETWEEN 1 AND 20', name=op.f('ck_tasks_places')),
    sa.CheckConstraint('places_taken >= 0 AND places_taken <= places', name=op.f('ck_tasks_places_taken')),
    sa.CheckConstraint('window_end >= window_start', name=op.f('ck_tasks_window')),
    sa.ForeignKeyConstraint(['employer_id'], ['employers.id'], name=op.f('fk_tasks_employer_id_employers')),
    sa.ForeignKeyConstraint(['municipality_code'], ['municipalities.code'], name=op.f('fk_tasks_municipality_code_municipalities')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tasks'))
    )
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.create_index('ix_tasks_created_at', ['created_at'], unique=False)
        batch_op.create_index('ix_tasks_employer_status', ['employer_id', 'status'], unique=False)
        batch_op.create_index('ix_tasks_status_municipality', ['status', 'municipality_code', 'window_end'], unique=False)

    op.create_table('employer_known_people',
    sa.Column('employer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('card_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('actor', sa.String(length=120), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['card_id'], ['cards.id'], name=op.f('fk_employer_known_people_card_id_cards')),
    sa.ForeignKeyConstraint(['employer_id'], ['employers.id'], name=op.f('fk_employer_known_people_employer_id_employers')),
    sa.PrimaryKeyConstraint('employer_id', 'card_id', name=op.f('pk_employer_known_people'))
    )
    with op.batch_alter_table('employer_known_people', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_employer_known_people_card_id'), ['card_id'], unique=False)

    op.create_table('helper_phone_list',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('staff_user_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('card_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('consent_note', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['card_id'], ['cards.id'], name=op.f('fk_helper_phone_list_card_id_cards')),
    sa.ForeignKeyConstraint(['staff_user_id'], ['staff_users.id'], name=op.f('fk_helper_phone_list_staff_user_id_staff_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_helper_phone_list')),
    sa.UniqueConstraint('staff_user_id', 'card_id', name='staff_card')
    )
    with op.batch_alter_table('helper_phone_list', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_helper_phone_list_card_id'), ['card_id'], unique=False)

    op.create_table('job_digests',
    sa.Column('card_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('postcode', sa.String(length=4), nullable=False),
    sa.Column('frequency', sa.String(length=6), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('seen_until', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("frequency IN ('daily', 'weekly')", name=op.f('ck_job_digests_frequency')),
    sa.ForeignKeyConstraint(['card_id'], ['cards.id'], name=op.f('fk_job_digests_card_id_cards')),
    sa.PrimaryKeyConstraint('card_id', name=op.f('pk_job_digests'))
    )
    op.create_table('task_assignments',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('task_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('card_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('via', sa.String(length=10), nullable=False),
    sa.Column('helper', sa.String(length=64), nullable=True),
    sa.Column('consent_note', sa.Text(), nullable=True),
    sa.Column('reserved_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('cancelled_by', sa.String(length=10), nullable=True),
    sa.Column('hours_prompted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('wage_report_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.CheckConstraint("cancelled_by IS NULL OR cancelled_by IN ('holder', 'employer', 'staff')", name=op.f('ck_task_assignments_cancelled_by')),
    sa.CheckConstraint("status IN ('reserved', 'confirmed', 'cancelled', 'no_show', 'done')", name=op.f('ck_task_assignments_status')),
    sa.CheckConstraint("via <> 'helper' OR (helper IS NOT NULL AND consent_note IS NOT NULL)", name=op.f('ck_task_assignments_helper_consent')),
    sa.CheckConstraint("via IN ('sms', 'telegram', 'web', 'console', 'helper')", name=op.f('ck_task_assignments_via')),
    sa.ForeignKeyConstraint(['card_id'], ['cards.id'], name=op.f('fk_task_assignments_card_id_cards')),
    sa.ForeignKeyConstraint(['task_id'], ['tasks.id'], name=op.f('fk_task_assignments_task_id_tasks')),
    sa.ForeignKeyConstraint(['wage_report_id'], ['wage_reports.id'], name=op.f('fk_task_assignments_wage_report_id_wage_reports')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_task_assignments')),
    sa.UniqueConstraint('task_id', 'card_id', name='task_card')
    )
    with op.batch_alter_table('task_assignments', schema=None) as batch_op:
        batch_op.create_index('ix_task_assignments_card_status', ['card_id', 'status'], unique=False)
        batch_op.create_index('ix_task_assignments_status_prompted', ['status', 'hours_prompted_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('task_assignments', schema=None) as batch_op:
        batch_op.drop_index('ix_task_assignments_status_prompted')
        batch_op.drop_index('ix_task_assignments_card_status')

    op.drop_table('task_assignments')
    op.drop_table('job_digests')
    with op.batch_alter_table('helper_phone_list', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_helper_phone_list_card_id'))

    op.drop_table('helper_phone_list')
    with op.batch_alter_table('employer_known_people', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_employer_known_people_card_id'))

    op.drop_table('employer_known_people')
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.drop_index('ix_tasks_status_municipality')
        batch_op.drop_index('ix_tasks_employer_status')
        batch_op.drop_index('ix_tasks_created_at')

    op.drop_table('tasks')
    op.execute("DELETE FROM staff_users WHERE role = 'helper'")
    _roles(OLD_ROLES)
