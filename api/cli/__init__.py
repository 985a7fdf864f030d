"""The `frikort` command line: one Typer app, one sub-app per concern."""

from __future__ import annotations

import typer

from api.cli import (
    audit_cmds,
    bot_cmds,
    db,
    demo,
    import_cmd,
    keys_cmds,
    ledger_cmds,
    nlu_cmds,
    outreach_cmds,
    privacy_cmds,
    secrets_cmds,
    serve,
    synthetic_cmds,
    telegram_cmds,
    users_cmds,
)

app = typer.Typer(no_args_is_help=True, add_completion=False, help="Frikort-assistenten")
app.add_typer(audit_cmds.app, name="audit")
app.add_typer(db.app, name="db")
app.add_typer(demo.app, name="demo")
app.add_typer(ledger_cmds.caps_app, name="caps")
ledger_cmds.app.command("generate")(synthetic_cmds.generate_command)
ledger_cmds.app.command("import")(import_cmd.import_command)
app.add_typer(ledger_cmds.app, name="ledger")
app.add_typer(keys_cmds.app, name="keys")
app.add_typer(nlu_cmds.app, name="nlu")
app.add_typer(outreach_cmds.app, name="outreach")
app.add_typer(bot_cmds.app, name="bot")
app.add_typer(telegram_cmds.app, name="telegram")
app.add_typer(users_cmds.app, name="users")
app.add_typer(privacy_cmds.retention_app, name="retention")
app.add_typer(privacy_cmds.citizen_app, name="citizen")
app.add_typer(privacy_cmds.privacy_app, name="privacy")
app.add_typer(secrets_cmds.app, name="secrets")
app.command("serve")(serve.serve)


def main() -> None:
    app()
