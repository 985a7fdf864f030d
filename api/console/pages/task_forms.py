"""Reading the small-job forms: a task posted on an employer's behalf, and a consent.

The ledger takes øre, Decimal hours, dates and whole numbers; turning what a person typed
("150", "2,5", "20.06.2025") into those is the page's job, with the card forms' own readers
(api/console/pages/card_forms.py), so kroner are read the same way everywhere. Anything the
page will not guess at is refused with a Danish message before the ledger is asked; the
ledger then checks the rules (a known postcode, a window not in the past, sane pay, 1 to 20
places, a verified employer) and refuses with its own message.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Literal

from api.console.pages import card_forms
from api.console.pages.card_forms import FormError
from api.console.texts import texts
from smalljobs.commands import PostTask
from smalljobs.records import Audience
from staff.redaction import redact_cpr

SECTION = "task_pages"
"""The words of Opgaver and Telefonliste in api/data/console.yml."""
POST_FIELDS = ("cvr", "title", "description", "place", "postcode", "window_start",
               "window_end", "hours", "pay_per_hour", "places", "audience")
"""The fields of the form that posts a task (kept and shown again after a refusal)."""
_POSTCODE = re.compile(r"[0-9]{4}")
_WHOLE = re.compile(r"[0-9]{1,3}")


class TaskFormError(FormError):
    """Like the card forms' FormError, with the message from the task pages' words."""

    @property
    def message(self) -> str:
        return str(texts()[SECTION]["form_errors"][self.key])


def _date(text: str) -> dt.date:
    try:
        return card_forms.payment_date(text)
    except FormError as exc:
        raise TaskFormError("window_unclear") from exc


def post_task(values: Mapping[str, str]) -> PostTask:
    """The command for the form's values; FormError (with a Danish message) if unreadable.

    An empty end date means a one-day window (the start date)."""
    title = " ".join(values.get("title", "").split())
    if not title:
        raise TaskFormError("title_missing")
    postcode = values.get("postcode", "").strip()
    if not _POSTCODE.fullmatch(postcode):
        raise TaskFormError("postcode_unclear")
    start = _date(values.get("window_start", ""))
    end_text = values.get("window_end", "").strip()
    end = _date(end_text) if end_text else start
    places = values.get("places", "").strip() or "1"
    if not _WHOLE.fullmatch(places):
        raise TaskFormError("places_unclear")
    audience: Audience
    match values.get("audience", "open"):
        case "open":
            audience = "open"
        case "own_list":
            audience = "own_list"
        case _:
            raise TaskFormError("audience")
    return PostTask(
        employer_cvr=card_forms.cvr(values.get("cvr", "")), title=title, postcode=postcode,
        window_start=start, window_end=end,
        expected_hours=card_forms.hours(values.get("hours", "")),
        pay_per_hour_ore=card_forms.kroner_to_ore(values.get("pay_per_hour", "")),
        places=int(places), audience=audience,
        description=redact_cpr(values.get("description", "").strip()),
        place=redact_cpr(" ".join(values.get("place", "").split())))


def consent_note(kind: Literal["phone_list", "sign_up"], ticked: str, note: str) -> str:
    """What is recorded as the holder's consent: the sentence the helper ticked, then their
    own words (how and when), CPR numbers taken out. Refused when the box is not ticked."""
    if ticked != "ja":
        raise TaskFormError("consent_missing")
    own = redact_cpr(" ".join(note.split()))
    return f"{texts()[SECTION]['consent'][kind]} {own}".strip()
