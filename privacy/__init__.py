"""Data protection: retention of conversation texts, access requests, erasure on request.

`Privacy(kernel)` is what the CLI and the server's background loop use; each method runs in
the kernel's units of work. The choices behind what is kept and what goes are in the
README ("Metrics, logs and data protection"); they are conservative defaults, not legal advice.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from db.commands import Actor
from db.kernel import Kernel
from db.unit_of_work import UnitOfWork
from privacy.access import export_person
from privacy.erasure import ErasureReport, erase_person
from privacy.redact_history import Batch, batches, count_rows
from privacy.retention import RetentionReport, run_retention
from privacy.scope import ERASED, PersonScope, scope_by_cpr, scope_by_phone

__all__ = ["ERASED", "Batch", "ErasureReport", "Privacy", "RetentionReport"]


class Privacy:
    def __init__(self, kernel: Kernel) -> None:
        self._kernel = kernel

    def run_retention(self, *, older_than_days: int, actor: Actor,
                      dry_run: bool = False) -> RetentionReport:
        """Anonymises conversation texts older than the period; a second run changes nothing."""
        return run_retention(self._kernel, older_than_days=older_than_days, actor=actor,
                             dry_run=dry_run)

    def export(self, *, cpr: str | None = None, phone: str | None = None) -> dict[str, Any] | None:
        """Everything stored about a person (None when nothing is)."""
        def read(uow: UnitOfWork) -> dict[str, Any] | None:
            scope = self._scope(uow, cpr, phone, lock=False)
            return export_person(uow.session, scope, uow.now) if scope.found else None
        return self._kernel.run_read(read)

    def erase(self, *, actor: Actor, cpr: str | None = None, phone: str | None = None,
              dry_run: bool = False) -> ErasureReport:
        """Erases what may be erased; `dry_run` reports the same without changing anything."""
        return self._kernel.run_write(lambda uow: erase_person(
            uow, self._scope(uow, cpr, phone, lock=True), actor=actor, dry_run=dry_run))

    def stored_texts(self) -> dict[str, int]:
        """Rows per kind of stored text that `redact_history` reads."""
        return self._kernel.run_read(count_rows)

    def redact_history(self, *, actor: Actor, dry_run: bool = False) -> Iterator[Batch]:
        """Re-redacts CPR numbers in stored texts, batch by batch (see redact_history.py);
        a run that changed something is recorded in the audit log with its counts."""
        run = self._kernel.run_read if dry_run else self._kernel.run_write
        changed: dict[str, int] = {}
        for batch in batches(run, dry_run=dry_run):
            changed[batch.kind] = changed.get(batch.kind, 0) + batch.changed
            yield batch
        if not dry_run and any(changed.values()):
            def record(uow: UnitOfWork) -> None:
                uow.audit(actor, "privacy.redact_history", "database", "texts", **changed)
                uow.commit()
            self._kernel.run_write(record)

    @staticmethod
    def _scope(uow: UnitOfWork, cpr: str | None, phone: str | None, *, lock: bool) -> PersonScope:
        if (cpr is None) == (phone is None):
            raise ValueError("give a CPR number or a phone number")
        if cpr is not None:
            return scope_by_cpr(uow.session, uow.vault, cpr, lock=lock)
        assert phone is not None
        return scope_by_phone(uow.session, phone)
