"""Settings from the environment: the only place below the entry points that reads it."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import replace
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

import yaml
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from api.secret_policy import SECRETS, InsecureSettings
from api.secret_policy import problems as secret_problems
from bot import BotConfig
from bot.voice.offices import Offices, parse_offices
from db.config import LedgerConfig
from nlu import NluConfig

# Development keys are derived from a public phrase so `make run` works on a bare machine;
# production refuses to start with them (see Settings.secret_problems).
_DEV_PHRASE = "frikort-assistenten development only"
DEV_ADMIN_API_KEY = "dev-admin-key"


def _dev_key(purpose: str) -> str:
    return base64.b64encode(hashlib.sha256(f"{_DEV_PHRASE}:{purpose}".encode()).digest()).decode()


_DEV_VALUES = {
    "ADMIN_API_KEY": DEV_ADMIN_API_KEY,
    "CPR_ENCRYPTION_KEY": _dev_key("cpr-encryption"),
    "CPR_HASH_KEY": _dev_key("cpr-hash"),
    "SESSION_SECRET": _dev_key("session"),
}


def _secret_value(value: SecretStr | None) -> str | None:
    return value.get_secret_value() if value is not None else None


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

    VOICE_OFFICES: str | None = None
    """A YAML file with each municipality's phone number and opening hours, for putting
    callers through (README "Voice"). Unset: the demo's invented offices in development,
    nobody in production (every caller who wants a person gets a callback request)."""
    VOICE_TTS: str = "Polly.Naja"
    """The Danish text-to-speech voice of <Say> (Amazon Polly's Naja reads SSML)."""

    NLU_BACKEND: Literal["embedded", "rasa"] = "embedded"
    RASA_URL: str | None = None
    NLU_CACHE_DIR: str = "var/nlu-cache"
    NLU_DATA_DIR: str | None = None
    """A folder of Rasa YAML training data to train the embedded model on instead of the shipped
    nlu/data (a deployment's own examples, or a small set for a quick check)."""

    HANDOFF_RESPONSE_HOURS: int = 24
    SENDER_RATE_LIMIT_PER_MINUTE: int = 20
    """Messages per sender per minute that the bot answers (see README, Security); 0 is off."""
    APPLICATION_RESPONSE_DAYS: int = 14
    OUTBOX_POLL_SECONDS: float = 1.0
    WARM_NLU_AT_START: bool = True
    DEMO_CHAT: bool | None = None
    """The /demo page lets anyone write as a demo phone number: on by default in development,
    off in production unless set explicitly."""
    RUN_BACKGROUND_WORKER: bool = True
    """The outbox delivery and pending-report expiry loop; tests drive it by hand instead."""
    RETENTION_DAYS: int = Field(default=365, ge=1)
    """Conversation texts older than this are anonymised, daily by the server's background loop
    and on demand by `frikort retention run` (see README: "Metrics, logs and data protection")."""
    RETENTION_IN_SERVER: bool = True
    """Run the retention job once a day in the background loop (needs RUN_BACKGROUND_WORKER)."""
    OUTREACH_IN_SERVER: bool = True
    """Run the outreach sweep (reminders, status, announcements) in the background loop."""
    OUTREACH_EVERY_SECONDS: float = Field(default=300.0, ge=10.0)
    SMS_SEGMENT_PRICE_ORE: int = Field(default=45, ge=0)
    """What one SMS segment costs, in øre: the console's cost estimate for an announcement."""
    LOG_FORMAT: Literal["json", "text"] | None = None
    """One JSON object per line (the default in production) or plain text (in development)."""
    LOG_LEVEL: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    METRICS_TOKEN: SecretStr | None = None
    """A bearer token for GET /metrics besides ADMIN_API_KEY. /metrics is open in development
    unless this is set, and always needs a token in production."""
    PROMETHEUS_MULTIPROC_DIR: str | None = None
    """With several workers: an empty directory where every worker's counters are kept, so a
    scrape adds them up. prometheus_client reads it from the environment itself at import,
    so it must be set in the environment of `frikort serve`, not only in `.env`."""
    CONSOLE_COOKIE_SECURE: bool | None = None
    """The console's session cookie is sent over HTTPS only: on by default in production,
    off in development (where `make run` serves plain http on 127.0.0.1)."""

    FORWARDED_ALLOW_IPS: str = ""
    """Addresses (comma-separated IPs or networks, "*" for any) of the reverse proxies whose
    X-Forwarded-For and X-Forwarded-Proto are believed. Default: none, so a client can never
    choose its own address (the console's login lock counts per address)."""
    ALLOWED_HOSTS: str = ""
    """Host names accepted besides the one in PUBLIC_BASE_URL (comma-separated), e.g. the
    name a load balancer's health check uses. Any other Host header gets 400."""
    API_DOCS: bool | None = None
    """/docs and /openapi.json: on by default in development, off in production unless set;
    in production they then need the admin key (see README, Security)."""

    def secret_problems(self) -> list[str]:
        """In production, one line per weak, missing, development or repeated secret."""
        if self.ENVIRONMENT != "production":
            return []
        values = {spec.name: _secret_value(getattr(self, spec.name)) for spec in SECRETS}
        return secret_problems(values, _DEV_VALUES.get)

    def require_safe_secrets(self) -> None:
        """Raises InsecureSettings in production when `secret_problems` finds anything."""
        found = self.secret_problems()
        if found:
            raise InsecureSettings(found)

    @property
    def demo_enabled(self) -> bool:
        return self.DEMO_CHAT if self.DEMO_CHAT is not None else self.ENVIRONMENT != "production"

    @property
    def api_docs_enabled(self) -> bool:
        return self.API_DOCS if self.API_DOCS is not None else self.ENVIRONMENT != "production"

    @property
    def allowed_hosts(self) -> list[str]:
        """PUBLIC_BASE_URL's host, ALLOWED_HOSTS, and loopback names in development."""
        hosts = [urlsplit(self.PUBLIC_BASE_URL).hostname or ""]
        hosts += [h.strip() for h in self.ALLOWED_HOSTS.split(",") if h.strip()]
        if self.ENVIRONMENT != "production":
            hosts += ["127.0.0.1", "localhost"]
        return list(dict.fromkeys(h for h in hosts if h))

    @property
    def forwarded_allow_ips(self) -> list[str]:
        return [a.strip() for a in self.FORWARDED_ALLOW_IPS.split(",") if a.strip()]

    @property
    def console_cookie_secure(self) -> bool:
        if self.CONSOLE_COOKIE_SECURE is not None:
            return self.CONSOLE_COOKIE_SECURE
        return self.ENVIRONMENT == "production"

    @property
    def log_format(self) -> str:
        if self.LOG_FORMAT is not None:
            return self.LOG_FORMAT
        return "json" if self.ENVIRONMENT == "production" else "text"

    @property
    def metrics_need_token(self) -> bool:
        return self.ENVIRONMENT == "production" or self.METRICS_TOKEN is not None

    def secret_values(self) -> list[str]:
        """Every secret's value, for the log redaction filter."""
        found = []
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, SecretStr) and value.get_secret_value():
                found.append(value.get_secret_value())
        return found

    @property
    def twilio_configured(self) -> bool:
        return bool(self.TWILIO_ACCOUNT_SID and self.TWILIO_AUTH_TOKEN and self.TWILIO_FROM_NUMBER)

    @property
    def telegram_configured(self) -> bool:
        return bool(self.TELEGRAM_BOT_TOKEN and self.TELEGRAM_WEBHOOK_SECRET)

    @cached_property
    def nlu(self) -> NluConfig:
        return replace(self.embedded_nlu, backend=self.NLU_BACKEND, rasa_url=self.RASA_URL)

    @property
    def embedded_nlu(self) -> NluConfig:
        """The embedded model's settings, whatever NLU_BACKEND says (`frikort nlu train`)."""
        config = NluConfig(cache_dir=Path(self.NLU_CACHE_DIR))
        return replace(config, data_dir=Path(self.NLU_DATA_DIR)) if self.NLU_DATA_DIR else config

    @cached_property
    def bot(self) -> BotConfig:
        return BotConfig(handoff_response_hours=self.HANDOFF_RESPONSE_HOURS,
                         application_response_days=self.APPLICATION_RESPONSE_DAYS,
                         rate_limit_per_minute=self.SENDER_RATE_LIMIT_PER_MINUTE,
                         offices=self.offices)

    @cached_property
    def offices(self) -> Offices:
        """Who callers are put through to (VOICE_OFFICES); a bad file stops the start."""
        path = self.VOICE_OFFICES
        if path is None and self.ENVIRONMENT != "production":
            return parse_offices(yaml.safe_load(
                resources.files("api").joinpath("data/voice_offices.demo.yml")
                .read_text("utf-8")))
        if path is None:
            return Offices()
        return parse_offices(yaml.safe_load(Path(path).read_text("utf-8")))

    @cached_property
    def ledger(self) -> LedgerConfig:
        return LedgerConfig(
            database_url=self.DATABASE_URL,
            cpr_encryption_key=base64.b64decode(self.CPR_ENCRYPTION_KEY.get_secret_value()),
            cpr_hash_key=base64.b64decode(self.CPR_HASH_KEY.get_secret_value()),
            pending_ttl_seconds=self.PENDING_TTL_SECONDS,
            max_report_ore=self.MAX_REPORT_AMOUNT_ORE,
        )
