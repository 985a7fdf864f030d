"""A synthetic national data set: cards, employers and three years of wage reports.

    plan = plan_for_scale(0.1, now=now, seed=1)
    report = generate(ledger_config, plan)   # into a migrated, empty database

For benchmarks and load tests only. Everything is invented (names, CPR and CVR numbers,
phone numbers), every row obeys the ledger's rules and constraints, and
`Ledger.check_invariants()` holds on the result. Full size (scale 1.0) is the issue's
national estimate: 15.000 cards, 5.000 employers, about 500.000 reports.
"""

from sampledata.generate import GenerationReport, Samples, generate
from sampledata.plan import (
    DatabaseNotEmpty,
    InvalidPlan,
    Plan,
    Shares,
    SyntheticDataError,
    plan_for_scale,
)

__all__ = [
    "DatabaseNotEmpty",
    "GenerationReport",
    "InvalidPlan",
    "Plan",
    "Samples",
    "Shares",
    "SyntheticDataError",
    "generate",
    "plan_for_scale",
]
