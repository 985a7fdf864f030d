"""CPR numbers: validated, encrypted at rest, found again by a keyed hash, never shown in full."""

from __future__ import annotations

import hashlib
import hmac
import os
import re

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from stdnum.dk import cpr as stdnum_cpr
from stdnum.exceptions import ValidationError

from ledger.errors import InvalidCpr

_NONCE_BYTES = 12
_AAD = b"frikort:cpr:v1"


def normalise_cpr(raw: str) -> str:
    """Ten digits, or InvalidCpr. Modern CPR numbers need not pass mod 11, so only the
    date part is checked (python-stdnum's birth-date check)."""
    digits = re.sub(r"[\s-]", "", raw)
    if not re.fullmatch(r"\d{10}", digits):
        raise InvalidCpr("not ten digits")
    try:
        stdnum_cpr.get_birth_date(digits)
    except (ValidationError, ValueError) as exc:
        raise InvalidCpr("no valid birth date") from exc
    return digits


class CprVault:
    """Encrypts CPR numbers with AES-256-GCM and derives the lookup hash with HMAC-SHA256."""

    def __init__(self, encryption_key: bytes, hash_key: bytes) -> None:
        if len(encryption_key) != 32:
            raise ValueError("CPR encryption key must be 32 bytes")
        self._aead = AESGCM(encryption_key)
        self._hash_key = hash_key

    def lookup_hash(self, cpr: str) -> str:
        return hmac.new(self._hash_key, cpr.encode(), hashlib.sha256).hexdigest()

    def encrypt(self, cpr: str) -> bytes:
        nonce = os.urandom(_NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, cpr.encode(), _AAD)

    def decrypt(self, blob: bytes) -> str:
        return self._aead.decrypt(blob[:_NONCE_BYTES], blob[_NONCE_BYTES:], _AAD).decode()


def mask_cpr(cpr: str) -> str:
    """The birth date only, as caseworkers may see it: "010190-xxxx"."""
    return f"{cpr[:6]}-xxxx"
