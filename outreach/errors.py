"""Refusals of the outreach commands, typed with stable codes (texts in db/data/errors.da.yml)."""

from __future__ import annotations

from db.errors import InvalidInput, NotFound


class UnknownRule(NotFound):
    code = "outreach_unknown_rule"


class AnnouncementInvalid(InvalidInput):
    code = "announcement_invalid"


class InvalidTimestamp(InvalidInput):
    code = "outreach_invalid_timestamp"
