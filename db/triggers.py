"""Append-only enforcement in the database itself, so a bug elsewhere cannot rewrite history."""

from __future__ import annotations

from sqlalchemy.engine import Connection

APPEND_ONLY_TABLES = (
    "wage_reports",
    "ledger_entries",
    "card_events",
    "cap_versions",
    "audit_log",
    "idempotency_records",
)


def install_append_only_triggers(conn: Connection) -> None:
    """Refuse UPDATE and DELETE (and TRUNCATE on PostgreSQL) on every append-only table."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(
            "CREATE OR REPLACE FUNCTION frikort_append_only() RETURNS trigger AS $$ "
            "BEGIN RAISE EXCEPTION USING MESSAGE = 'append-only table ' || TG_TABLE_NAME, "
            "ERRCODE = 'P0001'; END $$ LANGUAGE plpgsql"
        )
        for table in APPEND_ONLY_TABLES:
            conn.exec_driver_sql(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION frikort_append_only()"
            )
            conn.exec_driver_sql(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION frikort_append_only()"
            )
        return
    for table in APPEND_ONLY_TABLES:
        for action in ("UPDATE", "DELETE"):
            conn.exec_driver_sql(
                f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, 'append-only table {table}'); END"
            )


def drop_append_only_triggers(conn: Connection) -> None:
    if conn.dialect.name == "postgresql":
        for table in APPEND_ONLY_TABLES:
            conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
            conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
        conn.exec_driver_sql("DROP FUNCTION IF EXISTS frikort_append_only()")
        return
    for table in APPEND_ONLY_TABLES:
        for action in ("update", "delete"):
            conn.exec_driver_sql(f"DROP TRIGGER IF EXISTS {table}_no_{action}")
