"""The console's Danish messages to applicants, from casework/data/casework.da.yml."""

from __future__ import annotations

import datetime as dt
from functools import cache
from importlib import resources
from typing import Any

import yaml

from danish.wording import first_name
from db.reference_data import municipality_names


@cache
def _texts() -> dict[str, str]:
    raw = resources.files("casework").joinpath("data/casework.da.yml").read_text("utf-8")
    return {key: " ".join(str(value).split()) for key, value in yaml.safe_load(raw).items()}


def text(key: str, **values: Any) -> str:
    """The message `key` with its placeholders filled; a missing value is a programming error."""
    return _texts()[key].format(**values)


def municipality(code: str | None) -> str:
    name = municipality_names().get(code or "")
    return text("municipality", name=name) if name else text("municipality_unknown")


def grant(name: str, number: str, code: str, valid_from: dt.date, *, linked: bool) -> str:
    return text("grant_linked" if linked else "grant_not_linked", first_name=first_name(name),
                number=number, code=code, valid_from=valid_from.strftime("%d.%m.%Y"))


def rejection(name: str, application_id: int, municipality_code: str | None, reason: str) -> str:
    """The caseworker's reason as a sentence of its own, inside the plain rejection message."""
    sentence = reason if reason.endswith((".", "!", "?")) else f"{reason}."
    return text("rejection", first_name=first_name(name), id=application_id,
                municipality=municipality(municipality_code), reason=sentence)
