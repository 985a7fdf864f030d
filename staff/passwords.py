"""Password hashing with argon2id, with parameters from `StaffConfig`.

Every login runs exactly one argon2 verification, against a dummy hash when the username is
unknown, so the time a refusal takes does not tell whether the account exists.
"""

from __future__ import annotations

import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from db.config import StaffConfig
from staff.errors import InvalidPassword


class Passwords:
    """Hashes, verifies and checks the length rules of console passwords."""

    def __init__(self, config: StaffConfig) -> None:
        self._config = config
        self._hasher = PasswordHasher(time_cost=config.argon2_time_cost,
                                      memory_cost=config.argon2_memory_kib,
                                      parallelism=config.argon2_parallelism)
        self._dummy: str | None = None

    def check_rules(self, password: str) -> None:
        """Refuses a password that is too short to resist guessing (or absurdly long)."""
        if not self._config.min_password_length <= len(password) <= \
                self._config.max_password_length:
            raise InvalidPassword(min_length=self._config.min_password_length,
                                  max_length=self._config.max_password_length)

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, stored_hash: str | None, password: str) -> bool:
        """True only for a real hash that matches; the dummy hash keeps the timing alike."""
        if len(password) > self._config.max_password_length:
            password = ""  # never feed argon2 a megabyte, but still spend the same time
            stored_hash = None
        try:
            self._hasher.verify(stored_hash or self._dummy_hash(), password)
        except (VerificationError, InvalidHashError):
            return False
        return stored_hash is not None

    def needs_rehash(self, stored_hash: str) -> bool:
        """A hash made with other argon2 parameters than the configured ones."""
        try:
            return self._hasher.check_needs_rehash(stored_hash)
        except InvalidHashError:
            return True

    def _dummy_hash(self) -> str:
        if self._dummy is None:  # a harmless race: two threads may both make one
            self._dummy = self._hasher.hash(secrets.token_urlsafe(24))
        return self._dummy
