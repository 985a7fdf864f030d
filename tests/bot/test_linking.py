"""The grant letter's link code, issued with the card, links a phone by SMS."""

from __future__ import annotations

import datetime as dt

from db.commands import Actor
from ledger import IssueCard
from tests.bot.conftest import Chat

CASEWORKER = Actor(name="caseworker:test", channel="console")


def issue(chat: Chat) -> tuple[str, str]:
    card = chat.ledger.issue_card(IssueCard(
        cpr="0101904321", name="Karen Nielsen", municipality_code="461",
        valid_from=dt.date(2026, 11, 1)), actor=CASEWORKER)
    assert card.link_code is not None and len(card.link_code) == 4 and card.link_code.isdigit()
    return card.number, card.link_code


def test_the_issued_code_links_the_sender_and_unlocks_the_balance(chat: Chat) -> None:
    number, code = issue(chat)
    phone = "+4526262626"
    assert "LINK" in chat.say(phone, "saldo")  # not linked yet: no figures
    assert f"knyttet til frikort {number}" in chat.say(phone, f"LINK {number} {code}")
    assert f"Frikort {number}" in chat.say(phone, "saldo")


def test_a_wrong_code_is_refused_and_counts_down(chat: Chat) -> None:
    number, code = issue(chat)
    wrong = f"{(int(code) + 1) % 10_000:04d}"
    reply = chat.say("+4527272727", f"LINK {number} {wrong}")
    assert "passer ikke" in reply and "4 forsøg" in reply
    assert "LINK" in chat.say("+4527272727", "saldo")


def test_the_code_is_not_stored_in_clear(chat: Chat) -> None:
    import sqlite3

    _, code = issue(chat)
    path = chat.url.removeprefix("sqlite:///")
    rows = sqlite3.connect(path).execute("SELECT code_hash FROM link_codes").fetchall()
    assert rows
    assert all(len(row[0]) == 64 and row[0] != code for row in rows)  # an HMAC, not the code
