"""Console staff: accounts, password checks, login throttling, and the principal type."""

from ledger.staff.principal import Role, StaffPrincipal

__all__ = ["Role", "StaffPrincipal"]
