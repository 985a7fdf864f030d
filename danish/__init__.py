"""Danish conventions every package writes by: kroner and øre, dates, GSM-7 and SMS wording.

No imports from the rest of the project: `ledger`, `bot` and `outreach` all format through it.
"""
