"""The refusals of api_keys: typed, with stable codes (texts in db/data/errors.da.yml)."""

from __future__ import annotations

from db.errors import InvalidInput, NotFound


class InvalidApiKeyName(InvalidInput):
    code = "invalid_api_key_name"


class ApiKeyNotFound(NotFound):
    code = "api_key_not_found"
