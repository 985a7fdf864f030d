"""Small jobs in scenarios (issue 6): setup actions, the periodic jobs as turns, and checks.

Mixed into `tests.bot.test_scenarios.Runner`. In a scenario::

    setup:
      - post_task: {employer: "31425360", title: "Male hegn", postcode: "8000",
                    starts_in_days: 1, days: 1, hours: "3", pay_per_hour: "150.00",
                    places: 1, audience: own_list}
      - add_known_person: {employer: "31425360", card: "48213"}
    turns:
      - {from: jens, say: "JOB"}
      - {from: cafe, say: "JA {assignment}"}   # the newest assignment's number; {task} too
      - run: send_hour_prompts               # or send_due_digests, expire_tasks
        count: 1                             # optional: what the job returned
      - advance: {days: 2}
      - ledger:
          tasks: {title: "Male hegn", status: open, places_taken: 0}   # count: 0 for none
          assignments: {card: "48213", status: [confirmed], count: 1}

`{assignment}` and `{task}` in `say` and `expect` are the ids of the newest assignment and
task, so a scenario does not depend on how many tasks the demo data holds.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from danish.money import parse_kroner
from db.commands import Actor
from smalljobs.commands import PostTask

SETUP_ACTOR = Actor(name="scenario-setup", channel="system")
JOBS = ("send_hour_prompts", "send_due_digests", "expire_tasks")


class TaskSteps:
    """Needs `self.chat`, `self.engine` and `self.tables` from the runner."""

    chat: Any
    engine: sa.Engine
    tables: Any

    def expand(self, text: str) -> str:
        if "{" not in text:
            return text
        with self.engine.connect() as conn:
            newest = {name: conn.scalar(sa.select(sa.func.max(self.tables[table].c.id)))
                      for name, table in (("task", "tasks"),
                                          ("assignment", "task_assignments"))}
        return text.replace("{task}", str(newest["task"])).replace(
            "{assignment}", str(newest["assignment"]))

    def setup_task_action(self, kind: str, args: dict[str, Any]) -> bool:
        """True when `kind` is one of the small-jobs setup actions (and it was done)."""
        tasks = self.chat.ledger.tasks
        if kind == "post_task":
            start = self.chat.clock.now.date() + dt.timedelta(days=int(args.get("starts_in_days",
                                                                                 1)))
            tasks.post_task(PostTask(
                employer_cvr=str(args["employer"]), title=args["title"],
                postcode=str(args["postcode"]), window_start=start,
                window_end=start + dt.timedelta(days=int(args.get("days", 1)) - 1),
                expected_hours=Decimal(str(args.get("hours", "3"))),
                pay_per_hour_ore=parse_kroner(str(args.get("pay_per_hour", "150.00"))),
                places=int(args.get("places", 1)), audience=args.get("audience", "open"),
                place=args.get("place", "")), SETUP_ACTOR)
        elif kind == "add_known_person":
            tasks.add_known_person(str(args["employer"]), str(args["card"]), SETUP_ACTOR)
        elif kind == "subscribe_digest":
            tasks.subscribe_digest(str(args["card"]), str(args["postcode"]),
                                   args.get("frequency", "daily"), SETUP_ACTOR)
        else:
            return False
        return True

    def run_job(self, step: dict[str, Any], where: str) -> None:
        name = step["run"]
        assert name in JOBS, f"{where}: unknown job {name!r}"
        result = getattr(self.chat.ledger.tasks, name)(self.chat.clock.now)
        if "count" in step:
            assert result == step["count"], f"{where}: {name} returned {result}"

    def check_tasks(self, spec: dict[str, Any], where: str) -> None:
        table = self.tables["tasks"]
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(table).where(table.c.title == spec["title"])
                                ).mappings().all()
        wanted = int(spec.get("count", 1))
        assert len(rows) == wanted, f"{where}: {len(rows)} tasks titled {spec['title']!r}"
        if not rows:
            return
        for key in ("status", "places_taken", "audience", "postcode", "places"):
            if key in spec:
                assert rows[0][key] == spec[key], f"{where}: task {dict(rows[0])}"
        if "pay_per_hour" in spec:
            assert rows[0]["pay_per_hour_ore"] == parse_kroner(str(spec["pay_per_hour"])), where
        if "hours" in spec:
            assert Decimal(rows[0]["expected_hours_centi"]) / 100 == Decimal(str(spec["hours"]))

    def check_assignments(self, spec: dict[str, Any], where: str) -> None:
        assignments, cards = self.tables["task_assignments"], self.tables["cards"]
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(assignments).join(cards, cards.c.id == assignments.c.card_id)
                .where(cards.c.number == str(spec["card"])).order_by(assignments.c.id)
            ).mappings().all()
        statuses = [row["status"] for row in rows]
        if "count" in spec:
            assert len(rows) == spec["count"], f"{where}: assignments {statuses}"
        if "status" in spec:
            wanted = spec["status"] if isinstance(spec["status"], list) else [spec["status"]]
            assert statuses == wanted, f"{where}: assignment statuses {statuses}"
        if "wage_report" in spec:
            assert rows and (rows[-1]["wage_report_id"] is not None) is spec["wage_report"], \
                f"{where}: {dict(rows[-1]) if rows else None}"
