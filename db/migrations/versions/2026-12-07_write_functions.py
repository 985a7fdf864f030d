"""PostgreSQL: a new wage report's counting and the audit chain's append, one round trip each.

Revision ID: c41f7e2a9d53
Revises: 5a1e9c3d7b42
Create Date: 2026-12-07 17:30:00.000000

Two functions (issue 17, item 3). Each holds the same locks, in the same order, as the
statements it replaces did; what changes is that the server runs the steps one after the
other without a round trip to the client between them. In READ COMMITTED a volatile
PL/pgSQL function takes a fresh snapshot for every statement, so a read after a lock sees
what the lock's previous holder committed, as the separate statements did.

- `frikort_count_report`: the card-year's row lock, the cap in force and the idempotency
  key's record under it, the expiry of reservations past their time, the split against the
  cap, and the report, its entry and the balance's movement (ledger/service/report_count.py).
- `frikort_audit_append`: the audit log's advisory lock, its tail, and the new rows with
  their hashes (db/audit_chain.py). The hash's JSON text comes from the client for every
  field but the two the server draws (the previous hash and the id), so client and server
  cannot disagree on how a string is escaped.

Both are declared with `SET enable_seqscan = off`. PL/pgSQL keeps a statement's plan for the
connection's life, so a plan made while a table's statistics said "three rows" stays a scan
as the table grows, unless an ANALYZE invalidates it. On a server without autovacuum nothing
does. Reading the audit chain's end became a scan of the whole log: +1.5 ms a report per
1.000 reports on one connection. Every statement here is an index lookup by design.

SQLite has neither and keeps the separate statements (in-process calls there).
"""

from __future__ import annotations

from alembic import op

revision = 'c41f7e2a9d53'
down_revision = '5a1e9c3d7b42'
branch_labels = None
depends_on = None

COUNT_REPORT = r"""
CREATE OR REPLACE FUNCTION frikort_count_report(
    p_report_id bigint, p_employer_id bigint, p_card_id bigint, p_employment_id bigint,
    p_year integer, p_paid_on date, p_work_from date, p_work_to date, p_hours_centi integer,
    p_amount_ore bigint, p_post boolean, p_expires_at timestamptz, p_source_channel text,
    p_source_message_id text, p_actor text, p_now timestamptz, p_reserved_before timestamptz,
    p_scope text, p_key text, p_hold_year boolean, p_year_namespace integer,
    OUT r_stored_hash text, OUT r_stored_result text, OUT r_cap_ore bigint,
    OUT r_cap_is_demo boolean, OUT r_used_before bigint, OUT r_counted bigint,
    OUT r_over_cap bigint, OUT r_posted bigint, OUT r_pending bigint,
    OUT r_over_cap_total bigint, OUT r_awaiting bigint)
LANGUAGE plpgsql SET enable_seqscan = off AS $fn$
DECLARE
    b card_balances%ROWTYPE;
    due record;
    v_kind text;
    d_awaiting bigint := 0;
    d_pending bigint := 0;
    d_posted bigint := 0;
    d_over bigint := 0;
BEGIN
    -- No cap for the year when the client looked: wait for an operator setting it now.
    IF p_hold_year THEN
        PERFORM pg_advisory_xact_lock_shared(p_year_namespace, p_year);
    END IF;
    -- The row lock that serialises every writer of this card-year (made on first use).
    INSERT INTO card_balances AS cb (card_id, year, cap_ore, posted_ore, pending_ore,
                                     over_cap_ore, awaiting_ore, entry_count)
    VALUES (p_card_id, p_year, 0, 0, 0, 0, 0, 0)
    ON CONFLICT (card_id, year) DO UPDATE SET card_id = excluded.card_id
    RETURNING cb.* INTO b;
    -- A new row cannot have been seen by a set_cap running now: take the year's lock.
    IF NOT p_hold_year AND b.entry_count = 0 THEN
        PERFORM pg_advisory_xact_lock_shared(p_year_namespace, p_year);
    END IF;
    SELECT c.amount_ore, c.is_demo INTO r_cap_ore, r_cap_is_demo
      FROM cap_versions c WHERE c.year = p_year ORDER BY c.id DESC LIMIT 1;
    SELECT k.request_hash, k.result_json INTO r_stored_hash, r_stored_result
      FROM idempotency_records k WHERE k.scope = p_scope AND k.key = p_key;
    IF r_stored_hash IS NOT NULL THEN
        RETURN;  -- the same key, committed while this one waited: a replay
    END IF;
    IF r_cap_ore IS NULL THEN  -- read once more under the year's lock: final then
        PERFORM pg_advisory_xact_lock_shared(p_year_namespace, p_year);
        SELECT c.amount_ore, c.is_demo INTO r_cap_ore, r_cap_is_demo
          FROM cap_versions c WHERE c.year = p_year ORDER BY c.id DESC LIMIT 1;
    END IF;
    IF r_cap_ore IS NOT NULL AND b.cap_ore <> r_cap_ore THEN
        UPDATE card_balances SET cap_ore = r_cap_ore
         WHERE card_id = p_card_id AND year = p_year;
    END IF;
    -- Reservations past their time are freed before the new report is counted.
    FOR due IN
        SELECT e.report_id, e.counted_ore
          FROM ledger_entries e JOIN wage_reports r ON r.id = e.report_id
         WHERE e.card_id = p_card_id AND e.year = p_year AND e.kind = 'reserve'
           AND r.expires_at <= p_now AND e.created_at <= p_reserved_before
           AND NOT EXISTS (SELECT 1 FROM ledger_entries s WHERE s.report_id = e.report_id
                           AND s.kind IN ('post', 'void', 'expire', 'reverse'))
         ORDER BY e.report_id
    LOOP
        INSERT INTO ledger_entries (report_id, card_id, year, kind, counted_ore, over_cap_ore,
                                    awaiting_delta, pending_delta, posted_delta,
                                    over_cap_delta, reason, actor, created_at)
        VALUES (due.report_id, p_card_id, p_year, 'expire', 0, 0, 0, -due.counted_ore, 0, 0,
                '', p_actor, p_now);
        UPDATE card_balances SET pending_ore = pending_ore - due.counted_ore,
                                 entry_count = entry_count + 1
         WHERE card_id = p_card_id AND year = p_year;
        b.pending_ore := b.pending_ore - due.counted_ore;
    END LOOP;
    -- The split (ledger.rules.split_against_cap; the client checks it against its own).
    r_used_before := b.posted_ore + b.pending_ore;
    IF r_cap_ore IS NULL THEN
        v_kind := 'await_cap';
        r_counted := 0;
        r_over_cap := 0;
        d_awaiting := p_amount_ore;
    ELSE
        r_counted := least(p_amount_ore, greatest(r_cap_ore - r_used_before, 0));
        r_over_cap := p_amount_ore - r_counted;
        IF p_post THEN
            v_kind := 'post_direct';
            d_posted := r_counted;
            d_over := r_over_cap;
        ELSE
            v_kind := 'reserve';
            d_pending := r_counted;
        END IF;
    END IF;
    INSERT INTO wage_reports (id, employer_id, card_id, employment_id, year, paid_on,
                              work_from, work_to, hours_centi, amount_ore, post_on_create,
                              expires_at, source_channel, source_message_id, actor, created_at)
    VALUES (p_report_id, p_employer_id, p_card_id, p_employment_id, p_year, p_paid_on,
            p_work_from, p_work_to, p_hours_centi, p_amount_ore, p_post, p_expires_at,
            p_source_channel, p_source_message_id, p_actor, p_now);
    INSERT INTO ledger_entries (report_id, card_id, year, kind, counted_ore, over_cap_ore,
                                awaiting_delta, pending_delta, posted_delta, over_cap_delta,
                                reason, actor, created_at)
    VALUES (p_report_id, p_card_id, p_year, v_kind, r_counted, r_over_cap, d_awaiting,
            d_pending, d_posted, d_over, '', p_actor, p_now);
    UPDATE card_balances SET awaiting_ore = awaiting_ore + d_awaiting,
                             pending_ore = pending_ore + d_pending,
                             posted_ore = posted_ore + d_posted,
                             over_cap_ore = over_cap_ore + d_over,
                             entry_count = entry_count + 1
     WHERE card_id = p_card_id AND year = p_year
    RETURNING posted_ore, pending_ore, over_cap_ore, awaiting_ore
         INTO r_posted, r_pending, r_over_cap_total, r_awaiting;
END
$fn$
"""

AUDIT_APPEND = r"""
CREATE OR REPLACE FUNCTION frikort_audit_append(p_rows json, p_lock_key bigint,
                                                p_genesis text)
RETURNS void
LANGUAGE plpgsql SET enable_seqscan = off AS $fn$
DECLARE
    v_prev text;
    v_row json;
    v_id bigint;
    v_hash text;
BEGIN
    PERFORM pg_advisory_xact_lock(p_lock_key);
    SELECT a.row_hash INTO v_prev FROM audit_log a ORDER BY a.id DESC LIMIT 1;
    v_prev := coalesce(v_prev, p_genesis);
    FOR v_row IN SELECT value FROM json_array_elements(p_rows) LOOP
        v_id := nextval(pg_get_serial_sequence('audit_log', 'id'));
        v_hash := encode(sha256(convert_to(
            '["' || v_prev || '",' || v_id::text || ',' || (v_row->>'fields') || ']',
            'UTF8')), 'hex');
        INSERT INTO audit_log (id, at, actor, channel, action, entity_type, entity_id,
                               details_json, prev_hash, row_hash)
        VALUES (v_id, (v_row->>'at')::timestamptz, v_row->>'actor', v_row->>'channel',
                v_row->>'action', v_row->>'entity_type', v_row->>'entity_id',
                v_row->>'details_json', v_prev, v_hash);
        v_prev := v_hash;
    END LOOP;
END
$fn$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(COUNT_REPORT)  # as SQLAlchemy text: "%" in %ROWTYPE is escaped for the driver
    op.execute(AUDIT_APPEND)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP FUNCTION IF EXISTS frikort_audit_append(json, bigint, text)")
    op.execute("DROP FUNCTION IF EXISTS frikort_count_report(bigint, bigint, bigint, bigint,"
               " integer, date, date, date, integer, bigint, boolean, timestamptz, text, text,"
               " text, timestamptz, timestamptz, text, text, boolean, integer)")
