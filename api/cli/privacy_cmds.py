"""`frikort retention run` and `frikort citizen export|erase`: data protection by hand.

A CPR number is read from standard input when the argument is left out (or is "-"), and with
hidden input when standard input is a terminal: an argument stays in the shell's history.
"""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from api.cli.context import CLI_ACTOR, load_settings, open_ledger
from db.errors import DomainError
from db.vault import mask_cpr, normalise_cpr
from privacy import ErasureReport

retention_app = typer.Typer(no_args_is_help=True, help="Anonymise old conversation texts")
citizen_app = typer.Typer(no_args_is_help=True,
                          help="Access requests and erasure for one person")
privacy_app = typer.Typer(no_args_is_help=True, help="Stored texts and personal data")

CprArgument = Annotated[str | None, typer.Argument(
    help="The CPR number; leave it out (or give -) to read it from standard input, "
         "which keeps it out of the shell history")]
PhoneOption = Annotated[str | None, typer.Option(
    "--phone", help="Find the person by a phone number instead (no CPR number known)")]


def _fail(message: str, code: int = 2) -> NoReturn:
    typer.echo(message, err=True)
    raise typer.Exit(code)


@retention_app.command("run")
def run(
    older_than_days: Annotated[int | None, typer.Option(
        "--older-than-days", min=1, help="Default: RETENTION_DAYS (365)")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Count, change nothing")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="The report as JSON")] = False,
) -> None:
    """Anonymises conversation texts older than the period; ledger rows are never touched."""
    settings = load_settings()
    days = older_than_days or settings.RETENTION_DAYS
    with open_ledger(settings) as ledger:
        report = ledger.privacy.run_retention(older_than_days=days, actor=CLI_ACTOR,
                                               dry_run=dry_run)
        pruned = ledger.staff.prune_login_throttle(dry_run=dry_run)
    if as_json:
        typer.echo(json.dumps(report.as_dict() | {"login_throttle_pruned": pruned},
                              ensure_ascii=False, indent=1))
        return
    verb = "would anonymise" if dry_run else "anonymised"
    typer.echo(f"retention: texts from before {report.cutoff.date().isoformat()} "
               f"({days} days)")
    typer.echo(f"  {verb} {report.transcript_messages} transcript messages")
    typer.echo(f"  {verb} {report.outbox_messages} outbox messages")
    typer.echo(f"  {verb} {report.conversation_states} conversation states")
    typer.echo(f"  {verb} {report.applications} decided applications' free-text answers")
    typer.echo(f"  {verb} {report.task_consent_notes} consent notes on ended task places")
    typer.echo(f"  {'would delete' if dry_run else 'deleted'} {pruned} expired "
               "failed-login counters")
    typer.echo("  ledger entries, wage reports and the audit log are kept unchanged")


@privacy_app.command("redact-history")
def redact_history(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Count, change nothing")] = False,
) -> None:
    """Redacts CPR numbers, in every spelling recognised today, in texts already stored
    (transcripts, outbox, notes, applications); a second run changes nothing."""
    with open_ledger() as ledger:
        privacy = ledger.privacy
        total = sum(privacy.stored_texts().values())
        changed: dict[str, int] = {}
        scanned = 0
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                      TimeRemainingColumn(), console=Console(stderr=True),
                      transient=True) as progress:
            task = progress.add_task("redacting stored texts", total=total)
            for batch in privacy.redact_history(actor=CLI_ACTOR, dry_run=dry_run):
                scanned += batch.scanned
                changed[batch.kind] = changed.get(batch.kind, 0) + batch.changed
                progress.update(task, advance=batch.scanned,
                                description=f"redacting stored texts ({batch.kind})")
    verb = "would change" if dry_run else "changed"
    kinds = ", ".join(f"{kind} {count}" for kind, count in changed.items())
    typer.echo(f"redact-history: {verb} {sum(changed.values())} of {scanned} stored texts"
               + (f" ({kinds})" if kinds else ""))


def _read_cpr(cpr: str | None) -> str:
    if cpr is not None and cpr != "-":
        return cpr
    if sys.stdin.isatty():
        return str(typer.prompt("CPR number", hide_input=True))
    line = sys.stdin.readline().strip()
    if not line:
        _fail("no CPR number given (as an argument or on standard input)")
    return line


def _who(cpr: str | None, phone: str | None) -> dict[str, str]:
    """The lookup keyword for Privacy, with the CPR number read and checked."""
    if phone is not None:
        if cpr not in (None, "-"):
            _fail("give a CPR number or --phone, not both")
        return {"phone": phone}
    raw = _read_cpr(cpr)
    try:
        return {"cpr": normalise_cpr(raw)}
    except DomainError:
        _fail("that is not a CPR number (ten digits starting with a date)")


def _masked(text: str, who: dict[str, str]) -> str:
    """A last check: the CPR number never leaves the command in full, in any form."""
    cpr = who.get("cpr")
    if not cpr:
        return text
    for form in (cpr, f"{cpr[:6]}-{cpr[6:]}", f"{cpr[:6]} {cpr[6:]}"):
        text = text.replace(form, mask_cpr(cpr))
    return text


@citizen_app.command("export")
def export(
    cpr: CprArgument = None,
    phone: PhoneOption = None,
    fmt: Annotated[str, typer.Option("--format", help="json (the only format so far)")] = "json",
) -> None:
    """Prints everything stored about a person as JSON (an access request)."""
    if fmt != "json":
        _fail("--format must be json")
    who = _who(cpr, phone)
    with open_ledger() as ledger:
        try:
            found = ledger.privacy.export(**who)
        except DomainError as error:
            _fail(f"{error.code}: {error.message}")
    if found is None:
        _fail("nothing is stored about this person", code=1)
    typer.echo(_masked(json.dumps(found, ensure_ascii=False, indent=1, default=str), who))


def _print_erasure(report: ErasureReport, who: dict[str, str]) -> None:
    verb = "would erase" if report.dry_run else "erased"
    lines = [
        f"{verb}: {report.transcript_messages} message texts in {report.conversations} "
        "conversations",
        f"{verb}: {report.outbox_messages} outbox messages",
        f"{verb}: {report.contacts} phone numbers / Telegram ids, "
        f"{report.link_attempts} link attempts",
        f"{verb}: {report.applications} applications' answers, {report.names} names",
        f"{verb}: {report.task_places} ended task places, {report.task_consent_notes} "
        "consent notes on paid places",
        f"{verb}: {report.employer_lists} places on employers' lists, "
        f"{report.phone_list_entries} on helpers' phone lists, {report.job_digests} job "
        "digests",
        f"closed: {report.escalations_closed} open escalations" if not report.dry_run
        else f"would close: {report.escalations_closed} open escalations",
        "kept:",
        *[f"  - {reason}" for reason in report.kept],
    ]
    typer.echo(_masked("\n".join(lines), who))


@citizen_app.command("erase")
def erase(
    cpr: CprArgument = None,
    phone: PhoneOption = None,
    confirm: Annotated[bool, typer.Option(
        "--confirm", help="Really erase; without it, only show what would be erased")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="The report as JSON")] = False,
) -> None:
    """Erases what may be erased about a person and says what is kept and why."""
    who = _who(cpr, phone)
    with open_ledger() as ledger:
        try:
            report = ledger.privacy.erase(actor=CLI_ACTOR, dry_run=not confirm, **who)
        except DomainError as error:
            _fail(f"{error.code}: {error.message}")
    if not report.found:
        _fail("nothing is stored about this person", code=1)
    if as_json:
        body: dict[str, Any] = report.as_dict()
        typer.echo(_masked(json.dumps(body, ensure_ascii=False, indent=1), who))
    else:
        _print_erasure(report, who)
    if not confirm:
        typer.echo("Nothing was changed. Run again with --confirm to erase.")
