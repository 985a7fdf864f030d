"""Reference data shipped with the code: the 98 municipalities and the sourced cap table."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from types import MappingProxyType

import yaml
from sqlalchemy import insert, select
from sqlalchemy.engine import Connection

from danish.money import parse_kroner
from db.tables import CapVersion, Municipality

REFERENCE_ACTOR = "system:reference-data"


@dataclass(frozen=True)
class SourcedCap:
    year: int
    amount_ore: int
    source: str


def municipalities() -> list[dict[str, str]]:
    """A fresh list each call (callers may change it); `municipality_names` is the cached view."""
    text = resources.files("db").joinpath("data/municipalities.csv").read_text("utf-8")
    return list(csv.DictReader(io.StringIO(text)))


def sourced_caps() -> list[SourcedCap]:
    text = resources.files("db").joinpath("data/caps.yml").read_text("utf-8")
    return [
        SourcedCap(int(row["year"]), parse_kroner(str(row["amount"])), str(row["source"]))
        for row in yaml.safe_load(text)
    ]


def load_reference_data(conn: Connection) -> None:
    """Inserts whatever reference rows are missing; safe to run again in later migrations."""
    known = set(conn.scalars(select(Municipality.code)))
    rows = [row for row in municipalities() if row["code"] not in known]
    if rows:
        conn.execute(insert(Municipality), rows)
    years_with_cap = set(conn.scalars(select(CapVersion.year)))
    now = dt.datetime.now(dt.UTC)
    caps = [
        {"year": cap.year, "amount_ore": cap.amount_ore, "source": cap.source,
         "is_demo": False, "actor": REFERENCE_ACTOR, "created_at": now}
        for cap in sourced_caps()
        if cap.year not in years_with_cap
    ]
    if caps:
        conn.execute(insert(CapVersion), caps)


@cache
def municipality_names() -> Mapping[str, str]:
    """Code to name, for the 98 municipalities: read once per process (a FAQ answer that
    names the holder's municipality used to parse the CSV file on every message)."""
    return MappingProxyType({row["code"]: row["name"] for row in municipalities()})


def postcode_municipalities(postcode: str) -> list[str]:
    """Municipalities a postcode lies in, the one with most addresses first; empty if unknown."""
    main = _postcodes().get(postcode)
    if main is None:
        return []
    others = [code for code in _multi_postcodes().get(postcode, []) if code != main]
    return [main, *others]


def postcode_town(postcode: str) -> str | None:
    """The postal district's name ("Aarhus C"), or None for an unknown postcode."""
    return _postcode_names().get(postcode)


def town_postcode(name: str) -> str | None:
    """The lowest postcode of a postal district whose name starts with `name` ("Aarhus" ->
    8000 Aarhus C), for people who answer with their town; None for no such town."""
    wanted = " ".join(name.lower().split())
    if len(wanted) < 3:
        return None
    found = [row["postcode"] for row in _postcode_rows()
             if row["name"].lower() == wanted or row["name"].lower().startswith(f"{wanted} ")]
    return min(found, default=None)


@cache
def _postcode_rows() -> list[dict[str, str]]:
    text = resources.files("db").joinpath("data/postcodes.csv").read_text("utf-8")
    return list(csv.DictReader(io.StringIO(text)))


@cache
def _postcodes() -> dict[str, str]:
    return {row["postcode"]: row["municipality_code"] for row in _postcode_rows()}


@cache
def _postcode_names() -> dict[str, str]:
    return {row["postcode"]: row["name"] for row in _postcode_rows()}


@cache
def _multi_postcodes() -> dict[str, list[str]]:
    text = resources.files("db").joinpath("data/postcodes_multi.csv").read_text("utf-8")
    found: dict[str, list[str]] = {}
    for row in csv.DictReader(io.StringIO(text)):
        found.setdefault(row["postcode"], []).append(row["municipality_code"])
    return found
