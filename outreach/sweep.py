"""One outreach sweep: every enabled rule's candidates, through the consent policy, into the
outbox. The server's background loop runs it every few minutes in every process, and
`frikort outreach run` runs it by hand; the keys in the database make running it twice, in
two places at once, or again after a crash, send nothing twice.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from dataclasses import dataclass, field

from outreach import consent, texts
from outreach.rules import catalogue
from outreach.store import OutreachStore
from outreach.store.records import Candidate, Outcome, RuleParams

log = logging.getLogger(__name__)


@dataclass
class SweepReport:
    at: dt.datetime
    dry_run: bool
    quiet: bool
    """Quiet hours: nothing was looked at; the morning's first sweep sends what is due."""
    outcomes: list[Outcome] = field(default_factory=list)
    failed_rules: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def sent(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.status == "queued"]


def rules(store: OutreachStore, *, write: bool) -> list[RuleParams]:
    """The rules as the database has them (missing ones added from the catalogue, unless
    `write` is false: a dry run then uses the catalogue's values for them)."""
    defaults = [rule.params for rule in catalogue()]
    if write:
        return store.sync_rules(defaults)
    return store.stored_rules(defaults)


def run_sweep(store: OutreachStore, *, at: dt.datetime | None = None,
              dry_run: bool = False) -> SweepReport:
    """Runs every rule once as of `at` (default: the kernel's clock)."""
    started = time.perf_counter()
    when = at or store.now()
    report = SweepReport(at=when, dry_run=dry_run, quiet=consent.quiet_hours(when))
    if report.quiet:
        return report
    found: list[Candidate] = []
    for rule in rules(store, write=not dry_run):
        try:
            found += store.candidates(rule, when)
        except Exception:  # one rule's query failing must not stop the others
            log.exception("outreach rule %s failed; the others go on", rule.name)
            report.failed_rules.append(rule.name)
    report.outcomes = store.deliver(
        found, decide=consent.refusal, render=texts.render, measure=texts.measure, now=when,
        dry_run=dry_run)
    if not dry_run:
        store.finish_announcements(when)
    report.seconds = time.perf_counter() - started
    if report.sent:
        log.info("outreach: %d messages queued", len(report.sent))
    return report
