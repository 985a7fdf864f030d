"""What PostgreSQL alone can do for one posted report on this machine (issue 17's floor).

`python -m benchmarks.ledger_floor` prepares the ledger benchmark's database (10.000 cards)
and runs pgbench, PostgreSQL's own load generator written in C, with the statements a posted
report sends (`Ledger.report_wage`, as captured from a real call), so that our Python is out
of the picture. Variants:

- **ours**: BEGIN, the lookup, `frikort_count_report`, `frikort_keep_results`,
  `frikort_audit_append`, COMMIT, each in its own round trip, as our client sends them;
- **one trip**: the same four statements inside one PL/pgSQL function, called in autocommit:
  the fewest round trips any client could use for the same writes;
- **without the audit append**: "ours" without the hash chain's append, to show what its
  database-wide lock costs when writers run at once;
- **staged**: the audit row inserted into a staging table inside the transaction, then moved
  onto the chain by a call after the commit (the chain's lock is then held only by that
  call): the obvious way to take the lock off the writers' path;
- **sequenced**: the same staging, with one more pgbench client that moves the staged rows
  onto the chain in batches every 20 ms, so the writers never take the lock;
- **our writers**: the ledger benchmark's writer processes (`Ledger.report_wage`, Python) on
  the same database, for the comparison.

Each at 1 and 8 clients (`--clients`), alternated over `--rounds`, with the machine's CPU per
report (every process, pgbench's included). The rate at 8 clients bounds the ledger
benchmark's 8-writer cell: a client that does any work of its own adds CPU on the same two
cores. At the end the run is checked: one entry, one idempotency record and one chained audit
row per report, the ledger's invariants, and the chain intact.
"""

from __future__ import annotations

import argparse
import functools
import os
import re
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from rich.console import Console

from api.bootstrap import Backend
from benchmarks.ledger import (
    ACTOR,
    CVR,
    PAID_ON,
    config,
    fixed_clock,
    machine,
    machine_busy_seconds,
    measure_processes,
    postgres_database,
    prepare,
    say,
)
from db import audit_chain
from ledger import ReportWage

_CONSOLE = Console(stderr=True)
CARDS = 10_000

_LOOKUP = """SELECT employers.id AS emp, cards.id AS card_id, coalesce((SELECT employments.id
  FROM employments WHERE employments.employer_id = employers.id
   AND employments.card_id = cards.id AND employments.start_date <= DATE '2025-06-02'
   AND (employments.end_date IS NULL OR employments.end_date >= DATE '2025-06-02')
  ORDER BY employments.start_date DESC LIMIT 1), 0) AS employment_id,
 coalesce((SELECT card_events.effective_on FROM card_events WHERE card_events.card_id = cards.id
   AND card_events.kind IN ('issued', 'deactivated', 'reactivated')
  ORDER BY card_events.effective_on DESC, card_events.id DESC LIMIT 1)::text, '') AS changed,
 coalesce(idempotency_records.request_hash, '') AS stored_hash,
 EXISTS (SELECT * FROM cap_versions WHERE cap_versions.year = 2025)::int AS cap_exists,
 nextval(pg_get_serial_sequence('wage_reports', 'id')) AS rid
FROM (SELECT 1 AS one) AS one
 LEFT OUTER JOIN employers ON employers.cvr = '{cvr}'
 LEFT OUTER JOIN cards ON cards.number = (:card)::varchar
 LEFT OUTER JOIN idempotency_records ON idempotency_records.scope = '{cvr}'
  AND idempotency_records.key = ('f' || :k)::varchar"""

_COUNT = """SELECT * FROM frikort_count_report({rid}, {emp}, {card_id}, {employment_id},
 2025, DATE '2025-06-02', DATE '2025-06-02', DATE '2025-06-02', 100, {amount}, true,
 TIMESTAMPTZ '2025-06-23 12:00+00', 'system', NULL, 'benchmark',
 TIMESTAMPTZ '2025-06-16 12:00+00', TIMESTAMPTZ '2025-06-09 12:00+00', '{cvr}', 'f' || {k},
 false, {year_lock})"""

# The stored result as the ledger writes it; pgbench would read ":x" as a variable, so every
# colon in the JSON texts has a space after it.
_RESULT = ("""{{"id": ' || {rid} || ', "status": "posted", "employer_cvr": "{cvr}","""
           """ "card_number": "' || {card} || '", "paid_on": "2025-06-02", "hours": "1","""
           """ "amount_ore": ' || {amount} || ', "counted_ore": ' || {amount} || ',"""
           """ "over_cap_ore": 0, "expires_at": null, "pending_reason": null, "warnings": [],"""
           """ "balance": {{"card_number": "' || {card} || '", "year": 2025,"""
           """ "cap_ore": 10000000000000, "cap_is_demo": false, "posted_ore": 1234,"""
           """ "pending_ore": 0, "over_cap_ore": 0, "awaiting_cap_ore": 0}},"""
           """ "replayed": false}}""")

_KEEP = """SELECT frikort_keep_results(json_build_array(json_build_object('scope', '{cvr}',
 'key', 'f' || {k}, 'request_hash', md5({k}::text) || md5({rid}::text), 'report_id', {rid},
 'result_json', '""" + _RESULT + """')), TIMESTAMPTZ '2025-06-16 12:00+00')"""

_DETAILS = """{{"amount_ore": ' || {amount} || ', "counted_ore": ' || {amount}
   || ', "status": "posted"}}"""

_AUDIT = """SELECT frikort_audit_append(json_build_array(json_build_object(
 'at', '2025-06-16T12:00:00.000000+00:00', 'actor', 'benchmark', 'channel', 'system',
 'action', 'wage_report.create', 'entity_type', 'wage_report', 'entity_id', {rid}::text,
 'details_json', '""" + _DETAILS + """',
 'fields', '"2025-06-16T12:00:00.000000+00:00","benchmark","system","wage_report.create",'
   || '"wage_report","' || {rid} || '",' || to_json(('""" + _DETAILS + """')::text)::text)),
 {audit_lock}, '{genesis}')"""

_STAGE = _AUDIT.replace("SELECT frikort_audit_append(", "SELECT floor_stage(", 1)

STAGING = ("CREATE TABLE audit_staged (id bigserial PRIMARY KEY, row_json json NOT NULL)",
           """CREATE FUNCTION floor_stage(p_rows json, p_lock_key bigint, p_genesis text)
RETURNS void LANGUAGE sql AS $fn$
    INSERT INTO audit_staged (row_json) SELECT value FROM json_array_elements(p_rows)
$fn$""", f"""CREATE FUNCTION floor_chain() RETURNS void
LANGUAGE plpgsql SET enable_seqscan = off AS $fn$
DECLARE v_rows json;
BEGIN
    PERFORM pg_advisory_xact_lock({audit_chain.LOCK_KEY});
    WITH taken AS (DELETE FROM audit_staged WHERE id IN (SELECT s.id FROM audit_staged s
                   ORDER BY s.id LIMIT 1000) RETURNING id, row_json)
    SELECT json_agg(row_json ORDER BY id) INTO v_rows FROM taken;
    IF v_rows IS NOT NULL THEN
        PERFORM frikort_audit_append(v_rows, {audit_chain.LOCK_KEY}, '{audit_chain.GENESIS}');
    END IF;
END $fn$""")

_VARIABLES = ("\\set c random(0, {last})\n\\set card 10000 + :c\n"
              "\\set k random(1, 1000000000000000)\n\\set amount random(100, 50000)\n")
NO_AUDIT = "pgbench: our statements without the audit append (5 round trips)"
OURS = "our writers: Ledger.report_wage in Python processes (6 round trips)"
_CONSTANTS = {"cvr": CVR, "audit_lock": audit_chain.LOCK_KEY,
              "genesis": audit_chain.GENESIS}


def _client_names(template: str, year_lock: int) -> str:
    """A statement with pgbench's variables (`:name`, typed) in its places."""
    names = ("rid", "emp", "card_id", "employment_id", "amount", "k", "card")
    return template.format(**_CONSTANTS, year_lock=year_lock,
                           **{name: f"(:{name})::bigint" for name in names})


def _function_names(template: str, year_lock: int) -> str:
    """The same statement inside the PL/pgSQL function, with its variables."""
    return template.format(**_CONSTANTS, year_lock=year_lock, rid="v_rid", emp="v_emp",
                           card_id="v_card", employment_id="v_employment", amount="p_amount",
                           k="p_k", card="p_card")


def scripts(year_lock: int, cards: int = CARDS) -> dict[str, str]:
    """pgbench scripts per variant, for a database of `cards` cards (`prepare`); `year_lock`
    is the card-year lock's namespace, as `count_parameters` found it."""
    head = _VARIABLES.format(last=cards - 1)
    lookup = _LOOKUP.format(cvr=CVR) + " \\gset\n"

    def transaction(*writes: str) -> str:
        """The lookup and `writes` in one transaction, one round trip each."""
        sent = "".join(_client_names(write, year_lock) + ";\n" for write in writes)
        return head + "BEGIN;\n" + lookup + sent + "COMMIT;\n"

    return {"pgbench: our statements (6 round trips)": transaction(_COUNT, _KEEP, _AUDIT),
            "pgbench: the same in one function (1 round trip)":
                head + "SELECT floor_report((:card)::text, :k, :amount);\n",
            NO_AUDIT: transaction(_COUNT, _KEEP),
            "pgbench: audit rows staged, chained after each commit":
                transaction(_COUNT, _KEEP, _STAGE) + "SELECT floor_chain();\n",
            SEQUENCED: transaction(_COUNT, _KEEP, _STAGE)}


SEQUENCED = "pgbench: audit rows staged, chained by one sequencer every 20 ms"
COMPANIONS = {SEQUENCED: "SELECT floor_chain();\n\\sleep 20 ms\n"}
"""Scripts run by one more pgbench client beside a variant's writers."""


def floor_function(year_lock: int) -> str:
    """The four statements of "ours" in one function: the least a client could send."""
    lookup = re.sub(r"\(:card\)::varchar", "p_card::varchar",
                    re.sub(r"\(('f' \|\| ):k\)::varchar", r"(\1p_k)::varchar",
                           _LOOKUP.format(cvr=CVR)))
    lookup = lookup.replace("SELECT employers.id AS emp, cards.id AS card_id,",
                            "SELECT employers.id, cards.id,", 1)
    return f"""CREATE FUNCTION floor_report(p_card text, p_k bigint, p_amount bigint)
RETURNS void LANGUAGE plpgsql SET enable_seqscan = off AS $fn$
DECLARE v_emp bigint; v_card bigint; v_employment bigint; v_changed text; v_hash text;
        v_cap int; v_rid bigint;
BEGIN
    {lookup} INTO v_emp, v_card, v_employment, v_changed, v_hash, v_cap, v_rid;
    PERFORM * FROM ({_function_names(_COUNT, year_lock)}) AS counted;
    PERFORM {_function_names(_KEEP, year_lock).removeprefix('SELECT ')};
    PERFORM {_function_names(_AUDIT, year_lock).removeprefix('SELECT ')};
END $fn$"""


def _pgbench_cell(url: str, schema: str, name: str, script: str, seconds: int, clients: int,
                  _tag: str) -> Cell:
    return run_pgbench(url, schema, script, clients, seconds, COMPANIONS.get(name))


def count_parameters(url: str, card_number: str) -> dict[str, Any]:
    """The parameters `Ledger.report_wage` passes to `frikort_count_report`, from one real
    report (so the scripts take the ledger's own constants, not copies of them)."""
    seen: list[dict[str, Any]] = []

    def capture(_conn: object, _cursor: object, statement: str, parameters: Any,
                _context: object, _many: bool) -> None:
        if "frikort_count_report(" in statement:
            seen.append(dict(parameters))

    ledger = Backend(config(url, 1), clock=fixed_clock)
    sa.event.listen(sa.engine.Engine, "before_cursor_execute", capture)
    try:
        ledger.report_wage(ReportWage(employer_cvr=CVR, card_number=card_number,
                                      paid_on=PAID_ON, hours=Decimal(1), amount_ore=1234,
                                      idempotency_key="floor-capture", post=True), actor=ACTOR)
    finally:
        sa.event.remove(sa.engine.Engine, "before_cursor_execute", capture)
        ledger.close()
    if len(seen) != 1:
        raise RuntimeError(f"expected one call of frikort_count_report, saw {len(seen)}")
    return seen[0]


def install_functions(url: str, year_lock: int) -> None:
    """The one-trip function and the staging table and functions, in the bench's schema."""
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            for statement in (floor_function(year_lock), *STAGING):
                conn.exec_driver_sql(statement.replace("%", "%%"))
    finally:
        engine.dispose()


@dataclass(frozen=True)
class Cell:
    reports: int
    per_second: float
    cpu_ms: float | None
    """Machine CPU per report; None where process start-ups would be counted in it."""


def _pgbench(url: str, schema: str, script: str, clients: int,
             seconds: int) -> tuple[subprocess.Popen[str], Path]:
    """pgbench started on `script`, and the script's file (`_finish` removes it)."""
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as handle:
        handle.write(script)
    parts = sa.engine.make_url(url)
    env = {**os.environ, "PGOPTIONS": f"-csearch_path={schema}"}
    command = ["pgbench", "-n", "-M", "prepared", "-c", str(clients), "-j", str(clients),
               "-T", str(seconds), "-f", handle.name, "-h", parts.host or "127.0.0.1",
               "-p", str(parts.port or 5432), "-U", parts.username or "postgres",
               parts.database or "test"]
    started = subprocess.Popen(command, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    return started, Path(handle.name)


def _finish(started: tuple[subprocess.Popen[str], Path]) -> str:
    """pgbench's report, once it has ended well."""
    run, script = started
    stdout, stderr = run.communicate()
    script.unlink()
    if run.returncode != 0:
        raise RuntimeError(f"pgbench failed: {stderr[-2000:]}")
    return stdout


def run_pgbench(url: str, schema: str, script: str, clients: int, seconds: int,
                companion: str | None = None) -> Cell:
    """One pgbench run of `script` with `clients` connections for `seconds`, and of
    `companion`, if any, with one connection beside it."""
    busy = machine_busy_seconds()
    beside = _pgbench(url, schema, companion, 1, seconds) if companion else None
    stdout = _finish(_pgbench(url, schema, script, clients, seconds))
    if beside is not None:
        _finish(beside)
    busy = machine_busy_seconds() - busy
    transactions = int(_found(r"number of transactions actually processed: (\d+)", stdout))
    failed = re.search(r"number of failed transactions: (\d+)", stdout)
    if failed and int(failed.group(1)):
        raise RuntimeError(f"pgbench: {failed.group(1)} failed transactions")
    tps = float(_found(r"tps = ([\d.]+)", stdout))
    return Cell(transactions, tps, busy / max(transactions, 1) * 1000)


def _found(pattern: str, report: str) -> str:
    """The first group of `pattern` in pgbench's report (a report without it is an error)."""
    match = re.search(pattern, report)
    if match is None:
        raise RuntimeError(f"pgbench printed no {pattern!r}: {report[-2000:]}")
    return match.group(1)


def run_ours(url: str, numbers: list[str], clients: int, seconds: int, tag: str) -> Cell:
    """The ledger benchmark's writer processes (`Ledger.report_wage`) on the same database."""
    done = measure_processes(url, numbers, clients, seconds, tag)
    if done.errors:
        raise RuntimeError(f"our writers: {done.errors} errors")
    return Cell(done.reports, done.per_second, None)


def check(url: str, unaudited: int) -> list[str]:
    """What a run left behind must be what the ledger itself would have written: one report,
    one entry, one idempotency record and one chained audit row per report, balances equal to
    their entries, and an intact chain. `unaudited`: the reports of the variant without the
    audit append."""
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql("SELECT floor_chain()")  # what the staged variant left
            reports, entries, records, audited = conn.exec_driver_sql(
                "SELECT (SELECT count(*) FROM wage_reports), (SELECT count(*) FROM"
                " ledger_entries), (SELECT count(*) FROM idempotency_records), (SELECT"
                " count(*) FROM audit_log WHERE action = 'wage_report.create')").one()
    finally:
        engine.dispose()
    problems = [f"{name}: {count} where {expected} were expected" for name, count, expected in
                (("entries", entries, reports), ("idempotency records", records, reports),
                 ("audit rows", audited, reports - unaudited)) if count != expected]
    ledger = Backend(config(url, 1), clock=fixed_clock)
    try:
        problems += ledger.check_invariants()
        chain = ledger.verify_audit_chain()
        if not chain.intact:
            problems.append(f"audit chain broken at row {chain.broken_at}: {chain.reason}")
    finally:
        ledger.close()
    if not reports:
        problems.append("no report was written")
    say(f"\nChecked: {reports} reports, {chain.rows} audit rows;"
        f" {'no problem' if not problems else '; '.join(problems)}.")
    return problems


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10, help="per cell")
    parser.add_argument("--clients", default="1,8", help="pgbench clients per cell")
    parser.add_argument("--rounds", type=int, default=2,
                        help="each cell this many times, the variants alternated")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    clients = [int(n) for n in args.clients.split(",")]
    say(f"Machine: {machine()}")
    say("\n| variant | clients | reports/s | machine CPU ms/report |")
    say("|---|---:|---:|---:|")
    best: dict[tuple[str, int], float] = {}
    with postgres_database() as url:
        schema = url.rsplit("search_path%3D", 1)[1]
        with _CONSOLE.status(f"preparing {CARDS} cards"):
            numbers, _ = prepare(url, CARDS)
            year_lock = int(count_parameters(url, numbers[0])["year_namespace"])
            install_functions(url, year_lock)
        variants: list[tuple[str, Callable[[int, str], Cell]]] = [
            (name, functools.partial(_pgbench_cell, url, schema, name, script, args.seconds))
            for name, script in scripts(year_lock).items()]
        variants.append((OURS, lambda n, tag: run_ours(url, numbers, n, args.seconds, tag)))
        cells = [(name, run, n) for _ in range(args.rounds) for name, run in variants
                 for n in clients]
        unaudited = 0
        for number, (name, run, n) in enumerate(cells, start=1):
            with _CONSOLE.status(f"cell {number}/{len(cells)}: {name}, {n} clients"):
                cell = run(n, f"floor-{number}")
            if name == NO_AUDIT:
                unaudited += cell.reports
            best[(name, n)] = max(best.get((name, n), 0.0), cell.per_second)
            cpu = "–" if cell.cpu_ms is None else f"{cell.cpu_ms:.2f}"
            say(f"| {name} | {n} | {cell.per_second:.0f} | {cpu} |")
        problems = check(url, unaudited)
    (variant, n), rate = max(best.items(), key=lambda item: item[1])
    say(f"Done: {len(cells)} cells; the most was {rate:.0f} reports/s ({variant}, {n} clients);"
        f" {len(problems)} problems.")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
