"""PostgreSQL: a batch's new wage reports counted in one round trip.

Revision ID: 7d2b9e4f1a60
Revises: c41f7e2a9d53
Create Date: 2026-12-08 08:00:00.000000

`frikort_count_reports` calls `frikort_count_report` once per element of its JSON array, in
the array's order, and returns each call's row with the element's position. Nothing is counted
differently: each report takes the card-year's row lock and runs the same statements as a
single report does; what goes is one round trip per report (issue 17, item 4). The caller
(ledger/service/report_batch.py) sends a chunk in lock order, so the order of the loop is
the order the single path would have taken the locks in.

The reports come as one JSON array, not as an array per column: psycopg writes a text array
element by element, escaping each through a regular expression, which cost a quarter of a
batch's client CPU; Python's JSON encoder is C.

`frikort_keep_results` writes the idempotency records of a report or a chunk, one INSERT.
It runs under `SET enable_seqscan = off` like the others, for the foreign-key check on each
record's report: PostgreSQL caches that check's plan for the connection's life. Made while
`wage_reports` was small, the plan is a scan of the whole table, and with the statistics
never refreshed (autovacuum is off on this machine) it stays one as the table grows: in a
run of 3.000 batched reports the checks read 4.5 million rows of `wage_reports`. Inside the
function the check is planned as an index lookup.
"""

from __future__ import annotations

from alembic import op

revision = '7d2b9e4f1a60'
down_revision = 'c41f7e2a9d53'
branch_labels = None
depends_on = None

COUNT_REPORTS = r"""
CREATE OR REPLACE FUNCTION frikort_count_reports(
    p_reports json, p_expires_at timestamptz, p_source_channel text, p_actor text,
    p_now timestamptz, p_reserved_before timestamptz, p_year_namespace integer)
RETURNS TABLE (b_position bigint, b_stored_hash text, b_stored_result text,
               b_cap_ore bigint, b_cap_is_demo boolean, b_used_before bigint,
               b_counted bigint, b_over_cap bigint, b_posted bigint, b_pending bigint,
               b_over_cap_total bigint, b_awaiting bigint)
LANGUAGE plpgsql SET enable_seqscan = off AS $fn$
DECLARE
    r record;
BEGIN
    FOR r IN
        SELECT * FROM json_to_recordset(p_reports) AS x(
            report_id bigint, employer_id bigint, card_id bigint, employment_id bigint,
            year integer, paid_on date, work_from date, work_to date, hours_centi integer,
            amount_ore bigint, post boolean, source_message_id text, scope text, key text,
            hold_year boolean, n bigint)
        ORDER BY x.n
    LOOP
        RETURN QUERY
        SELECT r.n, c.* FROM frikort_count_report(
            r.report_id, r.employer_id, r.card_id, r.employment_id, r.year, r.paid_on,
            r.work_from, r.work_to, r.hours_centi, r.amount_ore, r.post, p_expires_at,
            p_source_channel, r.source_message_id, p_actor, p_now, p_reserved_before,
            r.scope, r.key, r.hold_year, p_year_namespace) c;
    END LOOP;
END
$fn$
"""

KEEP_RESULTS = r"""
CREATE OR REPLACE FUNCTION frikort_keep_results(p_records json, p_at timestamptz)
RETURNS void
LANGUAGE plpgsql SET enable_seqscan = off AS $fn$
BEGIN
    INSERT INTO idempotency_records (scope, key, request_hash, report_id, result_json,
                                     created_at)
    SELECT k.scope, k.key, k.request_hash, k.report_id, k.result_json, p_at
      FROM json_to_recordset(p_records)
           AS k(scope text, key text, request_hash text, report_id bigint, result_json text);
END
$fn$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(COUNT_REPORTS)
    op.execute(KEEP_RESULTS)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP FUNCTION IF EXISTS frikort_count_reports(json, timestamptz, text, text,"
               " timestamptz, timestamptz, integer)")
    op.execute("DROP FUNCTION IF EXISTS frikort_keep_results(json, timestamptz)")
