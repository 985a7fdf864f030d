"""The secrets we generate: a fresh set for a `.env` file, and the production start-up check.

A production instance must not run with a secret that can be guessed: an empty SESSION_SECRET
let anyone sign a console cookie, and `ADMIN_API_KEY=a` was accepted. So every secret we
generate must be set, long, not obviously patterned, not a development value and not equal to
another one. The checks are simple on purpose (length and the spread of its characters): they
catch typos, placeholders and reuse, not a cleverly weak value.
"""

from __future__ import annotations

import base64
import binascii
import math
import secrets
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass

MIN_BYTES = 32
"""At least 32 bytes (256 bits) of randomness: what `secrets.token_urlsafe(32)` gives."""
MIN_BITS_PER_SYMBOL = 3.0
"""Shannon entropy of the characters (or bytes): "aaaa…" has 0, "abab…" 1, random
base64 about 5, random hex about 4."""


@dataclass(frozen=True)
class SecretSpec:
    name: str
    kind: str
    """"token": used as text (compared or signed with); "key": base64 of raw key bytes."""
    exact_bytes: int | None = None
    """A key that must have exactly this many bytes (AES-256 needs 32)."""


SECRETS: tuple[SecretSpec, ...] = (
    SecretSpec("ADMIN_API_KEY", "token"),
    SecretSpec("SESSION_SECRET", "token"),
    SecretSpec("METRICS_TOKEN", "token"),
    SecretSpec("TELEGRAM_WEBHOOK_SECRET", "token"),
    SecretSpec("CPR_ENCRYPTION_KEY", "key", exact_bytes=32),
    SecretSpec("CPR_HASH_KEY", "key"),
)
"""Every secret we generate; TWILIO_AUTH_TOKEN and TELEGRAM_BOT_TOKEN are the providers'."""


class InsecureSettings(RuntimeError):
    """Production settings with weak or missing secrets; `problems` has one line each."""

    code = "insecure_settings"

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def generate() -> dict[str, str]:
    """A fresh value for every secret, in the shape each one needs."""
    values = {}
    for spec in SECRETS:
        if spec.kind == "key":
            values[spec.name] = base64.b64encode(secrets.token_bytes(MIN_BYTES)).decode()
        else:  # URL-safe: Telegram accepts only A-Z, a-z, 0-9, _ and - in its secret token
            values[spec.name] = secrets.token_urlsafe(MIN_BYTES)
    return values


def bits_per_symbol(symbols: bytes | str) -> float:
    """Shannon entropy of the symbols' distribution, in bits per symbol."""
    if not symbols:
        return 0.0
    counts = Counter(symbols)
    total = len(symbols)
    return -sum(n / total * math.log2(n / total) for n in counts.values())


def weakness(spec: SecretSpec, value: str) -> str | None:
    """Why `value` is not good enough for `spec`, or None."""
    if not value:
        return "is not set"
    symbols: bytes | str = value
    if spec.kind == "key":
        try:
            symbols = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            return "is not base64"
        if spec.exact_bytes is not None and len(symbols) != spec.exact_bytes:
            return f"must be base64 of exactly {spec.exact_bytes} bytes (has {len(symbols)})"
    if len(symbols) < MIN_BYTES:
        unit = "bytes" if spec.kind == "key" else "characters"
        return f"is too short: {len(symbols)} {unit}, at least {MIN_BYTES} needed"
    if bits_per_symbol(symbols) < MIN_BITS_PER_SYMBOL:
        return "is too regular to be random (repeated characters or a pattern)"
    return None


def problems(values: Mapping[str, str | None],
             development_value: Callable[[str], str | None]) -> list[str]:
    """One line per problem, naming the setting and never showing its value."""
    found = []
    seen: dict[str, str] = {}
    for spec in SECRETS:
        value = values.get(spec.name) or ""
        reason = weakness(spec, value)
        if reason is None and value == development_value(spec.name):
            reason = "is the public development value"
        if reason is None and value in seen:
            reason = f"is the same as {seen[value]}"
        if reason is not None:
            found.append(f"{spec.name} {reason} (`frikort secrets generate` makes a new set)")
        elif value:
            seen[value] = spec.name
    return found
