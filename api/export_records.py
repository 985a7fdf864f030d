"""The wage-report export's record: one shape for `GET /api/v1/exports/wage-reports` and
`frikort ledger export`, in a module of its own so the CLI need not load the web framework."""

from __future__ import annotations

from danish.money import format_kroner
from ledger.queries import ExportRow

EXPORT_COLUMNS = ("report_id", "card_number", "municipality_code", "employer_cvr",
                  "employer_name", "paid_on", "work_from", "work_to", "hours", "amount",
                  "counted_amount", "over_cap_amount", "status", "reported_at", "source_channel")


def export_record(row: ExportRow) -> dict[str, str | int]:
    """One exported report: amounts as decimal kroner strings, dates in ISO 8601."""
    return {
        "report_id": row.report_id, "card_number": row.card_number,
        "municipality_code": row.municipality_code, "employer_cvr": row.employer_cvr,
        "employer_name": row.employer_name, "paid_on": row.paid_on.isoformat(),
        "work_from": row.work_from.isoformat(), "work_to": row.work_to.isoformat(),
        "hours": str(row.hours.normalize()), "amount": format_kroner(row.amount_ore),
        "counted_amount": format_kroner(row.counted_ore),
        "over_cap_amount": format_kroner(row.over_cap_ore), "status": row.status,
        "reported_at": row.reported_at.isoformat(), "source_channel": row.source_channel,
    }
