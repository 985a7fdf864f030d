"""A small job can be taken on a phone call: 'voice' joins the ways an assignment was made.

Revision ID: 3b8f0c5d2e17
Revises: 7d4c2a91e6b0
Create Date: 2026-12-06 10:00:00.000000

The CHECK constraint is replaced; on SQLite batch mode copies the table (it has no triggers).
"""

from __future__ import annotations

from alembic import op

revision = '3b8f0c5d2e17'
down_revision = '7d4c2a91e6b0'
branch_labels = None
depends_on = None

_BEFORE = "via IN ('sms', 'telegram', 'web', 'console', 'helper')"
_AFTER = "via IN ('sms', 'telegram', 'web', 'console', 'helper', 'voice')"


def _replace(condition: str) -> None:
    with op.batch_alter_table('task_assignments') as batch:
        batch.drop_constraint(op.f('ck_task_assignments_via'), type_='check')
        batch.create_check_constraint(op.f('ck_task_assignments_via'), condition)


def upgrade() -> None:
    _replace(_AFTER)


def downgrade() -> None:
    op.execute("UPDATE task_assignments SET via = 'sms' WHERE via = 'voice'")
    _replace(_BEFORE)
