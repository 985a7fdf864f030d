"""Small jobs by message (issue 6): employers post tasks, card holders take them, hours flow
into the ledger.

Reached as `ledger.tasks` (a `TaskService`, see `ledger.tasks.service`); results are the
frozen values of `ledger.tasks.records`, commands the models of `ledger.tasks.commands`.
The module-level functions of `posting`, `matching`, `taking`, `hours`, `digests`, `people`
and `stats` take a `UnitOfWork` first, so a conversation turn can run them in its savepoint.
"""

from smalljobs.service import TaskService

__all__ = ["TaskService"]
