"""The caseworker console's service layer: inbox, applications, cards, employers, overview.

Reached as `backend.casework` (a `Casework`, see `casework.service` for the contract);
results are the frozen values of `casework.records`. No HTTP and no templates here:
the console pages in `api/` call these methods with the signed-in `StaffPrincipal`.
"""

from casework.service import Casework

__all__ = ["Casework"]
