"""The domain services side by side on one database kernel: what a process holds.

In a module of its own so that what needs only the services (every CLI command) does not load
the dialogue, the NLU or the channels, which `api.bootstrap` adds for the server.
"""

from __future__ import annotations

from api_keys import ApiKeyService
from casework import Casework
from conversations.service import Conversations
from db.config import LedgerConfig
from db.kernel import Kernel
from db.unit_of_work import Clock
from ledger import Ledger
from ledger.handlers import ledger_handlers
from outreach.store import OutreachStore
from privacy import Privacy
from smalljobs import TaskService
from smalljobs.handlers import smalljobs_handlers
from staff import StaffService


class Backend(Ledger):
    """The ledger and its sibling services on one kernel: what a process holds.

    It is the `Ledger` (the money commands) with the other domains beside it, each built on
    the same kernel and knowing none of the others; closing it disposes the kernel's pools.
    """

    def __init__(self, config: LedgerConfig, *, clock: Clock | None = None) -> None:
        super().__init__(Kernel(config, clock=clock),
                         handlers=smalljobs_handlers(ledger_handlers()))
        self.conversations = Conversations(self.kernel, self.handlers)
        self.casework = Casework(self.kernel)
        self.staff = StaffService(self.kernel)
        self.api_keys = ApiKeyService(self.kernel)
        self.tasks = TaskService(self.kernel)
        self.outreach = OutreachStore(self.kernel)
        self.privacy = Privacy(self.kernel)
