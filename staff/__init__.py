"""Console staff: accounts, password checks, login throttling, and the principal type."""

from staff.principal import Role, StaffPrincipal
from staff.records import StaffAccount
from staff.service import StaffService

__all__ = ["Role", "StaffAccount", "StaffPrincipal", "StaffService"]
