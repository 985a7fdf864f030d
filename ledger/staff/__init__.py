"""Console staff: accounts, password checks, login throttling, and the principal type."""

from ledger.staff.principal import Role, StaffPrincipal
from ledger.staff.records import StaffAccount
from ledger.staff.service import StaffService

__all__ = ["Role", "StaffAccount", "StaffPrincipal", "StaffService"]
