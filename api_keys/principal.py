"""Who is calling the REST API: the admin key, or a scoped key and what it is scoped to."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from db.commands import Actor

ApiKeyKind = Literal["employer", "municipality"]


@dataclass(frozen=True)
class ApiPrincipal:
    """`key_id` is None for the admin key (a setting, not a row)."""

    kind: Literal["admin", "employer", "municipality"]
    key_id: int | None = None
    employer_cvr: str | None = None
    municipality_code: str | None = None

    @property
    def is_admin(self) -> bool:
        return self.kind == "admin"

    @property
    def actor(self) -> Actor:
        """Written with every change the key makes, so the audit log names the key."""
        if self.key_id is None:
            return Actor(name="api:admin", channel="api")
        return Actor(name=f"api-key:{self.key_id}", channel="api")


ADMIN = ApiPrincipal(kind="admin")
