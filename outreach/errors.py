"""Refusals of the outreach commands, with stable codes (shown as they are)."""

from __future__ import annotations

from typing import ClassVar


class OutreachError(Exception):
    code: ClassVar[str] = "outreach_error"
    message: ClassVar[str] = "Beskeden kunne ikke laves."

    def __init__(self, detail: str = "") -> None:
        self.detail = detail
        super().__init__(f"{self.code}: {detail}" if detail else self.code)


class UnknownRule(OutreachError):
    code = "outreach_unknown_rule"
    message = "Den regel findes ikke."


class AnnouncementInvalid(OutreachError):
    code = "announcement_invalid"
    message = "Beskeden skal have tekst og må højst fylde 6 SMS."


class InvalidTimestamp(OutreachError):
    code = "outreach_invalid_timestamp"
    message = "Tidspunktet skal skrives som 2026-12-07T10:00 (dansk tid) eller med tidszone."
