"""The base of every refusal: a typed error with a stable code and a plain-Danish message.

    DomainError                 (400)
    ├── InvalidInput            invalid_input (422)
    │   └── InvalidCpr          invalid_cpr: the vault's own refusal
    ├── NotFound                (404)
    └── Conflict                (409)

Each domain defines its refusals under these families in its own `errors.py` (ledger/,
staff/, casework/, smalljobs/, api_keys/, outreach/); api/problems.py maps families to HTTP
statuses, with the few exceptions a family would mislead about. The Danish message for each
code lives in `db/data/errors.da.yml`; callers show it as it is.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any, ClassVar

import yaml


@cache
def _messages() -> dict[str, str]:
    text = resources.files("db").joinpath("data/errors.da.yml").read_text(encoding="utf-8")
    return dict(yaml.safe_load(text))


def danish_message(code: str) -> str:
    """The plain-Danish message template for an error code."""
    return _messages()[code]


class DomainError(Exception):
    """A refusal: nothing was changed, and `message` says why in plain Danish."""

    code: ClassVar[str] = "ledger_error"

    def __init__(self, detail: str = "", **params: Any) -> None:
        self.detail = detail
        self.params = params
        super().__init__(f"{self.code}: {detail}" if detail else self.code)

    @property
    def message(self) -> str:
        return danish_message(self.code).format(**self.params).strip()


class InvalidInput(DomainError):
    code = "invalid_input"


class NotFound(DomainError):
    code = "not_found"


class Conflict(DomainError):
    code = "conflict"


def all_error_classes() -> list[type[DomainError]]:
    """Every concrete error class, for the meta-tests and the API's status table."""
    found: list[type[DomainError]] = []
    pending: list[type[DomainError]] = [DomainError]
    while pending:
        cls = pending.pop()
        found.append(cls)
        pending.extend(cls.__subclasses__())
    return found


class InvalidCpr(InvalidInput):
    code = "invalid_cpr"
