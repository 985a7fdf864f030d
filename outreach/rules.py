"""The rule catalogue: outreach/data/rules.da.yml, read once, checked when loaded."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources

import yaml

from outreach.errors import UnknownRule
from outreach.store.records import RuleParams


@dataclass(frozen=True)
class RuleSpec:
    name: str
    who: str
    timing: str
    delay_hours: int
    every_days: int
    reminder: bool
    """INGEN PÅMINDELSER stops it."""
    needs_active_card: bool
    texts: dict[str, str]
    """Variant ("main", "many", "reached") to the text with {placeholders}."""

    @property
    def params(self) -> RuleParams:
        return RuleParams(name=self.name, text_id=f"outreach.{self.name}", who=self.who,
                          timing=self.timing, delay_hours=self.delay_hours,
                          every_days=self.every_days, enabled=True)


@cache
def catalogue() -> tuple[RuleSpec, ...]:
    """Every rule, in the order a sweep handles them."""
    raw = resources.files("outreach").joinpath("data/rules.da.yml").read_text("utf-8")
    loaded = yaml.safe_load(raw)
    return tuple(
        RuleSpec(name=name, who=" ".join(str(spec["who"]).split()),
                 timing=" ".join(str(spec["timing"]).split()),
                 delay_hours=int(spec["delay_hours"]), every_days=int(spec["every_days"]),
                 reminder=bool(spec["reminder"]),
                 needs_active_card=bool(spec["needs_active_card"]),
                 texts={k: " ".join(str(v).split()) for k, v in (spec["texts"] or {}).items()})
        for name, spec in loaded.items())


def spec(name: str) -> RuleSpec:
    for rule in catalogue():
        if rule.name == name:
            return rule
    raise UnknownRule(name)
