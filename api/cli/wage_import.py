"""Reading a payroll CSV file into wage-report commands, for `frikort ledger import`.

Columns (a header row names them, in any order; `,` or `;` between fields; UTF-8, with or
without a byte-order mark):

    employer_cvr, card_number, paid_on (YYYY-MM-DD), hours, amount       required
    post, work_from, work_to, idempotency_key                             optional

`amount` is kroner with at most two decimals, "1250.50" or "1250,50" (no thousands
separator). `post` is true/false (also ja/nej, 1/0); without the column every report is
posted, as the payments have been made (`--pending` makes them wait for confirmation).

Without an `idempotency_key` column each row's key is made from its content: the SHA-256 of
its fields, plus how many identical rows came before it in the file. The same file imported
again (or with rows added or moved) posts nothing twice, and two identical payments in one
file stay two. A row that cannot be read is reported by its line number and nothing is
posted from it; the field is named, its value never repeated (it could be anything).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TextIO

from pydantic import ValidationError

from danish.money import MoneyFormatError, parse_kroner
from ledger import ReportWage

REQUIRED = ("employer_cvr", "card_number", "paid_on", "hours", "amount")
OPTIONAL = ("post", "work_from", "work_to", "idempotency_key")
_TRUE = {"true", "ja", "1", "yes", "j", "y"}
_FALSE = {"false", "nej", "0", "no", "n"}


class HeaderError(ValueError):
    """The header row is missing a required column or names one we do not know."""


@dataclass(frozen=True)
class Malformed:
    line: int
    reason: str


@dataclass(frozen=True)
class Row:
    line: int
    cmd: ReportWage


def _date(text: str, field: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise ValueError(f"{field}: not a date as YYYY-MM-DD") from exc


def _amount(text: str) -> int:
    spelled = text.replace(",", ".") if "," in text and "." not in text else text
    try:
        return parse_kroner(spelled)
    except MoneyFormatError as exc:
        raise ValueError("amount: not kroner with at most two decimals") from exc


def _hours(text: str) -> Decimal:
    try:
        return Decimal(text.replace(",", "."))
    except InvalidOperation as exc:
        raise ValueError("hours: not a number") from exc


def _flag(text: str, default: bool) -> bool:
    if not text:
        return default
    if text.lower() in _TRUE:
        return True
    if text.lower() in _FALSE:
        return False
    raise ValueError("post: not true or false")


def _derived_key(fields: dict[str, str], seen: dict[str, int]) -> str:
    content = "\x1f".join(fields.get(name, "") for name in REQUIRED + OPTIONAL[:3])
    digest = hashlib.sha256(content.encode()).hexdigest()[:40]
    seen[digest] = seen.get(digest, 0) + 1
    return f"csv:{digest}:{seen[digest]}"


def _command(fields: dict[str, str], *, post_default: bool, seen: dict[str, int]) -> ReportWage:
    missing = [name for name in REQUIRED if not fields.get(name)]
    if missing:
        raise ValueError(f"{', '.join(missing)}: missing")
    key = fields.get("idempotency_key")
    if key is None:
        key = _derived_key(fields, seen)
    elif not key:
        raise ValueError("idempotency_key: missing")
    work_from = fields.get("work_from") or None
    work_to = fields.get("work_to") or None
    try:
        return ReportWage(
            employer_cvr=fields["employer_cvr"], card_number=fields["card_number"],
            paid_on=_date(fields["paid_on"], "paid_on"), hours=_hours(fields["hours"]),
            amount_ore=_amount(fields["amount"]), idempotency_key=key,
            post=_flag(fields.get("post", ""), post_default),
            work_from=_date(work_from, "work_from") if work_from else None,
            work_to=_date(work_to, "work_to") if work_to else None)
    except ValidationError as exc:
        where = ", ".join(str(e["loc"][0]) for e in exc.errors() if e.get("loc"))
        raise ValueError(f"{where or 'row'}: not valid") from exc


def _dialect(sample: str) -> type[csv.Dialect] | csv.Dialect:
    try:
        return csv.Sniffer().sniff(sample.splitlines()[0] if sample else "", delimiters=",;")
    except csv.Error:
        return csv.excel


def count_rows(path: Path) -> int:
    """Lines after the header (for the progress bar; a quoted field may hold a line break)."""
    with path.open("rb") as raw:
        return max(sum(1 for _ in raw) - 1, 0)


def read_rows(handle: TextIO, *, post_default: bool = True) -> Iterator[Row | Malformed]:
    """Each data row of the file, in order, as a command or as the reason it is malformed.

    Raises HeaderError before any row when the header is unusable."""
    sample = handle.read(4096)
    handle.seek(0)
    reader = csv.reader(handle, _dialect(sample))
    header = [name.strip().lower() for name in next(reader, [])]
    unknown = [name for name in header if name not in REQUIRED + OPTIONAL]
    missing = [name for name in REQUIRED if name not in header]
    if unknown or missing or len(set(header)) != len(header):
        raise HeaderError("header: " + "; ".join(
            part for part in (f"missing {', '.join(missing)}" if missing else "",
                              f"unknown {', '.join(unknown)}" if unknown else "",
                              "a column named twice" if len(set(header)) != len(header) else "")
            if part))
    seen: dict[str, int] = {}
    line = reader.line_num
    for values in reader:
        start, line = line + 1, reader.line_num
        if not any(value.strip() for value in values):
            continue  # a blank line
        if len(values) != len(header):
            yield Malformed(start, f"{len(values)} fields, the header has {len(header)}")
            continue
        fields = {name: value.strip() for name, value in zip(header, values, strict=True)}
        try:
            yield Row(start, _command(fields, post_default=post_default, seen=seen))
        except ValueError as exc:
            yield Malformed(start, str(exc))
