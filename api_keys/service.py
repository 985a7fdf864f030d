"""Making, listing, revoking and checking API keys.

A key is `frk_<prefix>_<secret>`: the prefix (12 hex characters) finds the row, the SHA-256 of
the whole key must match its `secret_hash` (compared in constant time). The key itself is
returned once by `create` and never stored, logged or shown again.

`last_used_at` is written at most once a minute per key, so a busy payroll system does not
turn every read into a write.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, select, update

from api_keys import scope
from api_keys.errors import ApiKeyNotFound, InvalidApiKeyName
from api_keys.principal import ApiKeyKind, ApiPrincipal
from db.api_key_tables import ApiKey
from db.base import table_of
from db.commands import Actor
from db.kernel import Kernel
from db.tables import Employer
from db.unit_of_work import UnitOfWork
from ledger.errors import EmployerNotFound
from ledger.service.lookups import municipality, normalise_cvr

_KEYS = table_of(ApiKey)
_EMPLOYERS = table_of(Employer)
_KEY_SHAPE = re.compile(r"frk_([0-9a-f]{12})_[A-Za-z0-9_-]{43}\Z")
TOUCH_EVERY = dt.timedelta(minutes=1)


@dataclass(frozen=True)
class ApiKeyView:
    """A key as lists show it: never the key itself."""

    id: int
    prefix: str
    name: str
    kind: str
    employer_cvr: str | None
    municipality_code: str | None
    created_at: dt.datetime
    created_by: str
    revoked_at: dt.datetime | None
    last_used_at: dt.datetime | None

    @property
    def scope(self) -> str:
        return f"CVR {self.employer_cvr}" if self.kind == "employer" else \
            f"kommune {self.municipality_code}"


@dataclass(frozen=True)
class NewApiKey:
    view: ApiKeyView
    secret: str
    """The whole key: give it to its holder now; it cannot be shown again."""


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


_VIEW = (select(_KEYS.c.id, _KEYS.c.prefix, _KEYS.c.name, _KEYS.c.kind, _EMPLOYERS.c.cvr,
                _KEYS.c.municipality_code, _KEYS.c.created_at, _KEYS.c.created_by,
                _KEYS.c.revoked_at, _KEYS.c.last_used_at)
         .select_from(_KEYS.outerjoin(_EMPLOYERS, _EMPLOYERS.c.id == _KEYS.c.employer_id)))
_FIND = (select(_KEYS.c.id, _KEYS.c.secret_hash, _KEYS.c.kind, _EMPLOYERS.c.cvr,
                _KEYS.c.municipality_code, _KEYS.c.last_used_at)
         .select_from(_KEYS.outerjoin(_EMPLOYERS, _EMPLOYERS.c.id == _KEYS.c.employer_id))
         .where(_KEYS.c.prefix == bindparam("prefix"), _KEYS.c.revoked_at.is_(None)))


def _view(row: Any) -> ApiKeyView:
    return ApiKeyView(*row)


class ApiKeyService:
    def __init__(self, kernel: Kernel) -> None:
        self._kernel = kernel

    def create(self, kind: ApiKeyKind, name: str, *, employer_cvr: str | None = None,
               municipality_code: str | None = None, actor: Actor) -> NewApiKey:
        """A new key for one employer (by CVR) or one municipality (by code)."""
        shown = name.strip()
        if not 1 <= len(shown) <= 120 or "\x00" in shown:
            raise InvalidApiKeyName()
        prefix = secrets.token_hex(6)
        key = f"frk_{prefix}_{secrets.token_urlsafe(32)}"

        def make(uow: UnitOfWork) -> NewApiKey:
            employer_id = None
            code = None
            if kind == "employer":
                cvr = normalise_cvr(employer_cvr or "")
                employer_id = uow.session.scalar(select(Employer.id).where(Employer.cvr == cvr))
                if employer_id is None:
                    raise EmployerNotFound(cvr=cvr)
            else:
                code = municipality(uow.session, (municipality_code or "").strip()).code
            row = ApiKey(prefix=prefix, secret_hash=_hash(key), name=shown, kind=kind,
                         employer_id=employer_id, municipality_code=code, created_at=uow.now,
                         created_by=actor.name)
            uow.session.add(row)
            uow.session.flush()
            uow.audit(actor, "api_key.create", "api_key", row.id, kind=kind, prefix=prefix,
                      employer_id=employer_id, municipality_code=code)
            view = _view(uow.session.execute(_VIEW.where(_KEYS.c.id == row.id)).one())
            uow.commit()
            return NewApiKey(view=view, secret=key)
        return self._kernel.run_write(make)

    def list(self) -> list[ApiKeyView]:
        """Every key, newest first, revoked ones too (they stay on record)."""
        return self._kernel.run_read(lambda uow: [
            _view(row) for row in uow.session.execute(_VIEW.order_by(_KEYS.c.id.desc()))])

    def revoke(self, key_id: int, *, actor: Actor) -> ApiKeyView:
        """The key stops working at once; revoking a revoked key changes nothing."""
        def revoke(uow: UnitOfWork) -> ApiKeyView:
            row = uow.session.get(ApiKey, key_id)
            if row is None:
                raise ApiKeyNotFound(id=key_id)
            if row.revoked_at is None:
                row.revoked_at = uow.now
                uow.audit(actor, "api_key.revoke", "api_key", row.id, prefix=row.prefix)
            uow.session.flush()
            view = _view(uow.session.execute(_VIEW.where(_KEYS.c.id == row.id)).one())
            uow.commit()
            return view
        return self._kernel.run_write(revoke)

    def authenticate(self, presented: str) -> ApiPrincipal | None:
        """The principal of a valid, unrevoked key; None for anything else."""
        shape = _KEY_SHAPE.match(presented)
        if shape is None:
            return None
        found, now = self._kernel.run_read(lambda uow: (uow.session.execute(
            _FIND, {"prefix": shape.group(1)}).first(), uow.now))
        if found is None or not secrets.compare_digest(found[1], _hash(presented)):
            return None
        key_id, _, kind, cvr, code, last_used = found
        if last_used is None or now - last_used >= TOUCH_EVERY:
            self._touch(int(key_id))
        return ApiPrincipal(kind=kind, key_id=int(key_id), employer_cvr=cvr,
                            municipality_code=code)

    def _touch(self, key_id: int) -> None:
        def touch(uow: UnitOfWork) -> None:
            uow.session.execute(update(_KEYS).where(_KEYS.c.id == key_id)
                                .values(last_used_at=uow.now))
            uow.commit()
        self._kernel.run_write(touch)

    # Scope questions (api_keys/scope.py) ------------------------------------------

    def card_homes(self, numbers: Iterable[str]) -> dict[str, str]:
        listed = list(numbers)
        return self._kernel.run_read(lambda uow: scope.card_homes(uow.session, listed))

    def report_owner(self, report_id: int) -> scope.ReportOwner | None:
        return self._kernel.run_read(lambda uow: scope.report_owner(uow.session, report_id))

    def employs(self, cvr: str, number: str) -> bool:
        return self._kernel.run_read(lambda uow: scope.employs(uow.session, cvr, number))
