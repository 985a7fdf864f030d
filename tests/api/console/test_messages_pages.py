"""Beskeder through the real app: a caseworker previews an announcement (recipients,
segments, cost), sends it; the outreach sweep delivers it at the allowed hours to the
municipality's own card holders only; the page lists it with delivery counts. Overblik shows
per rule what was sent and what followed."""

from __future__ import annotations

import datetime as dt
import html
import re

from ledger import IssueCard
from outreach.sweep import run_sweep
from tests.api.console.conftest import ConsoleEnv, login, post_form
from tests.ledger.support import ADMIN, dump_tables, fresh_cpr

TEXT = "Kom til infomøde om frikort på biblioteket tirsdag kl. 14. Der er kaffe."


def _holders(env: ConsoleEnv) -> dict[str, str]:
    numbers = {}
    for name, code, phone in (("Aase Aarhus", "751", "+4540123001"),
                              ("Anders Aarhus", "751", "+4540123002"),
                              ("Bent København", "101", "+4540123003")):
        numbers[phone] = env.ledger.issue_card(IssueCard(
            cpr=fresh_cpr(), name=name, municipality_code=code, valid_from=dt.date(2025, 1, 1),
            phone=phone), actor=ADMIN).number
    return numbers


def _text(body: str, testid: str) -> str:
    found = re.search(rf'data-testid="{testid}"[^>]*>(.*?)<', body, re.S)
    assert found, testid
    return html.unescape(found.group(1)).strip()


def test_preview_send_and_deliver_to_the_own_municipality(sqlite_console_env: ConsoleEnv
                                                          ) -> None:
    env = sqlite_console_env
    _holders(env)
    client = login(env.new_client(), "caseworker_a")
    before = dump_tables(env.url)
    preview = post_form(client, "/console/messages", {"text": TEXT, "modtagere": "active",
                                                      "step": "preview"})
    assert preview.status_code == 200
    assert dump_tables(env.url) == before  # a preview changes nothing
    assert _text(preview.text, "preview-recipients") == "2"  # Aarhus only
    assert _text(preview.text, "preview-segments") == "1"
    assert _text(preview.text, "preview-cost") == "0,90 kr."  # 2 x 1 x 45 øre
    sent = post_form(client, "/console/messages", {"text": TEXT, "modtagere": "active",
                                                   "municipality_code": "101", "step": "send"})
    assert sent.status_code == 303
    outcomes = run_sweep(env.ledger.outreach).sent  # the world's clock: 14:00 Danish time
    assert sorted(o.recipient or "" for o in outcomes) == ["+4540123001", "+4540123002"]
    assert {o.text for o in outcomes} == {TEXT}
    page = client.get("/console/messages")
    assert page.status_code == 200 and TEXT in html.unescape(page.text)
    row = re.search(r'data-testid="announcements".*?<tbody>(.*?)</tbody>', page.text, re.S)
    assert row and "Sendt" in row.group(1)
    assert run_sweep(env.ledger.outreach).sent == []  # once
    overview = client.get("/console/overview")
    assert "Beskeder fra kommunen" in overview.text


def test_refusals_and_who_may_use_it(sqlite_console_env: ConsoleEnv) -> None:
    env = sqlite_console_env
    client = login(env.new_client(), "caseworker_a")
    before = dump_tables(env.url)
    empty = post_form(client, "/console/messages", {"text": "  ", "step": "send"})
    assert empty.status_code == 422 and "Skriv beskeden" in empty.text
    cpr = post_form(client, "/console/messages", {"text": "Ring om 010180-1234", "step": "send"})
    assert cpr.status_code == 422 and "010180-1234" not in cpr.text
    long = post_form(client, "/console/messages", {"text": "ord " * 300, "step": "send"})
    assert long.status_code == 422 and "for lang" in long.text
    assert dump_tables(env.url) == before
    consultant = login(env.new_client(), "consultant")
    assert consultant.get("/console/messages").status_code == 403
