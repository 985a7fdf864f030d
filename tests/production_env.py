"""Production settings for tests: a fresh, strong set of secrets, made the way
`frikort secrets generate` makes them (production refuses anything weaker)."""

from __future__ import annotations

from api.secret_policy import generate

PRODUCTION_SECRETS: dict[str, str] = {"ENVIRONMENT": "production", **generate()}
