"""Messages the assistant writes first (issue 16): reminders, nudges, status and announcements.

    rules.py     the rule catalogue (outreach/data/rules.da.yml): who, when, text, how often
    texts.py     a candidate's text, filled in, GSM-7
    consent.py   the one place that decides whether a person may be written to
    sweep.py     one sweep: every rule's candidates, through consent, into the outbox

Storage (rules' rows, keys, pauses, announcements) is `outreach/store/`; delivery is the
outbox's (`conversations`). Nothing here knows the dialogue or the api.
"""
