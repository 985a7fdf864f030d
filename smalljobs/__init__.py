"""Small jobs by message (issue 6): employers post tasks, card holders take them, hours flow
into the ledger.

Reached as `backend.tasks` (a `TaskService`, see `smalljobs.service`); results are the
frozen values of `smalljobs.records`, commands the models of `smalljobs.commands`.
The module-level functions of `posting`, `matching`, `taking`, `hours`, `digests`, `people`
and `stats` take a `UnitOfWork` first, so a conversation turn can run them in its savepoint.
"""

from smalljobs.service import TaskService

__all__ = ["TaskService"]
