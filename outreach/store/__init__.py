"""Outreach storage, reached as `ledger.outreach`: the rules' rows, who each rule would write
to, and sending one message with its key, its consent check and its audit record.

The rules' texts and the consent policy are not here: `outreach/` (the top-level package)
passes them in, so the policy is written once and the ledger stays free of wording.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence

from sqlalchemy import select

from db.kernel import Kernel
from db.outreach_tables import OutreachRule
from db.unit_of_work import UnitOfWork
from outreach.store import board
from outreach.store import candidates as queries
from outreach.store.delivery import Decide, Measure, Render, deliver_one
from outreach.store.records import Candidate, Outcome, RuleParams
from smalljobs.timing import local_date

log = logging.getLogger(__name__)
BATCH = 50
"""Candidates per transaction: few enough that a worker holds its locks briefly, many enough
that a national new-year message is not 15.000 commits."""


def _params(row: OutreachRule) -> RuleParams:
    return RuleParams(name=row.name, text_id=row.text_id, who=row.who, timing=row.timing,
                      delay_hours=row.delay_hours, every_days=row.every_days,
                      enabled=row.enabled)


class OutreachStore:
    def __init__(self, kernel: Kernel) -> None:
        self._kernel = kernel

    def now(self) -> dt.datetime:
        """The kernel's clock (a fixed one in tests and benchmarks)."""
        return self._kernel.run_read(lambda uow: uow.now)

    def sync_rules(self, defaults: Sequence[RuleParams]) -> list[RuleParams]:
        """Adds the rules the database does not have yet (an operator's changes to the ones
        it has are kept); returns every rule as stored, in the order given."""
        def sync(uow: UnitOfWork) -> list[RuleParams]:
            stored = {r.name: r for r in uow.session.scalars(select(OutreachRule))}
            added = False
            for rule in defaults:
                if rule.name not in stored:
                    row = OutreachRule(name=rule.name, text_id=rule.text_id, who=rule.who,
                                       timing=rule.timing, delay_hours=rule.delay_hours,
                                       every_days=rule.every_days, enabled=rule.enabled,
                                       updated_at=uow.now)
                    uow.session.add(row)
                    stored[rule.name] = row
                    added = True
            result = [_params(stored[rule.name]) for rule in defaults]
            if added:
                uow.session.flush()
                uow.commit()
            return result
        return self._kernel.run_write(sync)

    def stored_rules(self, defaults: Sequence[RuleParams]) -> list[RuleParams]:
        """Like `sync_rules`, without writing: a missing rule keeps its default values."""
        def read(uow: UnitOfWork) -> list[RuleParams]:
            stored = {r.name: _params(r) for r in uow.session.scalars(select(OutreachRule))}
            return [stored.get(rule.name, rule) for rule in defaults]
        return self._kernel.run_read(read)

    def finish_announcements(self, now: dt.datetime) -> int:
        """Marks done the scheduled announcements every recipient of which is handled."""
        def finish(uow: UnitOfWork) -> int:
            done = board.finish(uow.session, now)
            if done:
                uow.commit()
            return done
        return self._kernel.run_write(finish)

    # The console ---------------------------------------------------------------------

    def announce(self, *, municipality_code: str, audience: str, text: str,
                 created_by: str) -> int:
        """Schedules an announcement; the sweep sends it at the allowed hours."""
        from db.commands import Actor

        def create(uow: UnitOfWork) -> int:
            item = board.create(uow.session, municipality_code=municipality_code,
                                audience=audience, text=text, created_by=created_by,
                                now=uow.now)
            uow.audit(Actor(name=created_by, channel="console"), "outreach.announce",
                      "announcement", item.id, municipality=municipality_code,
                      audience=audience, characters=len(text))
            uow.commit()
            return item.id
        return self._kernel.run_write(create)

    def recipients(self, municipality_code: str, audience: str) -> int:
        return self._kernel.run_read(
            lambda uow: board.recipients(uow.session, municipality_code, audience))

    def announcements(self, municipality_code: str | None) -> list[board.AnnouncementView]:
        return self._kernel.run_read(lambda uow: board.listing(uow.session, municipality_code))

    def effects(self, municipality_code: str | None, days: int = 90) -> list[board.RuleEffect]:
        """Per rule over the last `days`: sent, skipped, and what followed within 7 days."""
        return self._kernel.run_read(lambda uow: board.effects(
            uow.session, municipality_code, uow.now - dt.timedelta(days=days)))

    def set_enabled(self, name: str, enabled: bool, actor_name: str) -> bool:
        """Switches a rule on or off; False when there is no such rule."""
        from db.commands import Actor

        def change(uow: UnitOfWork) -> bool:
            row = uow.session.get(OutreachRule, name, with_for_update=True)
            if row is None:
                return False
            row.enabled, row.updated_at = enabled, uow.now
            uow.audit(Actor(name=actor_name, channel="cli"), "outreach.rule", "outreach_rule",
                      name, enabled=enabled)
            uow.commit()
            return True
        return self._kernel.run_write(change)

    def candidates(self, rule: RuleParams, now: dt.datetime) -> list[Candidate]:
        """Whom `rule` would write to as of `now` (a rule without a query: nobody)."""
        select_for = queries.SELECTORS.get(rule.name)
        if select_for is None or not rule.enabled:
            return []
        return self._kernel.run_read(
            lambda uow: select_for(uow.session, rule, now, local_date(now)))

    def deliver(self, found: Sequence[Candidate], *, decide: Decide, render: Render,
                measure: Measure, now: dt.datetime, dry_run: bool = False) -> list[Outcome]:
        """Sends what the policy allows, in batches; a candidate that fails is logged and left
        for the next sweep, the others go on. A dry run does it all in one transaction and
        rolls it back: the same answers, nothing kept, nothing sent."""
        outcomes: list[Outcome] = []

        def batch(items: Sequence[Candidate]) -> list[Outcome]:
            def run(uow: UnitOfWork) -> list[Outcome]:
                done = []
                for candidate in items:
                    try:
                        with uow.nested() as step:
                            done.append(deliver_one(step, candidate, decide=decide,
                                                    render=render, measure=measure, now=now))
                            step.commit()
                    except Exception:  # one person's failure must not stop the others
                        log.exception("outreach %s to %s failed; tried again next sweep",
                                      candidate.rule, candidate.person_key)
                if not dry_run:
                    uow.commit()
                return done
            return self._kernel.run_write(run)

        if dry_run:
            return batch(found)
        for start in range(0, len(found), BATCH):
            outcomes += batch(found[start:start + BATCH])
        return outcomes
