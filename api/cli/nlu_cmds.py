"""`frikort nlu ...`: parse messages, evaluate on a held-out file, retrain, cross-validate."""

from __future__ import annotations

import datetime as dt
import json
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from api.settings import Settings
from nlu import NluConfig, NluError, Parser, load_embedded_parser, load_parser

app = typer.Typer(no_args_is_help=True, help="Danish NLU: parse, evaluate, train")

Today = Annotated[
    str | None, typer.Option("--today", help="Reference date for relative dates (YYYY-MM-DD)")
]


def _config(**overrides: object) -> NluConfig:
    """The NluConfig built by Settings from the environment, with the CLI's overrides on top."""
    settings = Settings()
    changes: dict[str, Any] = {k: v for k, v in overrides.items() if v is not None}
    if changes.get("backend") == "embedded":
        # An embedded run must not trip over NLU_BACKEND=rasa without RASA_URL in the environment.
        return replace(settings.embedded_nlu, **changes)
    return replace(settings.nlu, **changes) if changes else settings.nlu


def _fail(exc: Exception) -> NoReturn:
    typer.echo(f"error: {exc}", err=True)
    raise typer.Exit(code=1)


@app.command()
def parse(today: Today = None) -> None:
    """Read one message per line on stdin; write one JSON parse result per line, in order."""
    reference = dt.date.fromisoformat(today) if today else None
    try:
        parser = load_parser(_config())
    except (NluError, ValueError) as exc:
        _fail(exc)
    for line in sys.stdin:
        result = parser.parse(line.rstrip("\r\n"), reference)
        sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
        sys.stdout.flush()


@app.command()
def evaluate(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="Held-out YAML file")],
    as_json: Annotated[
        bool, typer.Option("--json", help="One JSON object instead of text")
    ] = False,
    backend: Annotated[
        str, typer.Option("--backend", help="embedded or rasa (intents from Rasa, no fallback)")
    ] = "embedded",
    rasa_url: Annotated[str | None, typer.Option("--rasa-url", help="Rasa base URL")] = None,
    errors: Annotated[bool, typer.Option("--errors", help="List misclassified messages")] = False,
) -> None:
    """Intent accuracy, macro-F1, per-intent P/R, confusions, entity exact match, latency."""
    from nlu.evaluate import evaluate as run_evaluation
    from nlu.evaluate import format_report, load_test_messages
    from nlu.rasa_http import RasaHttpParser

    if backend not in ("embedded", "rasa"):
        _fail(ValueError("--backend must be 'embedded' or 'rasa'"))
    try:
        test_set = load_test_messages(file)
        if backend == "rasa":
            config = _config(backend="rasa", rasa_url=rasa_url)
            # No embedded fallback here: a Rasa failure must fail the evaluation loudly.
            parser: Parser = RasaHttpParser(
                config.rasa_url or "", timeout_s=max(config.rasa_timeout_s, 10.0)
            )
        else:
            parser = load_embedded_parser(_config(backend="embedded", rasa_url=None))
        report = run_evaluation(parser, test_set, backend=backend)
    except (NluError, ValueError) as exc:
        _fail(exc)
    if not errors:
        report.pop("errors")
    typer.echo(json.dumps(report, ensure_ascii=False) if as_json else format_report(report))
    if errors and not as_json:
        for e in report["errors"]:
            typer.echo(
                f"  {e['expected']:>28} → {e['predicted']:<28} {e['confidence']:.2f}  {e['text']}"
            )


@app.command()
def train() -> None:
    """Retrain the embedded model from the training data now, even if a cached one matches."""
    from nlu.training_data import load_training_data

    config = _config(backend="embedded", rasa_url=None)
    try:
        data = load_training_data(config.data_dir, strict=True)
        started = time.perf_counter()
        load_embedded_parser(config, force_train=True)
    except (NluError, ValueError) as exc:
        _fail(exc)
    typer.echo(
        f"trained on {len(data.examples)} examples of {len(data.intents)} intents "
        f"in {time.perf_counter() - started:.1f} s; cached in {config.cache_dir}"
    )


@app.command("cross-validate")
def cross_validate(
    folds: Annotated[int, typer.Option(help="Number of stratified folds")] = 5,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Compare the candidate models and fallback thresholds on the training data (k-fold)."""
    from nlu.crossval import compare_models
    from nlu.training_data import load_training_data

    rows = compare_models(load_training_data(_config().data_dir), folds=folds)
    if as_json:
        typer.echo(json.dumps(rows))
        return
    for row in rows:
        typer.echo(
            f"{row['model']:7} accuracy {row['accuracy']:.3f}  macro-F1 {row['macro_f1']:.3f}"
            f"  fit {row['fit_seconds']:.1f} s"
        )
        for s in row["sweep"][:5]:
            typer.echo(
                f"    threshold {s['threshold']:.2f} ambiguity {s['ambiguity']:.2f}: "
                f"accuracy {s['accuracy']:.3f} oos recall {s['oos_recall']:.3f} "
                f"in-scope fallback {s['in_scope_fallback']:.3f}"
            )
