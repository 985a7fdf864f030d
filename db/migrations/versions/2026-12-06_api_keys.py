"""Scoped API keys for employers' payroll systems and municipalities' own systems.

Revision ID: 5a1e9c3d7b42
Revises: 9c2e4f6a8b10
Create Date: 2026-12-06 11:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '5a1e9c3d7b42'
down_revision = '9c2e4f6a8b10'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('api_keys',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('prefix', sa.String(length=16), nullable=False),
    sa.Column('secret_hash', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('employer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('municipality_code', sa.String(length=3), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=120), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("kind IN ('employer', 'municipality')", name=op.f('ck_api_keys_kind')),
    sa.CheckConstraint("kind <> 'employer' OR (employer_id IS NOT NULL AND municipality_code IS NULL)", name=op.f('ck_api_keys_employer_scope')),
    sa.CheckConstraint("kind <> 'municipality' OR (municipality_code IS NOT NULL AND employer_id IS NULL)", name=op.f('ck_api_keys_municipality_scope')),
    sa.ForeignKeyConstraint(['employer_id'], ['employers.id'], name=op.f('fk_api_keys_employer_id_employers')),
    sa.ForeignKeyConstraint(['municipality_code'], ['municipalities.code'], name=op.f('fk_api_keys_municipality_code_municipalities')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_keys')),
    sa.UniqueConstraint('prefix', name=op.f('uq_api_keys_prefix'))
    )


def downgrade() -> None:
    op.drop_table('api_keys')
