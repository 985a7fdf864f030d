"""`frikort ledger import FILE.csv` on SQLite and PostgreSQL: malformed rows reported by line
with nothing posted from them, refusals by line, a summary, and a second run that changes
nothing (with keys from a column, or derived from the rows)."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.bootstrap import Backend
from api.cli import app as cli_app
from tests.ledger.support import (
    NO_SUCH_CARD,
    dump_tables,
    employer_with_card,
    fast_ledger,
    make_config,
)

PAID = "2025-11-03"


@pytest.fixture
def setup(db_url: str) -> tuple[str, str, list[str]]:
    ledger: Backend = fast_ledger(db_url)
    try:
        cvr, cards = employer_with_card(ledger, cards=3)
    finally:
        ledger.close()
    return db_url, cvr, cards


def _run(url: str, *args: str) -> tuple[int, str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "ENVIRONMENT"))}
    env.update(DATABASE_URL=url, ENVIRONMENT="development")
    result = CliRunner().invoke(cli_app, ["ledger", "import", *args], env=env)
    return result.exit_code, result.stdout, result.stderr


def _balances(url: str, cards: list[str]) -> list[tuple[int, int]]:
    ledger = Backend(make_config(url))
    try:
        return [(b.posted_ore, b.pending_ore) for b in
                (ledger.balance(card, 2025) for card in cards)]
    finally:
        ledger.close()


def test_malformed_rows_by_line_and_a_rerun_changes_nothing(
        setup: tuple[str, str, list[str]], tmp_path: Path) -> None:
    url, cvr, cards = setup
    a, b, c = cards
    lines = [
        "employer_cvr,card_number,paid_on,hours,amount,post,idempotency_key",
        f"{cvr},{a},{PAID},4,1250.50,true,nov-1",                 # line 2
        f"{cvr},{b},{PAID},4,12.50.1,true,nov-2",                 # 3: amount malformed
        f"{cvr},{b},{PAID},4,300.00,true",                        # 4: a field missing
        "",                                                       # 5: blank, skipped
        f"{cvr},{b},2025-13-01,4,300.00,true,nov-4",              # 6: no such date
        f"{cvr},{NO_SUCH_CARD},{PAID},4,300.00,true,nov-5",       # 7: refused: no such card
        f"{cvr},{c},{PAID},4,500.00,nej,nov-6",                   # 8: pending
        f"{cvr},{c},{PAID},,500.00,true,nov-7",                   # 9: hours missing
        f"{cvr},{b},{PAID},4,-5.00,true,nov-8",                   # 10: a sign: malformed
        f"{cvr},{b},{PAID},4,75.00,ja,",                          # 11: key empty
    ]
    path = tmp_path / "lon.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, out, err = _run(url, str(path))
    assert code == 1, (out, err)
    reported = sorted(int(line.split(":")[0].split()[1]) for line in err.splitlines()
                      if line.startswith("line "))
    assert reported == [3, 4, 6, 7, 9, 10, 11]
    assert f"line 7: card_not_found: Frikort {NO_SUCH_CARD} findes ikke." in err
    assert "line 3: malformed: amount" in err and "12.50.1" not in err
    assert out.strip() == "lon.csv: 9 rows: 1 posted, 1 pending, 1 refused, 6 malformed"
    assert _balances(url, cards) == [(1250_50, 0), (0, 0), (0, 500_00)]

    before = dump_tables(url)
    code, out, _ = _run(url, str(path))
    assert code == 1
    assert out.strip() == "lon.csv: 9 rows: 2 already imported, 1 refused, 6 malformed"
    assert dump_tables(url) == before


def test_derived_keys_keep_identical_rows_apart_and_survive_edits(
        setup: tuple[str, str, list[str]], tmp_path: Path) -> None:
    url, cvr, cards = setup
    a = cards[0]
    rows = [f"{cvr};{a};{PAID};2;100,00", f"{cvr};{a};{PAID};2;100,00",
            f"{cvr};{a};2025-11-04;2;250,50"]
    path = tmp_path / "uge45.csv"
    path.write_text("\ufeffemployer_cvr;card_number;paid_on;hours;amount\n"
                    + "\n".join(rows) + "\n", encoding="utf-8")
    code, out, err = _run(url, str(path))
    assert (code, err) == (0, "")
    assert out.strip() == "uge45.csv: 3 rows: 3 posted"
    assert _balances(url, cards)[0] == (450_50, 0)
    # A row added at the top, the others moved down: only the new one is posted.
    path.write_text("employer_cvr;card_number;paid_on;hours;amount\n"
                    + "\n".join([f"{cvr};{a};2025-11-05;1;49,50", *rows]) + "\n",
                    encoding="utf-8")
    code, out, _ = _run(url, str(path))
    assert code == 0 and out.strip() == "uge45.csv: 4 rows: 1 posted, 3 already imported"
    assert _balances(url, cards)[0] == (500_00, 0)


def test_a_large_file_in_batches(setup: tuple[str, str, list[str]], tmp_path: Path) -> None:
    url, cvr, cards = setup
    day = dt.date(2025, 11, 3)
    lines = ["employer_cvr,card_number,paid_on,hours,amount"]
    lines += [f"{cvr},{cards[i % 3]},{day - dt.timedelta(days=i % 200)},1,{10 + i % 7}.25"
              for i in range(2500)]
    lines.insert(1801, f"{cvr},{cards[0]},{day},1")  # line 1802: one field short
    path = tmp_path / "stor.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, out, err = _run(url, str(path))
    assert code == 1
    assert err.strip() == "line 1802: malformed: 4 fields, the header has 5"
    assert out.strip() == "stor.csv: 2.501 rows: 2.500 posted, 1 malformed"
    expected = [sum((10 + i % 7) * 100 + 25 for i in range(2500) if i % 3 == k) for k in range(3)]
    assert [posted for posted, _ in _balances(url, cards)] == expected


def test_an_unusable_header_imports_nothing(setup: tuple[str, str, list[str]],
                                            tmp_path: Path) -> None:
    url, cvr, cards = setup
    path = tmp_path / "forkert.csv"
    path.write_text(f"cvr,card_number,paid_on,hours,amount\n{cvr},{cards[0]},{PAID},1,10\n",
                    encoding="utf-8")
    before = dump_tables(url)
    code, _, err = _run(url, str(path))
    assert code == 2 and "missing employer_cvr" in err and "unknown cvr" in err
    code, out, _ = _run(url, "--dry-run", str(path).replace("forkert", "ingen"))
    assert code == 2  # no such file
    assert dump_tables(url) == before
