"""`frikort retention run` and `frikort citizen export|erase`, in-process on the demo data."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from api.bootstrap import Backend
from api.cli import app as cli_app
from api.settings import Settings
from db.commands import Actor
from db.migrate import upgrade
from sampledata.demo import seed
from tests.yaml_files import read_yaml

ROOT = Path(__file__).resolve().parents[1]
DEMO = read_yaml(ROOT / "sampledata" / "data" / "demo.yml")
JENS = next(h for h in DEMO["card_holders"] if h["number"] == "48213")
ALI = next(h for h in DEMO["card_holders"] if h["number"] == "60417")
CLI_HOLDER = Actor(name="sms:48213", channel="sms")


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """A migrated, demo-seeded SQLite database; Jens has written to the bot once."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DATABASE_", "ADMIN_", "CPR_", "TELEGRAM_", "TWILIO_",
                                "RETENTION_"))}
    env.update(HOME=str(tmp_path), DATABASE_URL=f"sqlite:///{tmp_path / 'frikort.db'}",
               ENVIRONMENT="development")
    upgrade(env["DATABASE_URL"])
    settings = Settings(_env_file=None, DATABASE_URL=env["DATABASE_URL"])
    ledger = Backend(settings.ledger)
    try:
        seed(ledger, ledger.tasks, dt.date.today())
        ledger.conversations.store_inbound("sms", JENS["phone"], "SM-cli-1",
                                           "hej det er Jens fra Vestergade")
    finally:
        ledger.close()
    return env


def invoke(env: dict[str, str], *args: str, stdin: str | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(cli_app, list(args), env=env, input=stdin)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, result.output


def test_export_reads_the_cpr_from_stdin_and_never_prints_it(env: dict[str, str]) -> None:
    code, out = invoke(env, "citizen", "export", stdin=JENS["cpr"] + "\n")
    assert code == 0, out
    assert JENS["cpr"] not in out and f"{JENS['cpr'][:6]}-{JENS['cpr'][6:]}" not in out
    found = json.loads(out)
    assert found["cpr"] == f"{JENS['cpr'][:6]}-xxxx"
    assert found["citizen"]["name"] == "Jens Hansen"
    assert found["contacts"][0]["address"] == JENS["phone"]
    assert len(found["wage_reports"]) == 3
    assert found["cards"][0]["number"] == "48213"
    [conversation] = found["conversations"]
    assert conversation["messages"][0]["text"] == "hej det er Jens fra Vestergade"
    # The argument form gives the same answer (it is documented as leaving the CPR number in
    # the shell's history).
    code, same = invoke(env, "citizen", "export", JENS["cpr"], "--format", "json")
    assert code == 0 and json.loads(same)["citizen"] == found["citizen"]


def test_export_refusals(env: dict[str, str]) -> None:
    assert invoke(env, "citizen", "export", "3213901234")[0] == 2
    assert invoke(env, "citizen", "export", stdin="\n")[0] == 2
    assert invoke(env, "citizen", "export", JENS["cpr"], "--format", "csv")[0] == 2
    code, out = invoke(env, "citizen", "export", "0101801234")
    assert code == 1 and "nothing is stored" in out


def test_erase_shows_first_and_erases_only_with_confirm(env: dict[str, str]) -> None:
    code, preview = invoke(env, "citizen", "erase", stdin=JENS["cpr"] + "\n")
    assert code == 0, preview
    assert "would erase: 1 message texts in 1 conversations" in preview
    assert "Nothing was changed" in preview and JENS["cpr"] not in preview
    assert invoke(env, "citizen", "export", JENS["cpr"])[1].count(JENS["phone"]) >= 1

    code, done = invoke(env, "citizen", "erase", "--confirm", "--json",
                        stdin=JENS["cpr"] + "\n")
    assert code == 0, done
    report = json.loads(done)
    assert report["transcript_messages"] == 1 and report["contacts"] == 1
    assert any(reason.startswith("name: kept while card 48213") for reason in report["kept"])
    after = json.loads(invoke(env, "citizen", "export", JENS["cpr"])[1])
    assert after["contacts"] == [] and JENS["phone"] not in json.dumps(after)
    assert len(after["wage_reports"]) == 3  # the books are kept


def test_erase_of_a_deactivated_card_holder_removes_the_name(env: dict[str, str]) -> None:
    code, out = invoke(env, "citizen", "erase", ALI["cpr"], "--confirm")
    assert code == 0, out
    assert "erased: 0 applications' answers, 1 names" in out
    assert json.loads(invoke(env, "citizen", "export", ALI["cpr"])[1])["citizen"]["name"] \
        == "[slettet]"


def test_retention_run_dry_run_then_for_real_then_nothing(env: dict[str, str]) -> None:
    code, out = invoke(env, "retention", "run", "--json")
    assert code == 0 and json.loads(out)["total"] == 0  # everything is new
    engine = sa.create_engine(env["DATABASE_URL"], poolclass=sa.pool.NullPool)
    old = (dt.datetime.now(dt.UTC) - dt.timedelta(days=400)).replace(tzinfo=None)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE transcript_messages SET created_at = :old"), {"old": old})
        entries = conn.execute(sa.text("SELECT * FROM ledger_entries ORDER BY id")).all()
    code, out = invoke(env, "retention", "run", "--dry-run")
    assert code == 0 and "would anonymise 1 transcript messages" in out
    code, out = invoke(env, "retention", "run", "--older-than-days", "365")
    assert code == 0 and "anonymised 1 transcript messages" in out
    assert "ledger entries, wage reports and the audit log are kept unchanged" in out
    code, out = invoke(env, "retention", "run", "--json")
    assert code == 0 and json.loads(out)["total"] == 0
    with engine.connect() as conn:
        assert conn.scalar(sa.text("SELECT text FROM transcript_messages")) == "[slettet]"
        assert conn.execute(sa.text("SELECT * FROM ledger_entries ORDER BY id")).all() == entries
    engine.dispose()
    assert invoke(env, "retention", "run", "--older-than-days", "0")[0] == 2


def test_export_and_erase_cover_small_jobs(env: dict[str, str]) -> None:
    settings = Settings(_env_file=None, DATABASE_URL=env["DATABASE_URL"])
    ledger = Backend(settings.ledger)
    try:
        [dishes] = [t for t in ledger.tasks.tasks_for_card(JENS["number"], limit=10)
                    if t.title == "Opvask i caféen"]
        place = ledger.tasks.take_task(dishes.id, JENS["number"], via="sms", actor=CLI_HOLDER)
        ledger.tasks.cancel_assignment(place.id, by="holder", actor=CLI_HOLDER)
        ledger.tasks.subscribe_digest(JENS["number"], "8000", "weekly", CLI_HOLDER)
    finally:
        ledger.close()
    found = json.loads(invoke(env, "citizen", "export", stdin=JENS["cpr"] + "\n")[1])
    [taken] = found["task_assignments"]
    assert (taken["status"], taken["task"]["title"]) == ("cancelled", "Opvask i caféen")
    assert [d["frequency"] for d in found["job_digests"]] == ["weekly"]
    code, preview = invoke(env, "citizen", "erase", stdin=JENS["cpr"] + "\n")
    assert code == 0, preview
    assert "would erase: 1 ended task places, 0 consent notes on paid places" in preview
    assert "0 on helpers' phone lists, 1 job digests" in preview
    code, done = invoke(env, "citizen", "erase", JENS["cpr"], "--confirm", "--json")
    assert code == 0 and json.loads(done)["task_places"] == 1
    after = json.loads(invoke(env, "citizen", "export", JENS["cpr"])[1])
    assert after["task_assignments"] == [] and after["job_digests"] == []
    code, out = invoke(env, "retention", "run", "--dry-run")
    assert "would anonymise 0 consent notes on ended task places" in out
    assert "would delete 0 expired failed-login counters" in out


# `frikort privacy redact-history` (issue 14, finding 2) ------------------------------------

OLD_SPELLINGS = ("mit cpr er 07 07 61 42 85", "cpr 070761\u20134285 tak",
                 "\uff10\uff17\uff10\uff17\uff16\uff11\uff0d\uff14\uff12\uff18\uff15")


def _store_as_before(env: dict[str, str]) -> None:
    """Texts as they were stored before these spellings were recognised: written straight to
    the tables (today's code redacts them on the way in)."""
    engine = sa.create_engine(env["DATABASE_URL"])
    with engine.begin() as conn:
        conversation = conn.execute(sa.text("SELECT id FROM conversations")).scalar_one()
        for index, text in enumerate(OLD_SPELLINGS):
            conn.execute(sa.text(
                "INSERT INTO transcript_messages (conversation_id, direction, channel, "
                "provider_message_id, author, text, replies_json, created_at) VALUES "
                "(:c, 'in', 'sms', :sid, 'user', :text, :replies, CURRENT_TIMESTAMP)"),
                {"c": conversation, "sid": f"SM-old-{index}", "text": text,
                 "replies": json.dumps([f"du skrev {text}"], ensure_ascii=False)})
    engine.dispose()


def _transcript_texts(env: dict[str, str]) -> list[str]:
    engine = sa.create_engine(env["DATABASE_URL"])
    with engine.connect() as conn:
        rows = conn.execute(sa.text(
            "SELECT text, coalesce(replies_json, '') FROM transcript_messages")).all()
    engine.dispose()
    return [value for row in rows for value in row]


def test_redact_history_redacts_old_spellings_once(env: dict[str, str]) -> None:
    _store_as_before(env)
    before = _transcript_texts(env)
    code, out = invoke(env, "privacy", "redact-history", "--dry-run")
    assert code == 0, out
    assert out.strip().splitlines()[-1].startswith("redact-history: would change 3 of ")
    assert _transcript_texts(env) == before

    code, out = invoke(env, "privacy", "redact-history")
    assert code == 0, out
    assert "redact-history: changed 3 of 4 stored texts (transcript 3)" in out
    texts = _transcript_texts(env)
    assert not [t for t in texts if "4285" in t or "\uff14\uff12\uff18\uff15" in t]
    assert "mit cpr er [CPR]" in texts and json.dumps(["du skrev [CPR]"]) in texts
    assert "hej det er Jens fra Vestergade" in texts  # nothing else changed

    code, out = invoke(env, "privacy", "redact-history")
    assert "redact-history: changed 0 of " in out
    engine = sa.create_engine(env["DATABASE_URL"])
    with engine.connect() as conn:
        [details] = conn.execute(sa.text(
            "SELECT details_json FROM audit_log WHERE action = 'privacy.redact_history'")
        ).scalars().all()
    engine.dispose()
    assert json.loads(details)["transcript"] == 3
