"""The audit log as a hash chain: prev_hash and row_hash on every row, existing rows chained.

Revision ID: 7d4c2a91e6b0
Revises: 9c2e41d7a0b3
Create Date: 2026-12-06 06:30:00.000000

Works on a database with data: the two columns are added (plain ALTER TABLE, so SQLite keeps
the table and its triggers), then the rows already there are chained in id order. The table
is append-only, so the update runs with its triggers off (PostgreSQL: ALTER TABLE ... DISABLE
TRIGGER, as the owner; SQLite: dropped and made again) inside the migration's transaction.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from alembic import op

from db.audit_chain import GENESIS, row_hash

revision = '7d4c2a91e6b0'
down_revision = '9c2e41d7a0b3'
branch_labels = None
depends_on = None

BATCH = 5000
_SQLITE_TRIGGERS = {
    "update": "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log "
              "BEGIN SELECT RAISE(ABORT, 'append-only table audit_log'); END",
    "delete": "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log "
              "BEGIN SELECT RAISE(ABORT, 'append-only table audit_log'); END",
}


def upgrade() -> None:
    op.add_column('audit_log', sa.Column('prev_hash', sa.String(length=64), nullable=True))
    op.add_column('audit_log', sa.Column('row_hash', sa.String(length=64), nullable=True))
    conn = op.get_bind()
    postgres = conn.dialect.name == "postgresql"
    if postgres:
        conn.exec_driver_sql("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only")
    else:
        conn.exec_driver_sql("DROP TRIGGER IF EXISTS audit_log_no_update")
    _chain_existing_rows(conn)
    if postgres:
        conn.exec_driver_sql("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only")
    else:
        conn.exec_driver_sql(_SQLITE_TRIGGERS["update"])


def _chain_existing_rows(conn: sa.engine.Connection) -> None:
    audit = sa.table('audit_log', sa.column('at', sa.DateTime(timezone=True)),
                     *(sa.column(name) for name in (
                         'id', 'actor', 'channel', 'action', 'entity_type', 'entity_id',
                         'details_json', 'prev_hash', 'row_hash')))
    prev, after = GENESIS, 0
    while True:
        rows = conn.execute(
            sa.select(audit.c.id, audit.c.at, audit.c.actor,
                      audit.c.channel, audit.c.action, audit.c.entity_type,
                      audit.c.entity_id, audit.c.details_json)
            .where(audit.c.id > after).order_by(audit.c.id).limit(BATCH)).mappings().all()
        if not rows:
            return
        updates = []
        for row in rows:
            values = dict(row)
            values['at'] = _utc(values['at'])
            digest = row_hash(prev, values)
            updates.append({'key': row['id'], 'p': prev, 'h': digest})
            prev = digest
        conn.execute(sa.update(audit).where(audit.c.id == sa.bindparam('key'))
                     .values(prev_hash=sa.bindparam('p'), row_hash=sa.bindparam('h')), updates)
        after = rows[-1]['id']


def _utc(value: str | dt.datetime) -> dt.datetime:
    """As ledger.db.tables.UtcDateTime reads it: aware UTC (SQLite keeps no zone)."""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def downgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name != "postgresql":
        # SQLite drops a column by copying the table, which loses its triggers: make them again.
        with op.batch_alter_table('audit_log', schema=None) as batch_op:
            batch_op.drop_column('row_hash')
            batch_op.drop_column('prev_hash')
        for action, statement in _SQLITE_TRIGGERS.items():
            conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS audit_log_no_{action}")
            conn.exec_driver_sql(statement)
        return
    op.drop_column('audit_log', 'row_hash')
    op.drop_column('audit_log', 'prev_hash')
