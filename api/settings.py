"""Settings from the environment: the only place below the entry points that reads it."""

from __future__ import annotations

import base64
import hashlib
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot import BotConfig
from ledger.config import LedgerConfig
from nlu import NluConfig

# Development keys are derived from a public phrase so `make run` works on a bare machine;
# production refuses to start with them (see _refuse_dev_secrets_in_production).
_DEV_PHRASE = "frikort-assistenten development only"
DEV_ADMIN_API_KEY = "dev-admin-key"


def _dev_key(purpose: str) -> str:
    return base64.b64encode(hashlib.sha256(f"{_DEV_PHRASE}:{purpose}".encode()).digest()).decode()


class Settings(BaseSettings):
    """Every setting is an environment variable of the same name (see README)."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", case_sensitive=True)

    ENVIRONMENT: Literal["development", "production"] = "development"
    DATABASE_URL: str = "sqlite:///var/frikort.db"
    PUBLIC_BASE_URL: str = "http://127.0.0.1:8000"
    ADMIN_API_KEY: SecretStr = SecretStr(DEV_ADMIN_API_KEY)
    CPR_ENCRYPTION_KEY: SecretStr = SecretStr(_dev_key("cpr-encryption"))
    CPR_HASH_KEY: SecretStr = SecretStr(_dev_key("cpr-hash"))
    SESSION_SECRET: SecretStr = SecretStr(_dev_key("session"))

    PENDING_TTL_SECONDS: int = 7 * 24 * 3600
    MAX_REPORT_AMOUNT_ORE: int = 50_000_00

    TWILIO_ACCOUNT_SID: str | None = None
    TWILIO_AUTH_TOKEN: SecretStr | None = None
    TWILIO_FROM_NUMBER: str | None = None
    TWILIO_API_BASE_URL: str = "https://api.twilio.com"
    TELEGRAM_BOT_TOKEN: SecretStr | None = None
    TELEGRAM_WEBHOOK_SECRET: SecretStr | None = None
    TELEGRAM_API_BASE_URL: str = "https://api.telegram.org"

    NLU_BACKEND: Literal["embedded", "rasa"] = "embedded"
    RASA_URL: str | None = None
    NLU_CACHE_DIR: str = "var/nlu-cache"

    HANDOFF_RESPONSE_HOURS: int = 24
    APPLICATION_RESPONSE_DAYS: int = 14
    OUTBOX_POLL_SECONDS: float = 1.0
    WARM_NLU_AT_START: bool = True
    DEMO_CHAT: bool | None = None
    """The /demo page lets anyone write as a demo phone number: on by default in development,
    off in production unless set explicitly."""
    RUN_BACKGROUND_WORKER: bool = True
    """The outbox delivery and pending-report expiry loop; tests drive it by hand instead."""

    @model_validator(mode="after")
    def _refuse_dev_secrets_in_production(self) -> Settings:
        if self.ENVIRONMENT != "production":
            return self
        dev_values = {
            "ADMIN_API_KEY": DEV_ADMIN_API_KEY,
            "CPR_ENCRYPTION_KEY": _dev_key("cpr-encryption"),
            "CPR_HASH_KEY": _dev_key("cpr-hash"),
            "SESSION_SECRET": _dev_key("session"),
        }
        for name, dev_value in dev_values.items():
            if getattr(self, name).get_secret_value() == dev_value:
                raise ValueError(f"{name} must be set to a secret value in production")
        return self

    @property
    def demo_enabled(self) -> bool:
        return self.DEMO_CHAT if self.DEMO_CHAT is not None else self.ENVIRONMENT != "production"

    @property
    def twilio_configured(self) -> bool:
        return bool(self.TWILIO_ACCOUNT_SID and self.TWILIO_AUTH_TOKEN and self.TWILIO_FROM_NUMBER)

    @property
    def telegram_configured(self) -> bool:
        return bool(self.TELEGRAM_BOT_TOKEN and self.TELEGRAM_WEBHOOK_SECRET)

    @cached_property
    def nlu(self) -> NluConfig:
        return NluConfig(backend=self.NLU_BACKEND, rasa_url=self.RASA_URL,
                         cache_dir=Path(self.NLU_CACHE_DIR))

    @cached_property
    def bot(self) -> BotConfig:
        return BotConfig(handoff_response_hours=self.HANDOFF_RESPONSE_HOURS,
                         application_response_days=self.APPLICATION_RESPONSE_DAYS)

    @cached_property
    def ledger(self) -> LedgerConfig:
        return LedgerConfig(
            database_url=self.DATABASE_URL,
            cpr_encryption_key=base64.b64decode(self.CPR_ENCRYPTION_KEY.get_secret_value()),
            cpr_hash_key=base64.b64decode(self.CPR_HASH_KEY.get_secret_value()),
            pending_ttl_seconds=self.PENDING_TTL_SECONDS,
            max_report_ore=self.MAX_REPORT_AMOUNT_ORE,
        )
