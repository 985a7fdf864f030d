"""The audit log's hash chain (ledger/audit_chain.py, issue 14 item 8): every row written by
the application fits the chain, concurrent writers keep one chain, and a row changed, removed
or re-hashed behind the application's back (as the database's owner, triggers off) is found
by `frikort audit verify`. The migration chains the rows of an existing database."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import random
import threading

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from api.cli import app as cli_app
from db.audit_chain import GENESIS, row_hash
from db.commands import Actor
from db.unit_of_work import UnitOfWork
from db.migrate import upgrade
from ledger import RegisterEmployer
from tests import databases
from tests.ledger.support import ADMIN, Env, audit_rows, make_ledger, raw_engine, valid_cvr


def _as_owner(url: str, statement: str, **params: object) -> None:
    """Runs `statement` with the audit log's append-only triggers off, as its owner can."""
    engine = raw_engine(url)
    try:
        with engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.exec_driver_sql("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only")
                conn.execute(sa.text(statement), params)
                conn.exec_driver_sql("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only")
            else:
                conn.exec_driver_sql("DROP TRIGGER audit_log_no_update")
                conn.exec_driver_sql("DROP TRIGGER audit_log_no_delete")
                conn.execute(sa.text(statement), params)
    finally:
        engine.dispose()


def test_every_row_the_application_writes_is_on_the_chain(env: Env) -> None:
    env.report(100_00, "chain-1", post=True)
    env.report(200_00, "chain-2")
    rows = audit_rows(env.url)
    assert len(rows) >= 6
    previous = GENESIS
    for row in rows:
        assert row["prev_hash"] == previous
        assert row["row_hash"] == row_hash(previous, row)
        previous = str(row["row_hash"])
    report = env.ledger.verify_audit_chain()
    assert report.intact and report.rows == len(rows) and report.head == previous


_TEXT = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"))


@given(prev=st.text("0123456789abcdef", min_size=64, max_size=64),
       row_id=st.integers(1, 2**62), fields=st.lists(_TEXT, min_size=6, max_size=6),
       at=st.datetimes(timezones=st.just(dt.UTC)))
def test_the_hash_is_over_the_whole_row_as_one_json_array(
        prev: str, row_id: int, fields: list[str], at: dt.datetime) -> None:
    """`row_hash` builds the JSON text in pieces (so the server can add the id and the previous
    hash); it must equal the hash of the whole list dumped at once, the format `verify` and
    the chaining migration were written for."""
    actor, channel, action, entity_type, entity_id, details = fields
    row = {"id": row_id, "at": at, "actor": actor, "channel": channel, "action": action,
           "entity_type": entity_type, "entity_id": entity_id, "details_json": details}
    whole = json.dumps([prev, row_id, at.isoformat(timespec="microseconds"), actor, channel,
                        action, entity_type, entity_id, details],
                       ensure_ascii=False, separators=(",", ":"))
    assert row_hash(prev, row) == hashlib.sha256(whole.encode()).hexdigest()


def _awkward_texts(count: int) -> list[str]:
    """Texts JSON must escape (quotes, backslashes, control characters) beside Danish letters,
    emoji, and the line separators JavaScript treats as line ends."""
    fixed = ['"', "\\", '\\"', "\n\r\t\b\f", "\x01\x1f\x7f", "æøå ÆØÅ", "😀 👍🏽",
             "\u2028\u2029", "</script>", "{\"a\": [1, 2]}", "'; DROP TABLE audit_log; --"]
    alphabet = [chr(c) for c in (*range(1, 0x80), 0xE6, 0xF8, 0xE5, 0x2028, 0xFEFF, 0x1F600)]
    rng = random.Random(17)
    return fixed + ["".join(rng.choices(alphabet, k=rng.randint(0, 30))) for _ in range(count)]


def test_any_text_is_chained_as_verify_reads_it(env: Env) -> None:
    """On PostgreSQL the server computes the hashes (frikort_audit_append) from the text the
    client encoded; whatever the text, `verify` in Python must find every row on the chain."""
    texts = _awkward_texts(60)

    def write(uow: UnitOfWork, batch: list[str]) -> None:
        for text in batch:
            actor = Actor(name=text[:120] or "x", channel="system")
            uow.audit(actor, "test.awkward", "card", text[:40], note=text, more=[text, 1])
        uow.commit()

    for start in range(0, len(texts), 7):  # several rows per transaction, several commits
        batch = texts[start:start + 7]
        env.ledger.run_write(functools.partial(write, batch=batch))
    rows = [r for r in audit_rows(env.url) if r["action"] == "test.awkward"]
    assert [r["details_json"] for r in rows] == [
        json.dumps({"more": [t, 1], "note": t}, default=str, sort_keys=True) for t in texts]
    report = env.ledger.verify_audit_chain()
    assert report.intact, report


def test_a_changed_row_is_found(env: Env) -> None:
    rows = audit_rows(env.url)
    target = rows[len(rows) // 2]["id"]
    _as_owner(env.url, "UPDATE audit_log SET details_json = '{\"forged\": true}' WHERE id = :i",
              i=target)
    report = env.ledger.verify_audit_chain()
    assert report.broken_at == target and "contents changed" in report.reason


def test_a_changed_row_with_its_hash_recomputed_is_found_at_the_next(env: Env) -> None:
    rows = audit_rows(env.url)
    target, after = rows[1], rows[2]
    forged = {**target, "actor": "someone-else"}
    _as_owner(env.url, "UPDATE audit_log SET actor = :a, row_hash = :h WHERE id = :i",
              a="someone-else", h=row_hash(str(target["prev_hash"]), forged), i=target["id"])
    report = env.ledger.verify_audit_chain()
    assert report.broken_at == after["id"] and "link to the row before" in report.reason


def test_a_removed_row_is_found(env: Env) -> None:
    rows = audit_rows(env.url)
    _as_owner(env.url, "DELETE FROM audit_log WHERE id = :i", i=rows[1]["id"])
    assert env.ledger.verify_audit_chain().broken_at == rows[2]["id"]


def test_concurrent_writers_keep_one_chain(env: Env) -> None:
    errors: list[BaseException] = []

    def register(worker: int) -> None:
        try:
            for n in range(6):
                env.ledger.register_employer(RegisterEmployer(
                    cvr=valid_cvr(1000 + worker * 10 + n), name=f"Kæde {worker}-{n}"),
                    actor=ADMIN)
        except BaseException as exc:  # noqa: BLE001  (reported below)
            errors.append(exc)

    threads = [threading.Thread(target=register, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    report = env.ledger.verify_audit_chain()
    assert report.intact, report
    assert sum(1 for r in audit_rows(env.url) if r["action"] == "employer.register") == 25


def test_the_migration_chains_an_existing_database(empty_db_url: str) -> None:
    """A database at the revision before the chain, with audit rows, is upgraded and its
    rows chained in id order; the application's next rows continue the same chain."""
    upgrade(empty_db_url, "9c2e41d7a0b3")
    engine = raw_engine(empty_db_url)
    with engine.begin() as conn:
        for n in range(3):
            conn.execute(sa.text(
                "INSERT INTO audit_log (at, actor, channel, action, entity_type, entity_id, "
                "details_json) VALUES (:at, 'cli', 'cli', 'cap.set', 'cap', :e, '{}')"),
                {"at": f"2026-01-0{n + 1} 10:00:00.12345{n}", "e": str(2020 + n)})
    engine.dispose()
    upgrade(empty_db_url)
    rows = audit_rows(empty_db_url)
    assert [r["prev_hash"] for r in rows][:1] == [GENESIS] and all(r["row_hash"] for r in rows)
    ledger = make_ledger(empty_db_url)
    try:
        assert ledger.verify_audit_chain().intact
        ledger.register_employer(RegisterEmployer(cvr=valid_cvr(77), name="Efter ApS"),
                                 actor=ADMIN)
        report = ledger.verify_audit_chain()
        assert report.intact and report.rows == 4
    finally:
        ledger.close()
    with pytest.raises(sa.exc.DBAPIError):  # still append-only after the migration
        engine = raw_engine(empty_db_url)
        try:
            with engine.begin() as conn:
                conn.execute(sa.text("UPDATE audit_log SET actor = 'x'"))
        finally:
            engine.dispose()


def test_the_cli_reports_intact_and_broken(env: Env) -> None:
    cli_env = {"DATABASE_URL": env.url, "ENVIRONMENT": "development"}
    result = CliRunner().invoke(cli_app, ["audit", "verify"], env=cli_env)
    assert result.exit_code == 0, result.output
    assert "chain intact; head " in result.output
    target = audit_rows(env.url)[0]["id"]
    _as_owner(env.url, "UPDATE audit_log SET entity_id = 'x' WHERE id = :i", i=target)
    result = CliRunner().invoke(cli_app, ["audit", "verify"], env=cli_env)
    assert result.exit_code == 1
    assert f"chain broken at row {target}: its contents changed" in result.output


def test_the_write_functions_never_plan_a_scan() -> None:
    """PostgreSQL only (SQLite has no server functions). Their plans are kept per connection;
    without this a plan made on a three-row audit log read the whole log for every commit
    once the log had grown (docs/ledger-bench.md)."""
    url = databases.postgres_copy()
    engine = raw_engine(url)
    try:
        with engine.connect() as conn:
            settings = dict(conn.execute(sa.text(
                "SELECT proname, proconfig FROM pg_proc WHERE proname IN"
                " ('frikort_count_report', 'frikort_audit_append')")).all())
    finally:
        engine.dispose()
        databases.release(url)
    assert settings == {"frikort_count_report": ["enable_seqscan=off"],
                        "frikort_audit_append": ["enable_seqscan=off"]}
