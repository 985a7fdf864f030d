"""Who is signed in to the console, and what they may see."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, get_args

from db.commands import Actor

Role = Literal["caseworker", "employer_consultant", "admin", "helper"]
ROLES: tuple[Role, ...] = get_args(Role)


@dataclass(frozen=True)
class StaffPrincipal:
    """A signed-in console user. Every console read and change is scoped by this."""

    id: int
    username: str
    display_name: str
    role: Role
    municipality_code: str | None
    """None only for administrators, who see every municipality."""
    session_version: int = field(default=0, compare=False)
    """The account's session version when this was read; a console session stores it."""

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def sees(self, municipality_code: str | None) -> bool:
        """A caseworker sees their own municipality only; a record with none is admin-only."""
        return self.is_admin or (
            municipality_code is not None and municipality_code == self.municipality_code)

    @property
    def actor(self) -> Actor:
        """The name written to the audit log for what this user does."""
        return Actor(name=f"console:{self.username}", channel="console")
