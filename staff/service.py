"""Console accounts and logins, reached as `backend.staff`.

    add_user(username, password, role, municipality_code, display_name) -> StaffPrincipal
    authenticate(username, password, address) -> StaffPrincipal      (or LoginFailed/LoginLocked)
    principal(user_id, session_version) -> StaffPrincipal | None     (None: log the session out)
    end_sessions(user_id)                                             (every cookie stops working)
    set_password(user_id, password), deactivate_user(user_id), list_users() -> [StaffAccount]
    prune_login_throttle() -> int                                     (the retention job's)

Usernames are stored in lower case. Passwords are argon2id hashes; hashing runs outside
any transaction (it takes tens of milliseconds on purpose). A session is valid while the
account is active and its `session_version` is the one the session was issued with.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass

from sqlalchemy import select

from db.commands import Actor
from db.console_tables import STAFF_ROLES, StaffUser
from db.kernel import Kernel
from db.unit_of_work import UnitOfWork
from ledger.service.lookups import municipality
from staff import throttle
from staff.errors import (
    InvalidDisplayName,
    InvalidRole,
    InvalidUsername,
    LoginFailed,
    LoginLocked,
    MunicipalityRequired,
    StaffUserNotFound,
    UsernameTaken,
)
from staff.passwords import Passwords
from staff.principal import StaffPrincipal
from staff.records import StaffAccount, account_of, principal_of

SYSTEM_ACTOR = Actor(name="system", channel="system")
_USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{1,63}\Z")


@dataclass(frozen=True)
class _Candidate:
    """What a login needs to know about the account named, read before the password check."""

    id: int
    password_hash: str
    active: bool


class StaffService:
    def __init__(self, kernel: Kernel) -> None:
        self._kernel = kernel
        self._config = kernel.config.staff
        self._passwords = Passwords(self._config)

    # Accounts ---------------------------------------------------------------------------

    def add_user(
        self, username: str, password: str, role: str, municipality_code: str | None,
        display_name: str, *, actor: Actor = SYSTEM_ACTOR,
    ) -> StaffPrincipal:
        """Creates an account; refuses a taken username, an unknown role or municipality."""
        name = _valid_username(username)
        shown = display_name.strip()
        if not 1 <= len(shown) <= 120:
            raise InvalidDisplayName()
        if role not in STAFF_ROLES:
            raise InvalidRole(role=role)
        code = (municipality_code or "").strip() or None
        if code is None and role != "admin":
            raise MunicipalityRequired()
        self._passwords.check_rules(password)
        password_hash = self._passwords.hash(password)

        def add(uow: UnitOfWork) -> StaffPrincipal:
            if code is not None:
                municipality(uow.session, code)
            if uow.session.scalar(select(StaffUser.id).where(StaffUser.username == name)):
                raise UsernameTaken(username=name)
            user = StaffUser(username=name, display_name=shown, password_hash=password_hash,
                             role=role, municipality_code=code, active=True, session_version=1,
                             created_at=uow.now)
            uow.session.add(user)
            uow.session.flush()
            uow.audit(actor, "staff_user_added", "staff_user", user.id, username=name,
                      role=role, municipality_code=code)
            uow.commit()
            return principal_of(user)
        return self._kernel.run_write(add)

    def set_password(self, user_id: int, password: str, *, actor: Actor = SYSTEM_ACTOR) -> None:
        """A new password also ends every session of the account."""
        self._passwords.check_rules(password)
        password_hash = self._passwords.hash(password)

        def change(uow: UnitOfWork) -> None:
            user = _user(uow, user_id)
            user.password_hash = password_hash
            user.session_version += 1
            uow.audit(actor, "staff_password_set", "staff_user", user.id)
            uow.commit()
        self._kernel.run_write(change)

    def deactivate_user(self, user_id: int, *, actor: Actor = SYSTEM_ACTOR) -> None:
        """The account can no longer log in, and its open sessions stop working at once."""
        def deactivate(uow: UnitOfWork) -> None:
            user = _user(uow, user_id)
            user.active = False
            user.session_version += 1
            uow.audit(actor, "staff_user_deactivated", "staff_user", user.id)
            uow.commit()
        self._kernel.run_write(deactivate)

    def list_users(self) -> list[StaffAccount]:
        def read(uow: UnitOfWork) -> list[StaffAccount]:
            users = uow.session.scalars(select(StaffUser).order_by(StaffUser.username))
            return [account_of(user) for user in users]
        return self._kernel.run_read(read)

    # Logins and sessions ----------------------------------------------------------------

    def authenticate(self, username: str, password: str, address: str) -> StaffPrincipal:
        """The account's principal, or `LoginFailed` / `LoginLocked` (the same for a name
        that does not exist as for a wrong password). Failures count against both the
        account and the address; a success forgets the account's failures."""
        name = username.strip().lower()[:64]
        keys = (throttle.account_key(name), throttle.address_key(address))

        def look(uow: UnitOfWork) -> tuple[_Candidate | None, dt.datetime | None, dt.datetime]:
            user = uow.session.scalar(select(StaffUser).where(StaffUser.username == name))
            found = None if user is None else _Candidate(user.id, user.password_hash, user.active)
            return found, throttle.locked_until(uow.session, keys, uow.now), uow.now
        candidate, locked, now = self._kernel.run_read(look)
        if locked is not None:
            raise _locked(locked, now)
        matches = self._passwords.verify(candidate.password_hash if candidate else None, password)
        if candidate is None or not matches or not candidate.active:
            self._fail(keys)
        assert candidate is not None
        new_hash = (self._passwords.hash(password)
                    if self._passwords.needs_rehash(candidate.password_hash) else None)

        def succeed(uow: UnitOfWork) -> StaffPrincipal:
            still_locked = throttle.locked_until(uow.session, keys, uow.now)
            if still_locked is not None:  # locked by attempts made while we checked
                raise _locked(still_locked, uow.now)
            user = _user(uow, candidate.id)
            if not user.active:
                raise LoginFailed()
            if new_hash is not None and user.password_hash == candidate.password_hash:
                user.password_hash = new_hash
            user.last_login_at = uow.now
            throttle.clear(uow.session, keys[0])
            principal = principal_of(user)
            uow.audit(principal.actor, "staff_login", "staff_user", user.id)
            uow.commit()
            return principal
        return self._kernel.run_write(succeed)

    def _fail(self, keys: tuple[str, str]) -> None:
        """Counts the failure on both keys (committed), then refuses."""
        limits = (self._config.max_account_failures, self._config.max_address_failures)

        def count(uow: UnitOfWork) -> tuple[dt.datetime | None, dt.datetime]:
            ends = [throttle.record_failure(uow.session, key, limit, self._config, uow.now)
                    for key, limit in zip(keys, limits, strict=True)]
            uow.commit()
            return max((end for end in ends if end is not None), default=None), uow.now
        locked, now = self._kernel.run_write(count)
        if locked is not None:
            raise _locked(locked, now)
        raise LoginFailed()

    def prune_login_throttle(self, *, dry_run: bool = False) -> int:
        """Forgets failed logins whose lock and window are over (usernames tried, addresses);
        returns how many rows went (or would go). Run daily by the retention job."""
        def prune(uow: UnitOfWork) -> int:
            count = throttle.prune(uow.session, self._config, uow.now, dry_run=dry_run)
            if not dry_run:
                uow.commit()
            return count
        return self._kernel.run_write(prune)

    def principal(self, user_id: int, session_version: int) -> StaffPrincipal | None:
        """Who a session belongs to, or None when the account is gone, inactive, or logged out."""
        def read(uow: UnitOfWork) -> StaffPrincipal | None:
            user = uow.session.get(StaffUser, user_id)
            if user is None or not user.active or user.session_version != session_version:
                return None
            return principal_of(user)
        return self._kernel.run_read(read)

    def end_sessions(self, user_id: int) -> None:
        """Logout: the session version moves on, so every earlier cookie is refused."""
        def end(uow: UnitOfWork) -> None:
            user = _user(uow, user_id)
            user.session_version += 1
            uow.audit(principal_of(user).actor, "staff_logout", "staff_user", user_id)
            uow.commit()
        self._kernel.run_write(end)


def _valid_username(raw: str) -> str:
    name = raw.strip().lower()
    if not _USERNAME.match(name):
        raise InvalidUsername()
    return name


def _user(uow: UnitOfWork, user_id: int) -> StaffUser:
    user = uow.session.get(StaffUser, user_id, with_for_update=True)
    if user is None:
        raise StaffUserNotFound()
    return user


def _locked(until: dt.datetime, now: dt.datetime) -> LoginLocked:
    return LoginLocked(minutes=max(1, math.ceil((until - now).total_seconds() / 60)))
