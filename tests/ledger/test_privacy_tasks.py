"""Small jobs in access requests, erasure and retention, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import re

from db.commands import Actor
from privacy import ERASED
from tests.ledger.privacy_support import (
    HELPER,
    JENS_CONSENT,
    OLE_CONSENT,
    STRANGER_PHONE,
    TAKE_CONSENT,
    TaskHistory,
    World,
    add_task_history,
    build_world,
    places_add_up,
)
from tests.ledger.support import dump_tables, world_fixture

ACTOR = Actor(name="test-dpo", channel="cli")
DAYS = 365
TASK_TABLES = ("task_assignments", "employer_known_people", "job_digests", "helper_phone_list")


def _with_task_history(url: str) -> tuple[World, TaskHistory]:
    made = build_world(url)
    try:
        return made, add_task_history(made)
    except BaseException:
        made.ledger.close()
        raise


world = world_fixture(_with_task_history, ledger=lambda made: made[0].ledger,
                      check=lambda made: places_add_up(made[0]))


def _places(world: World) -> dict[int, dict[str, object]]:
    return {a["id"]: a for a in world.rows("task_assignments")}


def test_the_export_holds_the_card_holders_small_jobs_and_no_one_elses(
    world: tuple[World, TaskHistory],
) -> None:
    made, history = world
    found = made.ledger.privacy.export(cpr=made.cpr)
    assert found is not None
    places = {a["id"]: a for a in found["task_assignments"]}
    assert sorted(places) == sorted([history.paid, history.cancelled, history.no_show,
                                     history.held])
    paid = places[history.paid]
    assert (paid["status"], paid["via"], paid["helper"], paid["consent_note"]) == (
        "done", "helper", HELPER.username, TAKE_CONSENT)
    assert (paid["hours_reported"], paid["amount_reported"]) == ("3.00", "450.00")
    assert paid["wage_report_id"] == history.report_id and paid["confirmed_at"] is not None
    assert paid["task"]["title"] == "Opvask" and paid["task"]["place"] == "Bagdøren, Vestergade 9"
    assert paid["task"]["employer_name"] == "Café Privat ApS"
    assert (paid["task"]["expected_hours"], paid["task"]["pay_per_hour"]) == ("3.00", "150.00")
    assert paid["task"]["window_start"] == made.clock.now.date().isoformat()
    cancelled = places[history.cancelled]
    assert (cancelled["status"], cancelled["cancelled_by"]) == ("cancelled", "holder")
    assert cancelled["ended_at"] is not None and cancelled["hours_reported"] is None
    assert places[history.no_show]["status"] == "no_show"
    assert places[history.held]["status"] == "confirmed"
    [listed] = found["employer_lists"]
    assert (listed["card_number"], listed["employer_cvr"]) == (made.card, made.cvr)
    assert listed["added_by"] == "sms:employer"
    [digest] = found["job_digests"]
    assert (digest["postcode"], digest["frequency"]) == ("8000", "daily")
    [entry] = found["helper_phone_lists"]
    assert (entry["consent_note"], entry["helper"], entry["helper_name"]) == (
        JENS_CONSENT, "helle", "Helle fra Værestedet")
    assert entry["created_at"] is not None
    audit = {(r["action"], r["entity_type"], r["entity_id"]) for r in found["audit_log"]}
    assert {("task.take", "task_assignment", str(history.no_show)),
            ("task_assignment.no_show", "task_assignment", str(history.no_show)),
            ("task_assignment.hours", "task_assignment", str(history.paid)),
            ("known_person.add", "employer", made.cvr),
            ("job_digest.subscribe", "card", made.card),
            ("phone_list.add", "card", made.card)} <= audit
    # Ole's place, digest and phone-list entry are his, not Jens's.
    text = json.dumps(found, ensure_ascii=False)
    # Numbers as whole digit runs: Ole's card number is five random digits, which turn up by
    # chance inside Jens's own (random) card number, the CVR, phone numbers and amounts.
    numbers = set(re.findall(r"\d+", text))
    assert OLE_CONSENT not in text and history.ole_card not in numbers and "8200" not in numbers
    assert str(history.ole_place) not in {r["entity_id"] for r in found["audit_log"]
                                          if r["entity_type"] == "task_assignment"}


def test_erasure_keeps_what_the_books_and_open_places_need(
    world: tuple[World, TaskHistory],
) -> None:
    made, history = world
    kept_books = made.kept()
    before = _places(made)
    preview_tables = dump_tables(made.url)
    preview = made.ledger.privacy.erase(cpr=made.cpr, actor=ACTOR, dry_run=True)
    assert dump_tables(made.url) == preview_tables, "a dry run changed something"

    report = made.ledger.privacy.erase(cpr=made.cpr, actor=ACTOR)
    counts = (report.task_places, report.task_consent_notes, report.employer_lists,
              report.job_digests, report.phone_list_entries)
    assert counts == (2, 1, 1, 1, 1)
    assert counts == (preview.task_places, preview.task_consent_notes, preview.employer_lists,
                      preview.job_digests, preview.phone_list_entries)
    assert any(r.startswith(f"task place {history.held} on task") and "confirmed" in r
               for r in report.kept)
    assert any(f"wage reports {history.report_id}" in r for r in report.kept)

    after = _places(made)
    assert set(after) == {history.paid, history.held, history.ole_place}
    paid = after[history.paid]
    assert paid["consent_note"] == ERASED and paid["wage_report_id"] == history.report_id
    assert {k: v for k, v in paid.items() if k != "consent_note"} == \
        {k: v for k, v in before[history.paid].items() if k != "consent_note"}
    assert after[history.held] == before[history.held]  # still held: kept whole
    assert after[history.ole_place]["consent_note"] == OLE_CONSENT
    assert [r["card_id"] for r in made.rows("employer_known_people", "card_id")] == []
    digests = made.rows("job_digests", "card_id")
    phone_list = made.rows("helper_phone_list")
    assert [d["postcode"] for d in digests] == ["8200"]
    assert [e["consent_note"] for e in phone_list] == [OLE_CONSENT]
    assert made.kept() == kept_books
    [erased] = [r for r in made.rows("audit_log") if r["action"] == "person.erase"]
    assert json.loads(erased["details_json"])["task_places"] == 2

    # The access request still finds the deleted places' history in the audit log.
    found = made.ledger.privacy.export(cpr=made.cpr)
    assert found is not None
    assert [a["id"] for a in found["task_assignments"]] == sorted([history.paid, history.held])
    assert found["employer_lists"] == found["job_digests"] == found["helper_phone_lists"] == []
    audit = {(r["action"], r["entity_id"]) for r in found["audit_log"]}
    assert {("task.take", str(history.cancelled)),
            ("task_assignment.cancel", str(history.cancelled)),
            ("task_assignment.no_show", str(history.no_show))} <= audit
    assert [a["consent_note"] for a in found["task_assignments"]] == [ERASED, TAKE_CONSENT]

    # Once the held place is settled, a second erasure takes the rest; a third changes nothing.
    made.ledger.tasks.cancel_assignment(history.held, by="staff", actor=HELPER.actor)
    again = made.ledger.privacy.erase(cpr=made.cpr, actor=ACTOR)
    assert (again.task_places, again.task_consent_notes) == (1, 0)
    assert not any(r.startswith(f"task place {history.held} ") for r in again.kept)
    assert set(_places(made)) == {history.paid, history.ole_place}
    settled = dump_tables(made.url)
    third = made.ledger.privacy.erase(cpr=made.cpr, actor=ACTOR)
    assert (third.task_places, third.task_consent_notes, third.employer_lists,
            third.job_digests, third.phone_list_entries) == (0, 0, 0, 0, 0)
    assert {t: rows for t, rows in dump_tables(made.url).items() if t in TASK_TABLES} == \
        {t: rows for t, rows in settled.items() if t in TASK_TABLES}


def test_erasure_by_phone_number_leaves_card_holders_small_jobs_alone(
    world: tuple[World, TaskHistory],
) -> None:
    made, _ = world
    before = {t: rows for t, rows in dump_tables(made.url).items() if t in TASK_TABLES}
    report = made.ledger.privacy.erase(phone=STRANGER_PHONE, actor=ACTOR)
    assert report.found and report.task_places == report.job_digests == 0
    assert {t: rows for t, rows in dump_tables(made.url).items() if t in TASK_TABLES} == before


def test_retention_anonymises_consent_notes_of_ended_places_only(
    world: tuple[World, TaskHistory],
) -> None:
    made, history = world
    made.clock.advance(days=DAYS + 30)
    privacy = made.ledger.privacy
    preview = privacy.run_retention(older_than_days=DAYS, actor=ACTOR, dry_run=True)
    # The paid and the no-show place were taken by the helper with a note; Ole's too.
    assert preview.task_consent_notes == 3
    report = privacy.run_retention(older_than_days=DAYS, actor=ACTOR)
    assert report.task_consent_notes == 3
    places = _places(made)
    for ended in (history.paid, history.no_show, history.ole_place):
        assert places[ended]["consent_note"] == ERASED
    assert places[history.held]["consent_note"] == TAKE_CONSENT  # still held
    assert places[history.cancelled]["consent_note"] is None
    # Phone lists keep their consent notes while the person is on them.
    assert sorted(e["consent_note"] for e in made.rows("helper_phone_list")) == sorted(
        [JENS_CONSENT, OLE_CONSENT])
    assert privacy.run_retention(older_than_days=DAYS, actor=ACTOR).task_consent_notes == 0
