"""How small jobs are written in the bot's replies: numbered lines within the SMS budget.

Days, hours and money are written the way the ledger's own task messages write them
(`ledger.tasks.texts`), so a task reads the same in a list, a read-back and a notification.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import cast

from bot.texts import template, text
from danish.wording import gsm7_safe, hours_text, segments, tidy
from smalljobs import texts as task_texts
from smalljobs.records import TaskView

MAX_SEGMENTS = 2
TITLE_CHARS = 30
"""A long title is cut in a list (the whole title is in the messages after taking it)."""
REPLY_TITLE_CHARS = 60
"""And in other replies: a task posted in the console may have a title of 200 characters."""


@dataclass(frozen=True)
class _Window:
    window_start: dt.date
    window_end: dt.date


def window(start: dt.date, end: dt.date) -> str:
    """The days of a task not posted yet, written exactly as the ledger writes a posted one:
    `ledger.tasks.texts.when` reads only the two window fields, so it is given just those."""
    return task_texts.when(cast(TaskView, _Window(start, end)))


def money(ore: int) -> str:
    return task_texts.money(ore)


def hours(value: Decimal) -> str:
    """"1 time", "2,5 timer": the bot's own wording of hours (as in a wage report)."""
    return hours_text(value, template("hours_one"), template("hours_many"))


def short_title(title: str, limit: int = TITLE_CHARS) -> str:
    return title if len(title) <= limit else title[:limit - 3].rstrip() + "..."


def reply_title(title: str) -> str:
    return short_title(title, REPLY_TITLE_CHARS)


def task_line(number: int, task: TaskView, key: str = "jobs.line") -> str:
    return text(key, n=number, title=short_title(task.title), postcode=task.postcode,
                town=task.town, when=task_texts.when(task), hours=hours(task.expected_hours),
                hours_short=task_texts.hours(task.expected_hours),
                pay=money(task.pay_per_hour_ore))


def listing(tasks: list[TaskView]) -> tuple[str, list[TaskView]]:
    """The numbered list and the tasks in it, within two SMS: the full lines if they fit,
    else shorter ones (no town), else fewer tasks (never none)."""
    shown = list(tasks)
    while True:
        for key in ("jobs.line", "jobs.line_short"):
            lines = [task_line(n, task, key) for n, task in enumerate(shown, start=1)]
            body = " ".join([text("jobs.list_head"), *lines, text(f"jobs.choose_{len(shown)}")])
            if segments(tidy(gsm7_safe(body))) <= MAX_SEGMENTS:
                return body, shown
        if len(shown) == 1:
            return body, shown
        shown.pop()
