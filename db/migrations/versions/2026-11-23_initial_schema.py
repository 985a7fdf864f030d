"""Initial schema: reference data, cards, employers, the ledger and its append-only guards.

Revision ID: b3ed6ec7c5e2
Revises: 
Create Date: 2026-11-23 11:15:27.868270
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from db.reference_data import load_reference_data
from db.triggers import drop_append_only_triggers, install_append_only_triggers

revision = 'b3ed6ec7c5e2'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('audit_log',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sa.String(length=120), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('action', sa.String(length=40), nullable=False),
    sa.Column('entity_type', sa.String(length=20), nullable=False),
    sa.Column('entity_id', sa.String(length=40), nullable=False),
    sa.Column('details_json', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log'))
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_log_at'), ['at'], unique=False)

    op.create_table('cap_versions',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('amount_ore', sa.BigInteger(), nullable=False),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('is_demo', sa.Boolean(), nullable=False),
    sa.Column('actor', sa.String(length=120), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('amount_ore > 0', name=op.f('ck_cap_versions_amount')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cap_versions'))
    )
    with op.batch_alter_table('cap_versions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cap_versions_year'), ['year'], unique=False)

    op.create_table('employers',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('cvr', sa.String(length=8), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('contact_person', sa.String(length=200), nullable=False),
    sa.Column('verified', sa.Boolean(), nullable=False),
    sa.Column('verified_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_employers')),
    sa.UniqueConstraint('cvr', name=op.f('uq_employers_cvr'))
    )
    op.create_table('municipalities',
    sa.Column('code', sa.String(length=3), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('region', sa.String(length=40), nullable=False),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_municipalities'))
    )
    op.create_table('citizens',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('cpr_hash', sa.String(length=64), nullable=False),
    sa.Column('cpr_encrypted', sa.LargeBinary(), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('municipality_code', sa.String(length=3), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['municipality_code'], ['municipalities.code'], name=op.f('fk_citizens_municipality_code_municipalities')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_citizens')),
    sa.UniqueConstraint('cpr_hash', name=op.f('uq_citizens_cpr_hash'))
    )
    op.create_table('employer_contacts',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('employer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('address', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('phone', 'telegram')", name=op.f('ck_employer_contacts_kind')),
    sa.ForeignKeyConstraint(['employer_id'], ['employers.id'], name=op.f('fk_employer_contacts_employer_id_employers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_employer_contacts')),
    sa.UniqueConstraint('kind', 'address', 'employer_id', name='kind_address_employer')
    )
    with op.batch_alter_table('employer_contacts', schema=None) as batch_op:
        batch_op.create_index('ix_employer_contacts_address', ['kind', 'address'], unique=False)

    op.create_table('cards',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('number', sa.String(length=5), nullable=False),
    sa.Column('citizen_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('issued_on', sa.Date(), nullable=False),
    sa.Column('municipality_code', sa.String(length=3), nullable=False),
    sa.Column('last_control_on', sa.Date(), nullable=True),
    sa.CheckConstraint("status IN ('active', 'deactivated')", name=op.f('ck_cards_status')),
    sa.ForeignKeyConstraint(['citizen_id'], ['citizens.id'], name=op.f('fk_cards_citizen_id_citizens')),
    sa.ForeignKeyConstraint(['municipality_code'], ['municipalities.code'], name=op.f('fk_cards_municipality_code_municipalities')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cards')),
    sa.UniqueConstraint('citizen_id', name=op.f('uq_cards_citizen_id')),
    sa.UniqueConstraint('number', name=op.f('uq_cards_number'))
    )
    with op.batch_alter_table('cards', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cards_municipality_code'), ['municipality_code'], unique=False)

    op.create_table('citizen_contacts',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('citizen_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('address', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('phone', 'telegram')", name=op.f('ck_citizen_contacts_kind')),
    sa.ForeignKeyConstraint(['citizen_id'], ['citizens.id'], name=op.f('fk_citizen_contacts_citizen_id_citizens')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_citizen_contacts')),
    sa.UniqueConstraint('kind', 'address', name='kind_address')
    )
    with op.batch_alter_table('citizen_contacts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_citizen_contacts_citizen_id'), ['citizen_id'], unique=False)

    op.create_table('card_balances',
    sa.Column('card_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('cap_ore', sa.BigInteger(), nullable=False),
    sa.Column('posted_ore', sa.BigInteger(), nullable=False),
    sa.Column('pending_ore', sa.BigInteger(), nullable=False),
    sa.Column('over_cap_ore', sa.BigInteger(), nullable=False),
    sa.Column('awaiting_ore', sa.BigInteger(), nullable=False),
    sa.Column('entry_count', sa.Integer(), nullable=False),
    sa.CheckConstraint('posted_ore + pending_ore <= cap_ore', name=op.f('ck_card_balances_within_cap')),
    sa.CheckConstraint('posted_ore >= 0 AND pending_ore >= 0 AND over_cap_ore >= 0 AND awaiting_ore >= 0', name=op.f('ck_card_balances_sign')),
    sa.ForeignKeyConstraint(['card_id'], ['cards.id'], name=op.f('fk_card_balances_card_id_cards')),
    sa.PrimaryKeyConstraint('card_id', 'year', name=op.f('pk_card_balances'))
    )
    op.create_table('card_events',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('card_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('effective_on', sa.Date(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('municipality_code', sa.String(length=3), nullable=False),
    sa.Column('actor', sa.String(length=120), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('issued', 'deactivated', 'reactivated', 'transferred', 'controlled')", name=op.f('ck_card_events_kind')),
    sa.ForeignKeyConstraint(['card_id'], ['cards.id'], name=op.f('fk_card_events_card_id_cards')),
    sa.ForeignKeyConstraint(['municipality_code'], ['municipalities.code'], name=op.f('fk_card_events_municipality_code_municipalities')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_card_events'))
    )
    with op.batch_alter_table('card_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_card_events_card_id'), ['card_id'], unique=False)

    op.create_table('employments',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('employer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('card_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=True),
    sa.Column('weekly_hours_centi', sa.Integer(), nullable=False),
    sa.Column('contract_required', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('end_date IS NULL OR end_date >= start_date', name=op.f('ck_employments_period')),
    sa.CheckConstraint('weekly_hours_centi >= 0', name=op.f('ck_employments_weekly_hours')),
    sa.ForeignKeyConstraint(['card_id'], ['cards.id'], name=op.f('fk_employments_card_id_cards')),
    sa.ForeignKeyConstraint(['employer_id'], ['employers.id'], name=op.f('fk_employments_employer_id_employers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_employments')),
    sa.UniqueConstraint('employer_id', 'card_id', 'start_date', name='employer_card_start')
    )
    with op.batch_alter_table('employments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_employments_card_id'), ['card_id'], unique=False)

    op.create_table('wage_reports',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('employer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('card_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('employment_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('paid_on', sa.Date(), nullable=False),
    sa.Column('work_from', sa.Date(), nullable=False),
    sa.Column('work_to', sa.Date(), nullable=False),
    sa.Column('hours_centi', sa.Integer(), nullable=False),
    sa.Column('amount_ore', sa.BigInteger(), nullable=False),
    sa.Column('post_on_create', sa.Boolean(), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('source_channel', sa.String(length=16), nullable=False),
    sa.Column('source_message_id', sa.String(length=128), nullable=True),
    sa.Column('actor', sa.String(length=120), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('amount_ore > 0', name=op.f('ck_wage_reports_amount')),
    sa.CheckConstraint('hours_centi >= 0', name=op.f('ck_wage_reports_hours')),
    sa.CheckConstraint('work_to >= work_from', name=op.f('ck_wage_reports_work_period')),
    sa.ForeignKeyConstraint(['card_id'], ['cards.id'], name=op.f('fk_wage_reports_card_id_cards')),
    sa.ForeignKeyConstraint(['employer_id'], ['employers.id'], name=op.f('fk_wage_reports_employer_id_employers')),
    sa.ForeignKeyConstraint(['employment_id'], ['employments.id'], name=op.f('fk_wage_reports_employment_id_employments')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_wage_reports'))
    )
    with op.batch_alter_table('wage_reports', schema=None) as batch_op:
        batch_op.create_index('ix_wage_reports_card_year', ['card_id', 'year'], unique=False)
        batch_op.create_index(batch_op.f('ix_wage_reports_employer_id'), ['employer_id'], unique=False)

    op.create_table('idempotency_records',
    sa.Column('scope', sa.String(length=64), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('request_hash', sa.String(length=64), nullable=False),
    sa.Column('report_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('result_json', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['report_id'], ['wage_reports.id'], name=op.f('fk_idempotency_records_report_id_wage_reports')),
    sa.PrimaryKeyConstraint('scope', 'key', name=op.f('pk_idempotency_records'))
    )
    op.create_table('ledger_entries',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('report_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('card_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('counted_ore', sa.BigInteger(), nullable=False),
    sa.Column('over_cap_ore', sa.BigInteger(), nullable=False),
    sa.Column('awaiting_delta', sa.BigInteger(), nullable=False),
    sa.Column('pending_delta', sa.BigInteger(), nullable=False),
    sa.Column('posted_delta', sa.BigInteger(), nullable=False),
    sa.Column('over_cap_delta', sa.BigInteger(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('actor', sa.String(length=120), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('await_cap', 'confirm', 'reserve', 'post', 'post_direct', 'void', 'expire', 'reverse')", name=op.f('ck_ledger_entries_kind')),
    sa.CheckConstraint('counted_ore >= 0 AND over_cap_ore >= 0', name=op.f('ck_ledger_entries_split_sign')),
    sa.ForeignKeyConstraint(['card_id'], ['cards.id'], name=op.f('fk_ledger_entries_card_id_cards')),
    sa.ForeignKeyConstraint(['report_id'], ['wage_reports.id'], name=op.f('fk_ledger_entries_report_id_wage_reports')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_entries')),
    sa.UniqueConstraint('report_id', 'kind', name='report_kind')
    )
    with op.batch_alter_table('ledger_entries', schema=None) as batch_op:
        batch_op.create_index('ix_ledger_entries_card_year', ['card_id', 'year'], unique=False)
    install_append_only_triggers(op.get_bind())
    load_reference_data(op.get_bind())


def downgrade() -> None:
    drop_append_only_triggers(op.get_bind())
    with op.batch_alter_table('ledger_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_ledger_entries_card_year')

    op.drop_table('ledger_entries')
    op.drop_table('idempotency_records')
    with op.batch_alter_table('wage_reports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_wage_reports_employer_id'))
        batch_op.drop_index('ix_wage_reports_card_year')

    op.drop_table('wage_reports')
    with op.batch_alter_table('employments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_employments_card_id'))

    op.drop_table('employments')
    with op.batch_alter_table('card_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_card_events_card_id'))

    op.drop_table('card_events')
    op.drop_table('card_balances')
    with op.batch_alter_table('citizen_contacts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_citizen_contacts_citizen_id'))

    op.drop_table('citizen_contacts')
    with op.batch_alter_table('cards', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cards_municipality_code'))

    op.drop_table('cards')
    with op.batch_alter_table('employer_contacts', schema=None) as batch_op:
        batch_op.drop_index('ix_employer_contacts_address')

    op.drop_table('employer_contacts')
    op.drop_table('citizens')
    op.drop_table('municipalities')
    op.drop_table('employers')
    with op.batch_alter_table('cap_versions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cap_versions_year'))

    op.drop_table('cap_versions')
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_log_at'))

    op.drop_table('audit_log')
