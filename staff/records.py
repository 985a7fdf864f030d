"""Plain values about console accounts, for the admin pages and the CLI (never ORM rows)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from db.base import one_of
from db.console_tables import StaffUser
from staff.principal import ROLES, Role, StaffPrincipal


@dataclass(frozen=True)
class StaffAccount:
    """A console account as an administrator sees it; the password hash never leaves."""

    id: int
    username: str
    display_name: str
    role: Role
    municipality_code: str | None
    active: bool
    created_at: dt.datetime
    last_login_at: dt.datetime | None

    @property
    def principal(self) -> StaffPrincipal:
        return StaffPrincipal(id=self.id, username=self.username,
                              display_name=self.display_name, role=self.role,
                              municipality_code=self.municipality_code)


def principal_of(user: StaffUser) -> StaffPrincipal:
    return StaffPrincipal(id=user.id, username=user.username, display_name=user.display_name,
                          role=one_of(user.role, ROLES),
                          municipality_code=user.municipality_code,
                          session_version=user.session_version)


def account_of(user: StaffUser) -> StaffAccount:
    return StaffAccount(id=user.id, username=user.username, display_name=user.display_name,
                        role=one_of(user.role, ROLES),
                        municipality_code=user.municipality_code, active=user.active,
                        created_at=user.created_at, last_login_at=user.last_login_at)
