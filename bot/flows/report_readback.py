"""The read-back of wage reports waiting for the employer's JA."""

from __future__ import annotations

import datetime as dt
from typing import Any

from bot.context import Step
from bot.flows.report_notices import hours_said
from bot.flows.report_pending import pending
from bot.texts import text
from danish.wording import danish_date, kroner
from ledger.results import WageReportResult


def read_back(step: Step) -> None:
    """The reports waiting for JA, said back with their notes (over the cap, no cap yet)."""
    waiting = [step.ledger.report(int(entry["id"])) for entry in pending(step)]
    notes = " ".join(note for note in (_note(r) for r in waiting) if note)
    if len(waiting) == 1:
        report, entry = waiting[0], pending(step)[0]
        body = text("readback", amount=kroner(report.amount_ore), hours=hours_said(report.hours),
                    card=report.card_number, paid_on=danish_date(report.paid_on),
                    period=_period_text(entry))
        ask = text("readback_ask")
    else:
        lines = " ".join(text("readback_line", n=n, amount=kroner(r.amount_ore),
                              hours=hours_said(r.hours), card=r.card_number)
                         for n, r in enumerate(waiting, start=1))
        body = text("readback_many", lines=lines)
        ask = text("readback_ask_many", count=len(waiting))
    step.say_text(" ".join(part for part in (body, notes, ask) if part), buttons=("JA", "NEJ"))


def _note(report: WageReportResult) -> str:
    if report.status == "awaiting_cap":
        return text("readback_awaiting_cap", card=report.card_number)
    if report.over_cap_ore:
        return text("readback_over_cap", card=report.card_number,
                    counted=kroner(report.counted_ore), over=kroner(report.over_cap_ore))
    return ""


def _period_text(entry: dict[str, Any]) -> str:
    if not entry.get("work_from"):
        return ""
    start = dt.date.fromisoformat(entry["work_from"])
    end = dt.date.fromisoformat(entry["work_to"] or entry["work_from"])
    return " " + text("readback_period", start=danish_date(start), end=danish_date(end))
