"""Seeds the documented demo data through the ledger's own commands, so it obeys every rule."""

from __future__ import annotations

import copy
import datetime as dt
import functools
from decimal import Decimal
from importlib import resources
from typing import TYPE_CHECKING, Any

import yaml

from bot import InboundMessage
from danish.money import parse_kroner
from db.commands import Actor
from ledger import (
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
from smalljobs import TaskService
from smalljobs.commands import PostTask
from staff import StaffService

if TYPE_CHECKING:
    from bot import Dialogue

DEMO_ACTOR = Actor(name="demo-seed", channel="system")


def demo_data() -> dict[str, Any]:
    """The demo identities and records (data/demo.yml): a copy the caller may change."""
    return copy.deepcopy(_parsed_demo_data())


@functools.cache
def _parsed_demo_data() -> dict[str, Any]:
    text = resources.files("sampledata").joinpath("data/demo.yml").read_text("utf-8")
    return dict(yaml.safe_load(text))


def is_seeded(ledger: Ledger) -> bool:
    first = demo_data()["card_holders"][0]["number"]
    try:
        ledger.card(first)
    except CardNotFound:
        return False
    return True


def seed(ledger: Ledger, tasks: TaskService, today: dt.date, *,
         demo_cap: bool = True) -> None:
    """Loads the demo identities; the current year's cap is set as a labelled demo value
    (unless `demo_cap` is False: a year whose cap is not loaded, as before an operator sets it)."""
    data = demo_data()
    if demo_cap:
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
    for task in data.get("tasks", []):
        _seed_task(tasks, task, today)


def _seed_task(tasks: TaskService, task: dict[str, Any], today: dt.date) -> None:
    """An open small job through the ledger's own rules (a verified employer, a known
    postcode, a window from `starts_in_days` on), so the whole loop can be tried."""
    start = today + dt.timedelta(days=task["starts_in_days"])
    tasks.post_task(PostTask(
        employer_cvr=task["employer"], title=task["title"], place=task["place"],
        postcode=task["postcode"], window_start=start,
        window_end=start + dt.timedelta(days=task["days"] - 1),
        expected_hours=Decimal(task["hours"]),
        pay_per_hour_ore=parse_kroner(task["pay_per_hour"]),
        places=task["places"]), actor=DEMO_ACTOR)


def seed_staff(users: StaffService) -> list[str]:
    """Adds the documented demo console users that are missing; returns the names added.

    Development only: they share a published password, so the CLI skips them in production.
    """
    staff = demo_data()["staff"]
    existing = {account.username for account in users.list_users()}
    added = []
    for user in staff["users"]:
        if user["username"] in existing:
            continue
        users.add_user(user["username"], staff["password"], user["role"],
                       user["municipality_code"], user["name"], actor=DEMO_ACTOR)
        added.append(user["username"])
    return added


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


def seed_conversations(dialogue: Dialogue, received_at: dt.datetime) -> int:
    """Plays the demo conversations through the bot, as SMS; returns the messages handled.

    Message ids are fixed, so running it twice changes nothing (the bot de-duplicates them).
    """
    handled = 0
    for number, conversation in enumerate(demo_data().get("conversations", [])):
        for turn, text in enumerate(conversation["say"]):
            dialogue.handle(InboundMessage(
                channel=conversation["channel"], sender=conversation["sender"], text=text,
                provider_message_id=f"demo-{number}-{turn}", received_at=received_at))
            handled += 1
    return handled
