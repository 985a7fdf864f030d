"""Re-redacting texts already stored: CPR numbers in spellings that were not recognised when
the text was written (issue 14: "07 07 61 42 85", en dashes, full-width digits...) become
"[CPR]" with `cpr.redact_cpr`, the redaction used everywhere text is stored today.

Which texts: transcript messages and the replies kept for provider retries, outbox messages,
caseworkers' notes, and the name and free-text answers of applications. Work goes by table
and id in short batches, each its own transaction; a second run changes nothing.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column, Table, func, select, update

from cpr import redact_cpr, redact_values
from db.base import table_of
from db.console_tables import EscalationNote
from db.conversation_tables import CardApplication, OutboxMessage, TranscriptMessage
from db.unit_of_work import UnitOfWork

BATCH = 500


def _redacted_json(text: str | None) -> str | None:
    """A JSON document with every string in it redacted, the shape kept."""
    if not text:
        return text
    try:
        document = json.loads(text)
    except ValueError:
        return redact_cpr(text)
    changed = redact_values(document)
    return text if changed == document else json.dumps(changed, ensure_ascii=False)


@dataclass(frozen=True)
class Texts:
    """One table's redactable columns."""

    kind: str
    table: Table
    columns: tuple[tuple[str, Callable[[Any], Any]], ...]


TEXTS = (
    Texts("transcript", table_of(TranscriptMessage),
          (("text", redact_cpr), ("replies_json", _redacted_json))),
    Texts("outbox", table_of(OutboxMessage), (("text", redact_cpr),)),
    Texts("notes", table_of(EscalationNote), (("text", redact_cpr),)),
    Texts("applications", table_of(CardApplication),
          (("name", redact_cpr), ("answers_json", _redacted_json))),
)


@dataclass(frozen=True)
class Batch:
    kind: str
    scanned: int
    changed: int
    last_id: int | None
    """None when the table has no rows after the batch's start."""


def count_rows(uow: UnitOfWork) -> dict[str, int]:
    return {texts.kind: int(uow.session.scalar(select(func.count()).select_from(texts.table))
                            or 0) for texts in TEXTS}


def redact_batch(uow: UnitOfWork, texts: Texts, after_id: int, *, dry_run: bool) -> Batch:
    """Redacts up to BATCH rows with id > after_id; commits unless `dry_run`."""
    table = texts.table
    id_column: Column[int] = table.c.id
    names = [name for name, _ in texts.columns]
    rows = uow.session.execute(
        select(id_column, *(table.c[name] for name in names))
        .where(id_column > after_id).order_by(id_column).limit(BATCH)).all()
    changed = 0
    for row in rows:
        values = {name: redact(getattr(row, name)) if getattr(row, name) is not None else None
                  for name, redact in texts.columns}
        new = {name: value for name, value in values.items() if value != getattr(row, name)}
        if new:
            changed += 1
            if not dry_run:
                uow.session.execute(update(table).where(id_column == row.id).values(**new))
    if not dry_run:
        uow.commit()
    return Batch(texts.kind, len(rows), changed, rows[-1].id if rows else None)


def _one_batch(uow: UnitOfWork, *, texts: Texts, after: int, dry_run: bool) -> Batch:
    return redact_batch(uow, texts, after, dry_run=dry_run)


def batches(run: Callable[[Callable[[UnitOfWork], Batch]], Batch], *,
            dry_run: bool) -> Iterator[Batch]:
    """Every batch of every table in turn; `run` runs one batch in a unit of work."""
    for texts in TEXTS:
        after = 0
        while True:
            batch = run(functools.partial(_one_batch, texts=texts, after=after, dry_run=dry_run))
            if batch.last_id is None:
                break
            yield batch
            after = batch.last_id
