"""CPR numbers: validated, encrypted at rest, found again by a keyed hash, never shown in full."""

from __future__ import annotations

import hashlib
import hmac
import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from cpr import parse_cpr
from db.errors import InvalidCpr

_NONCE_BYTES = 12
_AAD = b"frikort:cpr:v1"


def normalise_cpr(raw: str) -> str:
    """Ten digits, or InvalidCpr: `cpr.parse_cpr`, the one parser, so any spelling accepted
    here (by the application flow too) is one that `cpr.redact_cpr` hides everywhere."""
    digits = parse_cpr(raw)
    if digits is None:
        raise InvalidCpr("not a CPR number (ten digits starting with a real date)")
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
