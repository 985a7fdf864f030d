"""Batches of wage reports in the ledger (`Ledger.report_wages`): the single path's checks,
cap and split, for a whole chunk at once on PostgreSQL.

On SQLite and PostgreSQL: the results equal what the same reports give one by one; a refusal
leaves only its own report out, with or without a key used twice (which PostgreSQL sends the
savepoint way); a batch sent again changes nothing; concurrent batches and single reports
over the same cards never pass the cap and never deadlock for good. On PostgreSQL a chunk
costs a fixed handful of statements, whatever its size.
"""

from __future__ import annotations

import datetime as dt
import threading

from db.errors import DomainError
from ledger import DeactivateCard, RegisterEmployer, WageReportResult
from ledger.service.report_batch import CHUNK, lock_order
from tests.ledger.support import (
    ADMIN,
    CAP_2025,
    NO_SUCH_CARD,
    TODAY,
    Env,
    dump_tables,
    employer_with_card,
    fast_ledger,
    statements_run,
    valid_cvr,
    wage,
)


def _results(outcomes: list[WageReportResult | DomainError]) -> list[WageReportResult]:
    assert all(isinstance(o, WageReportResult) for o in outcomes), outcomes
    return [o for o in outcomes if isinstance(o, WageReportResult)]


def test_batch_equals_the_same_reports_one_by_one(db_url: str) -> None:
    """Same splits as the single path, in the batch's order per card, across several chunks."""
    ledger = fast_ledger(db_url)
    cvr, cards = employer_with_card(ledger, cards=3)
    amounts = [9_000_00, 14_000_00, 7_500_00, 12_345_67, 3_000_00, 20_000_00]
    cmds = [wage(cvr, cards[i % 3], amounts[i % 6] + i, f"k{i}", post=i % 2 == 0)
            for i in range(CHUNK + 30)]
    got = _results(ledger.report_wages(cmds, actor=ADMIN))
    assert [r.card_number for r in got] == [c.card_number for c in cmds]
    # The single path, report by report, in the batch's order: the same split for each.
    used = dict.fromkeys(cards, 0)
    for cmd, result in zip(cmds, got, strict=True):
        counted = min(cmd.amount_ore, CAP_2025 - used[cmd.card_number])
        used[cmd.card_number] += counted
        assert (result.counted_ore, result.over_cap_ore) == (counted, cmd.amount_ore - counted)
        assert result.status == ("posted" if cmd.post else "pending")
    for card in cards:
        balance = ledger.balance(card, 2025)
        assert balance.posted_ore + balance.pending_ore == CAP_2025
    assert len({r.id for r in got}) == len(cmds)
    assert ledger.check_invariants() == []
    ledger.close()


def test_one_refusal_leaves_the_others_and_a_replay_changes_nothing(env: Env) -> None:
    other_cvr = valid_cvr(99)
    cmds = [
        wage(env.cvr, env.card, 1_000_00, "a", post=True),
        wage(env.cvr, NO_SUCH_CARD, 1_000_00, "b"),             # no such card
        wage(other_cvr, env.card, 1_000_00, "c"),                # no such employer
        wage(env.cvr, env.card, 0, "d"),                         # amount out of bounds
        wage(env.cvr, env.card, 2_000_00, "e"),
        wage(env.cvr, env.card, 2_000_00, "e"),                  # the same key again: a replay
        wage(env.cvr, env.card, 3_000_00, "e"),                  # the same key, other payload
    ]
    outcomes = env.ledger.report_wages(cmds, actor=ADMIN)
    codes = [o.code if isinstance(o, DomainError) else o.status for o in outcomes]
    assert codes == ["posted", "card_not_found", "employer_not_found", "amount_out_of_bounds",
                     "pending", "pending", "idempotency_conflict"]
    first, fifth, sixth = outcomes[0], outcomes[4], outcomes[5]
    assert isinstance(first, WageReportResult) and isinstance(fifth, WageReportResult)
    assert isinstance(sixth, WageReportResult) and sixth.replayed and sixth.id == fifth.id
    balance = env.ledger.balance(env.card, 2025)
    assert (balance.posted_ore, balance.pending_ore) == (1_000_00, 2_000_00)

    before = dump_tables(env.url)
    again = env.ledger.report_wages(cmds, actor=ADMIN)
    assert dump_tables(env.url) == before
    assert [o.code if isinstance(o, DomainError) else o.id for o in again] == [
        first.id, "card_not_found", "employer_not_found", "amount_out_of_bounds",
        fifth.id, fifth.id, "idempotency_conflict"]
    assert all(o.replayed for o in again if isinstance(o, WageReportResult))


def _codes(outcomes: list[WageReportResult | DomainError]) -> list[str]:
    return [o.code if isinstance(o, DomainError) else o.status for o in outcomes]


def test_every_refusal_without_a_repeated_key(db_url: str) -> None:
    """Each refusal the checks before the lock make, in one chunk with no key used twice (on
    PostgreSQL the set-based path); sent again, every answer is the same and nothing changes."""
    ledger = fast_ledger(db_url)
    cvr, cards = employer_with_card(ledger, cards=3)
    ledger.deactivate_card(DeactivateCard(number=cards[2], reason="flyttet"), actor=ADMIN)
    unverified = valid_cvr(2)
    ledger.register_employer(RegisterEmployer(cvr=unverified, name="Ny"), actor=ADMIN)
    stranger, _ = employer_with_card(ledger, seed=3)
    cmds = [
        wage(cvr, cards[0], 1_000_00, "a", post=True),
        wage(cvr, NO_SUCH_CARD, 1_000_00, "b"),
        wage(cvr, cards[2], 1_000_00, "c"),                       # deactivated today
        wage(unverified, cards[0], 1_000_00, "d"),
        wage(stranger, cards[1], 1_000_00, "e"),                  # no employment with it
        wage(cvr, cards[1], 1_000_00, "f", paid_on=TODAY + dt.timedelta(days=1)),
        wage(cvr, cards[0], 2_000_00, "g"),
        wage(cvr, cards[1], 0, "h"),
        wage(cvr, cards[1], 3_000_00, "i", post=True),
    ]
    outcomes = ledger.report_wages(cmds, actor=ADMIN)
    assert _codes(outcomes) == [
        "posted", "card_not_found", "card_not_active", "employer_not_verified",
        "no_employment", "invalid_dates", "pending", "amount_out_of_bounds", "posted"]
    assert (ledger.balance(cards[0], 2025).posted_ore,
            ledger.balance(cards[0], 2025).pending_ore) == (1_000_00, 2_000_00)
    assert ledger.balance(cards[1], 2025).posted_ore == 3_000_00

    before = dump_tables(db_url)
    again = ledger.report_wages(cmds, actor=ADMIN)
    assert dump_tables(db_url) == before
    assert [o.code if isinstance(o, DomainError) else o.id for o in again] == [
        o.code if isinstance(o, DomainError) else o.id for o in outcomes]
    assert all(o.replayed for o in again if isinstance(o, WageReportResult))
    assert ledger.check_invariants() == []
    ledger.close()


def test_a_chunk_costs_a_fixed_number_of_statements(postgres_url: str) -> None:
    """PostgreSQL: two chunks of reports take the same few statements as one would twice (the
    lookup, the count, the idempotency records, the audit rows, the commit), no savepoint;
    a key used twice sends its chunk the savepoint way, which still answers correctly."""
    ledger = fast_ledger(postgres_url)
    cvr, cards = employer_with_card(ledger, cards=3)
    cmds = [wage(cvr, cards[i % 3], 100_00 + i, f"n{i}", post=True) for i in range(CHUNK + 10)]
    outcomes, seen = statements_run(lambda: ledger.report_wages(cmds, actor=ADMIN))
    assert len(_results(outcomes)) == len(cmds)
    assert not [s for s in seen if s.lstrip().upper().startswith("SAVEPOINT")]
    assert len(seen) <= 2 * 6, seen

    twice = [wage(cvr, cards[0], 50_00, "t1"), wage(cvr, cards[0], 50_00, "t1")]
    outcomes, seen = statements_run(lambda: ledger.report_wages(twice, actor=ADMIN))
    first, second = _results(outcomes)
    assert second.replayed and second.id == first.id
    assert [s for s in seen if s.lstrip().upper().startswith("SAVEPOINT")]
    ledger.close()


def test_lock_order_keeps_the_batch_order_within_a_card_year() -> None:
    cmds = [wage(valid_cvr(1), card, 100, str(i)) for i, card in
            enumerate(["20000", "10000", "20000", "10000", "15000"])]
    assert lock_order(cmds) == [1, 3, 4, 0, 2]


def test_concurrent_batches_and_singles_keep_the_cap(db_url: str) -> None:
    """Four writers over the same eight cards, batches in opposite orders and single reports:
    every report is answered, no card passes the cap, and the books add up."""
    ledger = fast_ledger(db_url)
    cvr, cards = employer_with_card(ledger, cards=8)
    errors: list[BaseException] = []
    results: list[WageReportResult] = []
    lock = threading.Lock()
    start = threading.Barrier(4)

    def batch(name: str, order: list[str]) -> None:
        cmds = [wage(cvr, card, 6_000_00, f"{name}-{i}-{card}", post=True)
                for i in range(4) for card in order]
        start.wait()
        try:
            outcomes = ledger.report_wages(cmds, actor=ADMIN)
            with lock:
                results.extend(_results(outcomes))
        except BaseException as exc:  # noqa: BLE001  (the test reports it below)
            errors.append(exc)

    def singles(name: str) -> None:
        start.wait()
        try:
            for i in range(12):
                card = cards[i % len(cards)]
                result = ledger.report_wage(wage(cvr, card, 5_000_00, f"{name}-{i}", post=True),
                                            actor=ADMIN)
                with lock:
                    results.append(result)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=batch, args=("up", cards)),
               threading.Thread(target=batch, args=("down", cards[::-1])),
               threading.Thread(target=singles, args=("s1",)),
               threading.Thread(target=singles, args=("s2",))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    assert len(results) == 2 * 32 + 2 * 12
    for card in cards:
        balance = ledger.balance(card, 2025)
        mine = [r for r in results if r.card_number == card]
        assert balance.posted_ore == sum(r.counted_ore for r in mine) <= CAP_2025
        assert balance.over_cap_ore == sum(r.over_cap_ore for r in mine)
        # 4 × 6.000 × 2 + 5.000 × 3 = 63.000 kr. was reported for each card: it is full.
        assert balance.posted_ore == CAP_2025
    assert ledger.check_invariants() == []
    ledger.close()
