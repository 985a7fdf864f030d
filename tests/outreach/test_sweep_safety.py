"""A sweep never sends a message twice: after a crash part-way, run again, or run by two
workers at once; a dry run changes nothing; one person's failure does not stop the others."""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter

import pytest

from ledger import IssueCard
from outreach import consent, texts
from outreach.store.records import Candidate
from outreach.sweep import rules, run_sweep
from tests.ledger.casework_support import METTE_PHONE, World
from tests.ledger.support import ADMIN, dump_tables, fresh_cpr
from tests.outreach.support import only, rows, set_cap, sweep

HOLDERS = 120
"""More than two of the store's batches (50)."""


class Killed(BaseException):
    """Stands in for SIGKILL: nothing after it runs, no handler catches it."""


def _many_holders(world: World) -> None:
    for n in range(HOLDERS):
        world.ledger.issue_card(IssueCard(cpr=fresh_cpr(), name=f"Holder {n}",
                                          municipality_code="751", valid_from=dt.date(2025, 1, 1),
                                          phone=f"+4540{123000 + n}"), actor=ADMIN)


def _candidates(world: World, name: str) -> list[Candidate]:
    rule = next(r for r in rules(world.ledger.outreach, write=True) if r.name == name)
    return world.ledger.outreach.candidates(rule, world.clock.now)


def _outbox_per_recipient(world: World) -> Counter[str]:
    return Counter(r["recipient"] for r in world.rows("outbox"))


def test_a_dry_run_changes_nothing_and_says_what_a_real_run_does(world: World) -> None:
    only(world, "new_year")
    set_cap(world, 2026, 43_000)
    before = dump_tables(world.url)
    dry = sweep(world, dry_run=True)
    assert dump_tables(world.url) == before
    real = sweep(world)
    assert [(o.rule, o.recipient, o.text) for o in dry.sent] == [
        (o.rule, o.recipient, o.text) for o in real.sent]
    assert len(real.sent) == 2


def test_a_crash_mid_sweep_then_a_rerun_sends_each_message_once(world: World) -> None:
    only(world, "new_year")
    _many_holders(world)
    set_cap(world, 2026, 43_000)
    rendered = 0

    def dies_after_70(candidate: Candidate) -> str:
        nonlocal rendered
        rendered += 1
        if rendered > 70:  # in the middle of the second batch
            raise Killed()
        return texts.render(candidate)

    candidates = _candidates(world, "new_year")
    assert len(candidates) == HOLDERS + 2
    with pytest.raises(Killed):
        world.ledger.outreach.deliver(candidates, decide=consent.refusal, render=dies_after_70,
                                      measure=texts.measure, now=world.clock.now)
    assert len(rows(world)) == 50  # the first batch committed, the second rolled back whole
    again = sweep(world)
    assert len(again.sent) == HOLDERS + 2 - 50
    per_recipient = _outbox_per_recipient(world)
    assert len(per_recipient) == HOLDERS + 2 and set(per_recipient.values()) == {1}
    assert sweep(world).sent == []


def test_two_workers_at_once_send_each_message_once(world: World) -> None:
    only(world, "new_year")
    _many_holders(world)
    set_cap(world, 2026, 43_000)
    results: list[int] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            results.append(len(run_sweep(world.ledger.outreach, at=world.clock.now).sent))
        except BaseException as error:  # reported below, not lost in the thread
            errors.append(error)
    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert errors == []
    assert sum(results) == HOLDERS + 2
    per_recipient = _outbox_per_recipient(world)
    assert len(per_recipient) == HOLDERS + 2 and set(per_recipient.values()) == {1}
    assert len([r for r in world.audit("outreach.sent")]) == HOLDERS + 2


def test_one_failing_person_is_skipped_and_tried_again_later(world: World) -> None:
    only(world, "new_year")
    set_cap(world, 2026, 43_000)
    candidates = _candidates(world, "new_year")
    mette = next(c.person_key for c in candidates
                 if c.target_id == int(world.rows("cards", number=world.mette)[0]["id"]))

    def broken_for_mette(candidate: Candidate) -> str:
        if candidate.person_key == mette:
            raise ValueError("a template bug")
        return texts.render(candidate)
    outcomes = world.ledger.outreach.deliver(candidates, decide=consent.refusal,
                                             render=broken_for_mette, measure=texts.measure,
                                             now=world.clock.now)
    assert [o.person_key for o in outcomes if o.status == "queued"] != []
    assert mette not in {o.person_key for o in outcomes}
    assert [o.recipient for o in sweep(world).sent] == [METTE_PHONE]  # the next sweep


def test_the_servers_background_job_runs_the_same_sweep(world: World) -> None:
    from api.outreach_job import outreach_job

    only(world, "new_year")
    set_cap(world, 2026, 43_000)
    job = outreach_job(world.ledger, every_s=300.0)
    assert job.name == "outreach" and job.every_s == 300.0
    assert job.run() == 2
    assert job.run() == 0
