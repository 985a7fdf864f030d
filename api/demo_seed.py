"""Seeds the documented demo data through the ledger's own commands, so it obeys every rule."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from importlib import resources
from typing import Any

import yaml

from ledger import (
    Actor,
    CreateEmployment,
    DeactivateCard,
    IssueCard,
    Ledger,
    RegisterEmployer,
    ReportWage,
    SetCap,
    VerifyEmployer,
)
from ledger.errors import CardNotFound
from ledger.money import parse_kroner

DEMO_ACTOR = Actor(name="demo-seed", channel="system")


def demo_data() -> dict[str, Any]:
    text = resources.files("api").joinpath("data/demo.yml").read_text("utf-8")
    return dict(yaml.safe_load(text))


def is_seeded(ledger: Ledger) -> bool:
    first = demo_data()["card_holders"][0]["number"]
    try:
        ledger.card(first)
    except CardNotFound:
        return False
    return True


def seed(ledger: Ledger, today: dt.date) -> None:
    """Loads the demo identities; the current year's cap is set as a labelled demo value."""
    data = demo_data()
    _seed_cap(ledger, data["cap"], today.year)
    for holder in data["card_holders"]:
        ledger.issue_card(IssueCard(
            cpr=holder["cpr"], name=holder["name"], municipality_code=holder["municipality_code"],
            phone=holder["phone"], number=holder["number"],
            valid_from=today - dt.timedelta(days=holder["valid_from_days_ago"])), actor=DEMO_ACTOR)
    for employer in data["employers"]:
        _seed_employer(ledger, employer, today)
    for holder in data["card_holders"]:
        if holder.get("deactivated"):
            ledger.deactivate_card(DeactivateCard(number=holder["number"],
                                                  reason=holder["deactivated"]), actor=DEMO_ACTOR)
    for index, report in enumerate(data["wage_reports"]):
        paid_on = max(today - dt.timedelta(days=report["days_ago"]), dt.date(today.year, 1, 1))
        ledger.report_wage(ReportWage(
            employer_cvr=report["employer"], card_number=report["card"], paid_on=paid_on,
            hours=Decimal(report["hours"]), amount_ore=parse_kroner(report["amount"]),
            idempotency_key=f"demo-seed-{index}", post=True), actor=DEMO_ACTOR)


def _seed_cap(ledger: Ledger, cap: dict[str, Any], year: int) -> None:
    if any(existing.year == year for existing in ledger.caps()):
        return
    template = next(c for c in ledger.caps() if c.year == cap["copy_from_year"])
    ledger.set_cap(SetCap(year=year, amount_ore=template.amount_ore, source=cap["source"],
                          is_demo=True), actor=DEMO_ACTOR)


def _seed_employer(ledger: Ledger, employer: dict[str, Any], today: dt.date) -> None:
    ledger.register_employer(RegisterEmployer(
        cvr=employer["cvr"], name=employer["name"], phone=employer["phone"],
        contact_person=employer["contact_person"]), actor=DEMO_ACTOR)
    if employer["verified"]:
        ledger.verify_employer(VerifyEmployer(cvr=employer["cvr"]), actor=DEMO_ACTOR)
    for number in employer["employs"]:
        card = ledger.card(number)
        ledger.create_employment(CreateEmployment(
            employer_cvr=employer["cvr"], card_number=number, start_date=card.valid_from,
            weekly_hours=Decimal(employer["weekly_hours"])), actor=DEMO_ACTOR)
