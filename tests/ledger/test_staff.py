"""Console accounts: adding users, argon2 passwords, login throttling, sessions (both databases)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher

from api.bootstrap import Backend
from db.base import Base
from db.config import StaffConfig
from db.errors import DomainError
from staff import StaffPrincipal
from tests.ledger.support import (
    FakeClock,
    audit_rows,
    dump_tables,
    fast_ledger,
    make_config,
    raw_engine,
    refused,
)

CHEAP = StaffConfig(argon2_time_cost=1, argon2_memory_kib=1024, argon2_parallelism=1)
PASSWORD = "korrekt-hest-batteri"
HERE = "10.0.0.1"


@dataclass
class StaffEnv:
    url: str
    ledger: Backend
    clock: FakeClock

    def add(self, username: str = "anna", role: str = "caseworker",
            municipality: str | None = "751", password: str = PASSWORD) -> StaffPrincipal:
        return self.ledger.staff.add_user(username, password, role, municipality,
                                          f"Navn {username}")

    def login(self, username: str = "anna", password: str = PASSWORD,
              address: str = HERE) -> StaffPrincipal:
        return self.ledger.staff.authenticate(username, password, address)

    def refused_login(self, code: str, username: str = "anna", password: str = "forkert-kode-1",
                      address: str = HERE) -> DomainError:
        return refused(code, lambda: self.login(username, password, address))

    def stored_hash(self, username: str) -> str:
        engine = raw_engine(self.url)
        table = Base.metadata.tables["staff_users"]
        try:
            with engine.connect() as conn:
                return str(conn.scalar(sa.select(table.c.password_hash)
                                       .where(table.c.username == username)))
        finally:
            engine.dispose()


@pytest.fixture
def env(db_url: str) -> Iterator[StaffEnv]:
    clock = FakeClock()
    ledger = fast_ledger(db_url, clock, staff=CHEAP)
    yield StaffEnv(db_url, ledger, clock)
    ledger.close()


# Accounts ------------------------------------------------------------------------------


def test_add_user_stores_an_argon2_hash_and_login_returns_the_principal(env: StaffEnv) -> None:
    added = env.ledger.staff.add_user("  Anna.B ", PASSWORD, "caseworker", "751", " Anna Berg ")
    assert (added.username, added.display_name, added.role, added.municipality_code) == (
        "anna.b", "Anna Berg", "caseworker", "751")
    stored = env.stored_hash("anna.b")
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    principal = env.login("ANNA.B")
    assert principal == added and principal.session_version == 1
    assert principal.actor.name == "console:anna.b" and principal.actor.channel == "console"
    [account] = env.ledger.staff.list_users()
    assert account.last_login_at == env.clock.now and account.active
    assert not hasattr(account, "password_hash")
    actions = [(r["action"], r["actor"]) for r in audit_rows(env.url)]
    assert ("staff_user_added", "system") in actions
    assert ("staff_login", "console:anna.b") in actions
    assert all(PASSWORD not in str(r) and "$argon2" not in str(r) for r in audit_rows(env.url))


def test_an_admin_needs_no_municipality_but_a_caseworker_does(env: StaffEnv) -> None:
    admin = env.add("chef", role="admin", municipality=None)
    assert admin.is_admin and admin.municipality_code is None and admin.sees("101")
    consultant = env.add("karl", role="employer_consultant", municipality="101")
    assert consultant.sees("101") and not consultant.sees("751")
    refused("municipality_required", lambda: env.add("bo", municipality=None))
    refused("municipality_required", lambda: env.add("bo", municipality="  "))


@pytest.mark.parametrize(("kwargs", "code"), [
    ({"username": "anna"}, "username_taken"),
    ({"username": "ANNA"}, "username_taken"),
    ({"role": "superuser"}, "invalid_role"),
    ({"municipality": "999"}, "municipality_not_found"),
    ({"password": "kort-kode"}, "invalid_password"),
    ({"password": "x" * 1025}, "invalid_password"),
    ({"username": "a"}, "invalid_username"),
    ({"username": "anna berg"}, "invalid_username"),
    ({"username": "<script>"}, "invalid_username"),
    ({"username": "x" * 65}, "invalid_username"),
])
def test_bad_accounts_are_refused_and_change_nothing(
    env: StaffEnv, kwargs: dict[str, str], code: str,
) -> None:
    env.add("anna")
    before = dump_tables(env.url)
    arguments = {"username": "bodil", **kwargs}
    refused(code, lambda: env.add(**arguments))
    assert dump_tables(env.url) == before


def test_display_name_must_be_present_and_short(env: StaffEnv) -> None:
    for name in ("", "   ", "x" * 121):
        refused("invalid_display_name",
                lambda name=name: env.ledger.staff.add_user("bo", PASSWORD, "admin", None, name))
    assert env.ledger.staff.list_users() == []


def test_list_users_in_username_order(env: StaffEnv) -> None:
    env.add("zoe")
    env.add("adam", role="admin", municipality=None)
    accounts = env.ledger.staff.list_users()
    assert [(a.username, a.role, a.municipality_code, a.active) for a in accounts] == [
        ("adam", "admin", None, True), ("zoe", "caseworker", "751", True)]
    assert accounts[1].principal.username == "zoe"


# Logins --------------------------------------------------------------------------------


def test_wrong_password_and_unknown_user_are_refused_alike(
    env: StaffEnv, monkeypatch: pytest.MonkeyPatch,
) -> None:
    env.add("anna")
    passwords = env.ledger.staff._passwords
    calls: list[str] = []

    class Counting:
        """Wraps the hasher (its attributes are read-only) to record every verification."""

        def __init__(self, inner: PasswordHasher) -> None:
            self.inner = inner

        def verify(self, stored: str, password: str) -> bool:
            calls.append(stored)
            return self.inner.verify(stored, password)

        def __getattr__(self, name: str) -> object:
            return getattr(self.inner, name)
    monkeypatch.setattr(passwords, "_hasher", Counting(passwords._hasher))
    wrong = env.refused_login("login_failed", "anna")
    unknown = env.refused_login("login_failed", "nobody")
    assert wrong.message == unknown.message == "Forkert brugernavn eller adgangskode."
    # One argon2 verification each: the unknown name is checked against a dummy hash.
    assert len(calls) == 2 and all(c.startswith("$argon2id$") for c in calls)
    assert calls[1] != env.stored_hash("anna")


def test_five_failures_lock_the_account_for_fifteen_minutes(env: StaffEnv) -> None:
    env.add("anna")
    for _ in range(4):
        env.refused_login("login_failed")
    locked = env.refused_login("login_locked")
    assert locked.message == "For mange forkerte forsøg. Vent 15 minutter, og prøv igen."
    env.refused_login("login_locked", password=PASSWORD)  # even the right password
    env.clock.advance(minutes=14)
    assert "1 minutter" in env.refused_login("login_locked", password=PASSWORD).message
    env.clock.advance(minutes=1)
    assert env.login().username == "anna"


def test_an_unknown_username_is_locked_the_same_way(env: StaffEnv) -> None:
    for _ in range(4):
        env.refused_login("login_failed", "ghost")
    env.refused_login("login_locked", "ghost")
    env.refused_login("login_locked", "ghost")


def test_failures_outside_the_window_do_not_add_up(env: StaffEnv) -> None:
    env.add("anna")
    for _ in range(4):
        env.refused_login("login_failed")
    env.clock.advance(minutes=15)
    for _ in range(4):
        env.refused_login("login_failed")
    assert env.login().username == "anna"


def test_a_success_resets_the_account_counter(env: StaffEnv) -> None:
    env.add("anna")
    for _ in range(4):
        env.refused_login("login_failed")
    env.login()
    for _ in range(4):
        env.refused_login("login_failed")
    assert env.login().username == "anna"


def test_twenty_failures_from_one_address_lock_that_address(env: StaffEnv) -> None:
    env.add("anna")
    for i in range(19):
        env.refused_login("login_failed", f"guess{i % 5}-{i // 5}")
    env.refused_login("login_locked", "guess-last")
    env.refused_login("login_locked", "anna", PASSWORD)
    assert env.login(address="10.0.0.2").username == "anna"
    env.clock.advance(minutes=15)
    assert env.login().username == "anna"


def test_concurrent_failures_are_all_counted(env: StaffEnv) -> None:
    env.add("anna")
    errors: list[str] = []

    def attempt(i: int) -> None:
        try:
            env.login("anna", "forkert-kode-1", f"10.1.0.{i}")
        except DomainError as exc:
            errors.append(exc.code)
    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(errors) == ["login_failed"] * 4 + ["login_locked"] * 4
    engine = raw_engine(env.url)
    table = Base.metadata.tables["login_throttle"]
    try:
        with engine.connect() as conn:
            row = conn.execute(sa.select(table).where(table.c.key == "user:anna")).one()
    finally:
        engine.dispose()
    assert row.failures == 5 and row.locked_until is not None


def test_inactive_users_cannot_log_in_and_lose_their_sessions(env: StaffEnv) -> None:
    anna = env.add("anna")
    session = env.login()
    env.ledger.staff.deactivate_user(anna.id)
    assert env.ledger.staff.principal(anna.id, session.session_version) is None
    env.refused_login("login_failed", password=PASSWORD)
    assert [a.active for a in env.ledger.staff.list_users()] == [False]
    refused("staff_user_not_found", lambda: env.ledger.staff.deactivate_user(anna.id + 99))


# Sessions and passwords ------------------------------------------------------------------


def test_principal_follows_the_session_version(env: StaffEnv) -> None:
    anna = env.add("anna")
    session = env.login()
    assert env.ledger.staff.principal(anna.id, session.session_version) == anna
    assert env.ledger.staff.principal(anna.id, session.session_version + 1) is None
    assert env.ledger.staff.principal(anna.id + 99, 1) is None
    env.ledger.staff.end_sessions(anna.id)
    assert env.ledger.staff.principal(anna.id, session.session_version) is None
    again = env.login()
    assert again.session_version == session.session_version + 1
    assert env.ledger.staff.principal(anna.id, again.session_version) == anna
    assert ("staff_logout", "console:anna") in [(r["action"], r["actor"])
                                                for r in audit_rows(env.url)]
    refused("staff_user_not_found", lambda: env.ledger.staff.end_sessions(anna.id + 99))


def test_set_password_ends_sessions_and_replaces_the_old_password(env: StaffEnv) -> None:
    anna = env.add("anna")
    session = env.login()
    refused("invalid_password", lambda: env.ledger.staff.set_password(anna.id, "kort"))
    assert env.ledger.staff.principal(anna.id, session.session_version) == anna
    env.ledger.staff.set_password(anna.id, "en-helt-ny-adgangskode")
    assert env.ledger.staff.principal(anna.id, session.session_version) is None
    env.refused_login("login_failed", password=PASSWORD)
    assert env.login(password="en-helt-ny-adgangskode").username == "anna"


def test_a_hash_made_with_old_parameters_is_replaced_at_login(env: StaffEnv) -> None:
    env.add("anna")
    old = env.stored_hash("anna")
    env.login()
    assert env.stored_hash("anna") == old  # same parameters: left alone
    stronger = StaffConfig(argon2_time_cost=2, argon2_memory_kib=2048, argon2_parallelism=1)
    newer = Backend(make_config(env.url, staff=stronger), clock=env.clock)
    try:
        assert newer.staff.authenticate("anna", PASSWORD, HERE).username == "anna"
        rehashed = env.stored_hash("anna")
        assert rehashed != old and "m=2048,t=2,p=1" in rehashed
        assert "m=1024,t=1,p=1" in old
        assert newer.staff.authenticate("anna", PASSWORD, HERE).username == "anna"
    finally:
        newer.close()
