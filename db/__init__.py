"""The database kernel every domain package builds on: the `Kernel` (engines, units of work
with their retry loop, the CPR vault, the clock, the observer), the table mappings
(`db/tables.py` and `db/*_tables.py`), Alembic migrations, reference data, and the bases of
commands and refusals. Its modules are the persistence packages' shared vocabulary."""

from db.commands import Actor, Command
from db.config import LedgerConfig, StaffConfig
from db.engine import is_database_unavailable
from db.errors import Conflict, DomainError, InvalidInput, NotFound
from db.kernel import Kernel
from db.migrate import upgrade
from db.unit_of_work import UnitOfWork

__all__ = [
    "Actor",
    "Command",
    "Conflict",
    "DomainError",
    "InvalidInput",
    "Kernel",
    "LedgerConfig",
    "NotFound",
    "StaffConfig",
    "UnitOfWork",
    "is_database_unavailable",
    "upgrade",
]
