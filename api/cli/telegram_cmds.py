"""`frikort telegram set-webhook`: registers our webhook URL and secret with Telegram."""

from __future__ import annotations

import asyncio

import typer

from api.cli.context import load_settings

app = typer.Typer(no_args_is_help=True, help="Telegram bot set-up")
WEBHOOK_PATH = "/webhooks/telegram"


@app.command("set-webhook")
def set_webhook() -> None:
    """Points the bot at PUBLIC_BASE_URL/webhooks/telegram with TELEGRAM_WEBHOOK_SECRET."""
    # The channel adapters load python-telegram-bot and httpx: only this command needs them.
    from api.channels.senders import DeliveryError
    from api.channels.telegram_sender import TelegramSender

    settings = load_settings()
    token, secret = settings.TELEGRAM_BOT_TOKEN, settings.TELEGRAM_WEBHOOK_SECRET
    if token is None or secret is None:
        typer.echo("TELEGRAM_BOT_TOKEN and TELEGRAM_WEBHOOK_SECRET must be set", err=True)
        raise typer.Exit(2)
    url = settings.PUBLIC_BASE_URL.rstrip("/") + WEBHOOK_PATH
    if not url.startswith("https://"):
        typer.echo(f"warning: Telegram only calls https webhooks; {url} is not", err=True)

    async def register() -> None:
        async with TelegramSender(token.get_secret_value(),
                                  settings.TELEGRAM_API_BASE_URL) as sender:
            await sender.set_webhook(url, secret_token=secret.get_secret_value())

    try:
        asyncio.run(register())
    except DeliveryError as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(1) from error
    typer.echo(f"webhook set to {url}")
