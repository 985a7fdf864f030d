"""Ledger configuration: a plain value passed in by the composition root, never read from the environment here."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class StaffConfig:
    """Console login rules. Tests pass cheap argon2 parameters; production keeps the defaults."""

    min_password_length: int = 10
    max_password_length: int = 1024
    max_account_failures: int = 5
    """Failed logins for one username within the window before that account is locked."""
    max_address_failures: int = 20
    """Failed logins from one address within the window before that address is locked."""
    failure_window_seconds: int = 15 * 60
    lockout_seconds: int = 15 * 60
    argon2_time_cost: int = 3
    argon2_memory_kib: int = 64 * 1024
    argon2_parallelism: int = 4


@dataclass(frozen=True)
class LedgerConfig:
    """What the ledger needs to know about its deployment."""

    database_url: str
    cpr_encryption_key: bytes
    """32 bytes for AES-256-GCM: CPR numbers are encrypted at rest with it."""
    cpr_hash_key: bytes
    """Key for the HMAC that lets us look a citizen up by CPR without storing it in clear."""
    pending_ttl_seconds: int = 7 * 24 * 3600
    """How long a pending wage report reserves room under the cap before it expires."""
    max_report_ore: int = 50_000_00
    """Sanity bound per report (default 50.000 kr.): larger amounts are refused as typos."""
    max_hours_per_day: int = 16
    """Plausibility bound on hours for each calendar day the work covers."""
    task_reservation_ttl_seconds: int = 48 * 3600
    """How long a small job's place stays reserved without the employer's confirmation."""
    sqlite_busy_timeout_ms: int = 30_000
    pool_size: int = 10
    staff: StaffConfig = field(default_factory=StaffConfig)
