"""`frikort bot evaluate`: what people get, end to end, on files of realistic messages."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import track

from api.settings import Settings
from db.unit_of_work import danish_day
from nlu import load_parser

if TYPE_CHECKING:
    from api.answer_world import AnswerWorld

app = typer.Typer(no_args_is_help=True, help="The dialogue: answer accuracy on real messages")


def _demo_world(today: str | None) -> AnswerWorld:
    """The demo world at 10:00 on `today` (default: today in Denmark), with the real parser
    and crisis classifier. Imported here, not with the module: the dialogue and
    scikit-learn would slow the start of every other command."""
    from api.answer_world import AnswerWorld
    from nlu import load_crisis_classifier

    settings = Settings()
    day = dt.date.fromisoformat(today) if today else danish_day(dt.datetime.now(dt.UTC))
    return AnswerWorld(settings.ledger, load_parser(settings.nlu),
                       now=dt.datetime.combine(day, dt.time(10), tzinfo=dt.UTC),
                       crisis=load_crisis_classifier(settings.nlu))


@app.command()
def play(
    today: Annotated[str | None, typer.Option(
        "--today", help="The day the demo world lives on (YYYY-MM-DD; default today)")] = None,
    no_cap: Annotated[bool, typer.Option("--no-cap", help="No cap loaded for the year")] = False,
) -> None:
    """Plays one conversation on a fresh demo database: one "sender: message" per line on
    stdin (jens, mette, ali, cafe, groen, unknown), or "+2d" / "+3h" / "+30m" to let time
    pass; prints what the assistant answered."""
    world = _demo_world(today)
    turns = []
    for line in sys.stdin:
        line = line.strip()
        if line.startswith("+"):
            turns.append((line, ""))
        elif ":" in line:
            sender, text = line.split(":", 1)
            turns.append((sender.strip(), text.strip()))
    try:
        for sender, text, replies in world.converse(turns, cap="none" if no_cap else "demo"):
            typer.echo(f"{sender.capitalize()}: {text}")
            for reply in replies or ["(no reply)"]:
                typer.echo(f"Bot:  {reply}")
    finally:
        world.close()


@app.command()
def evaluate(
    answers: Annotated[Path, typer.Option("--answers", exists=True, dir_okay=False,
                                          help="YAML file of messages with expected answers")],
    today: Annotated[str | None, typer.Option(
        "--today", help="The day the demo world lives on (YYYY-MM-DD; default today)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object")] = False,
    wrong: Annotated[bool, typer.Option("--wrong", help="List every wrong answer")] = False,
) -> None:
    """Plays each message through the real dialogue with the demo identities (a fresh demo
    database per message) and prints answer accuracy per audience, the not-understood rate,
    crisis recall, server errors and the most frequent confusions."""
    from bot.evaluation import format_report, load_cases, score

    cases = load_cases(answers)
    world = _demo_world(today)
    try:
        played = [world.play(case) for case in track(
            cases, description=f"{answers.name}", disable=as_json, transient=True)]
    finally:
        world.close()
    report = score(played)
    if as_json:
        typer.echo(json.dumps(report, ensure_ascii=False))
        return
    typer.echo(format_report(report, wrong=wrong))
    typer.echo(f"{answers.name}: {report['accuracy']:.1%} right of {report['messages']}, "
               f"{report['not_understood']:.1%} not understood, crisis recall "
               f"{report['crisis_recall']:.0%}, {report['server_errors']} server errors")
