"""`frikort outreach`: run one sweep by hand (as of a given time, or as a dry run), list the
rules, switch one off or on. The server's background loop runs the same sweep."""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated
from zoneinfo import ZoneInfo

import typer

from api.cli.context import load_settings, open_ledger
from outreach.errors import InvalidTimestamp, UnknownRule
from outreach.rules import catalogue, spec
from outreach.store.records import Outcome
from outreach.sweep import rules, run_sweep
from staff.redaction import mask_address

app = typer.Typer(no_args_is_help=True, help="Messages the assistant writes first")
COPENHAGEN = ZoneInfo("Europe/Copenhagen")


def parse_at(text: str) -> dt.datetime:
    """An ISO timestamp; without a zone it is Danish time."""
    try:
        value = dt.datetime.fromisoformat(text.strip())
    except ValueError as error:
        raise InvalidTimestamp(text) from error
    return value.replace(tzinfo=COPENHAGEN) if value.tzinfo is None else value


def _line(outcome: Outcome) -> dict[str, object]:
    masked = (mask_address(outcome.channel or "sms", outcome.recipient)
              if outcome.recipient else None)
    return {"rule": outcome.rule, "occasion": outcome.occasion, "status": outcome.status,
            "reason": outcome.reason or None, "recipient": masked, "channel": outcome.channel,
            "segments": outcome.segments, "text": outcome.text}


@app.command("run")
def run(
    at: Annotated[str | None, typer.Option(
        "--at", help="Run as of this time (ISO, Danish time unless a zone is given)")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Send nothing, change nothing")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per message")] = False,
    skipped: Annotated[bool, typer.Option("--skipped", help="Also show who was left out, and why")] = False,
) -> None:
    """One sweep: prints each message (rule, masked recipient, channel, text)."""
    try:
        when = parse_at(at) if at else None
    except InvalidTimestamp as error:
        typer.echo(f"{error.code}: {error.message}", err=True)
        raise typer.Exit(2) from error
    with open_ledger(load_settings()) as ledger:
        report = run_sweep(ledger.outreach, at=when, dry_run=dry_run)
    shown = [o for o in report.outcomes if o.status == "queued" or (skipped and o.status == "skipped")]
    if as_json:
        for outcome in shown:
            typer.echo(json.dumps(_line(outcome), ensure_ascii=False))
        return
    moment = report.at.astimezone(COPENHAGEN).strftime("%d.%m.%Y %H.%M")
    if report.quiet:
        typer.echo(f"outreach {moment}: quiet hours (09-20 Danish time only); nothing sent")
        return
    for outcome in shown:
        line = _line(outcome)
        if outcome.status == "queued":
            typer.echo(f"{outcome.rule}  {line['recipient']}  {outcome.channel}  "
                       f"{outcome.segments} SMS  {outcome.text}")
        else:
            typer.echo(f"{outcome.rule}  {line['recipient'] or '-'}  skipped: {outcome.reason}")
    verb = "would queue" if dry_run else "queued"
    typer.echo(f"outreach {moment}: {verb} {len(report.sent)} messages "
               f"({sum(o.segments for o in report.sent)} SMS segments) in {report.seconds:.2f} s")


@app.command("list")
def list_rules(
    as_json: Annotated[bool, typer.Option("--json", help="As JSON")] = False,
) -> None:
    """Every rule: who, when, at most how often, on or off, and its texts."""
    with open_ledger(load_settings()) as ledger:
        stored = {r.name: r for r in rules(ledger.outreach, write=False)}
    items = []
    for rule in catalogue():
        row = stored[rule.name]
        items.append({"rule": rule.name, "enabled": row.enabled, "who": rule.who,
                      "timing": rule.timing, "delay_hours": row.delay_hours,
                      "every_days": row.every_days, "reminder": rule.reminder,
                      "texts": rule.texts})
    if as_json:
        typer.echo(json.dumps(items, ensure_ascii=False, indent=1))
        return
    for item in items:
        state = "on" if item["enabled"] else "OFF"
        typer.echo(f"{item['rule']} ({state}): {item['who']}")
        typer.echo(f"  when: {item['timing']}")
        texts = item["texts"]
        assert isinstance(texts, dict)
        for name, text in texts.items():
            typer.echo(f"  text ({name}): {text}")


def _switch(name: str, enabled: bool) -> None:
    try:
        spec(name)
    except UnknownRule as error:
        typer.echo(f"{error.code}: {error.message} ({name})", err=True)
        raise typer.Exit(2) from error
    with open_ledger(load_settings()) as ledger:
        rules(ledger.outreach, write=True)
        ledger.outreach.set_enabled(name, enabled, "cli")
    typer.echo(f"{name}: {'on' if enabled else 'off'}")


@app.command("disable")
def disable(name: str) -> None:
    """Switches a rule off (kept in the database; the sweep skips it)."""
    _switch(name, False)


@app.command("enable")
def enable(name: str) -> None:
    _switch(name, True)
