"""Overblik through the real app, on a small world built with the real services, so every
figure on the page is known exactly: cards granted vs used, applications and processing
time, conversations per day, escalations and response time, and the bot's fallbacks."""

from __future__ import annotations

import datetime as dt
import html
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from decimal import Decimal

import pytest

from api.console.charts import SVG_NS
from ledger import CreateEmployment, IssueCard, RegisterEmployer, VerifyEmployer
from tests.api.console.conftest import MUNICIPALITY_A, MUNICIPALITY_B, ConsoleEnv, login
from tests.ledger.casework_support import World
from tests.ledger.support import ADMIN, fresh_cpr, valid_cvr, wage

UTC = dt.UTC
FALLBACK = "nlu_fallback"
SCRIPT = '<script>alert("x")</script> hvad betyder det'


def at(month: int, day: int, hour: int = 10, year: int = 2025) -> dt.datetime:
    return dt.datetime(year, month, day, hour, tzinfo=UTC)


@dataclass
class Known:
    env: ConsoleEnv
    world: World
    phones: dict[str, str]
    cpr_in_message: str


def _card(env: ConsoleEnv, cvr: str, name: str, code: str, phone: str, since: dt.date) -> str:
    number = env.ledger.issue_card(IssueCard(cpr=fresh_cpr(), name=name, municipality_code=code,
                                             valid_from=since, phone=phone), actor=ADMIN).number
    env.ledger.create_employment(CreateEmployment(employer_cvr=cvr, card_number=number,
                                                  start_date=since, weekly_hours=Decimal(5)),
                                 actor=ADMIN)
    return number


def build(env: ConsoleEnv) -> Known:
    """A: three cards (one from 2024), two used in 2025; B: two cards, one used in 2025.
    A's applications took 1, 2 and 6 days (one is still open); A's escalations waited 30
    and 90 minutes; A's conversations: 1 on 10.06, 2 on 12.06, 1 on 16.06 (today)."""
    ledger, clock = env.ledger, env.clock
    phones = {name: f"+452130{4000 + n}" for n, name in enumerate(["a1", "a2", "a3", "b1", "b2"])}
    cvr = valid_cvr(41)
    clock.now = at(3, 1, year=2024)
    ledger.register_employer(RegisterEmployer(cvr=cvr, name="Café Overblik"), actor=ADMIN)
    ledger.verify_employer(VerifyEmployer(cvr=cvr), actor=ADMIN)
    a1 = _card(env, cvr, "Aase Et", MUNICIPALITY_A, phones["a1"], dt.date(2024, 1, 1))
    _card(env, cvr, "Bent Et", MUNICIPALITY_B, phones["b1"], dt.date(2024, 1, 1))
    ledger.report_wage(wage(cvr, a1, 500_00, "a1-2024", post=True,
                            paid_on=dt.date(2024, 2, 15)), actor=ADMIN)

    clock.now = at(5, 20)
    a2 = _card(env, cvr, "Aase To", MUNICIPALITY_A, phones["a2"], dt.date(2025, 5, 1))
    a3 = _card(env, cvr, "Aase Tre", MUNICIPALITY_A, phones["a3"], dt.date(2025, 5, 1))
    b2 = _card(env, cvr, "Bent To", MUNICIPALITY_B, phones["b2"], dt.date(2025, 5, 1))
    for number, key in ((a1, "a1"), (a2, "a2"), (b2, "b2")):
        ledger.report_wage(wage(cvr, number, 300_00, key, post=True,
                                paid_on=dt.date(2025, 5, 19)), actor=ADMIN)
    # Reported but not posted: the card does not count as used.
    ledger.report_wage(wage(cvr, a3, 200_00, "a3-pending", paid_on=dt.date(2025, 5, 19)),
                       actor=ADMIN)

    world = World(url=env.url, ledger=ledger, clock=clock, cvr=cvr, jens=a1, mette=b2,
                  jens_cpr="")
    caseworker = env.users["caseworker_a"]
    applications = [world.apply("sms", f"+455162{7300 + n}", name=f"Ansøger {n}",
                                municipality=MUNICIPALITY_A) for n in range(4)]
    world.apply("sms", "+4551627399", name="Ansøger B", municipality=MUNICIPALITY_B)
    for application, days in zip(applications[:3], (1, 2, 6), strict=True):
        clock.now = at(5, 20) + dt.timedelta(days=days)
        ledger.casework.reject(caseworker, application, "Du opfylder ikke betingelserne.")

    clock.now = at(6, 10, 8)
    first = world.escalate("sms", phones["a1"])
    clock.now = at(6, 10, 8) + dt.timedelta(minutes=30)
    ledger.casework.take(caseworker, first)
    clock.now = at(6, 12, 8)
    second = world.escalate("sms", phones["a2"], urgent=True, reason="crisis:selvmord")
    world.say("sms", phones["a3"], "hvad med min bil?", intent=FALLBACK,
              replies=("Det forstod jeg ikke.",))
    world.say("sms", phones["a3"], "tak", intent="thanks")
    clock.now = at(6, 12, 8) + dt.timedelta(minutes=90)
    ledger.casework.take(caseworker, second)
    world.escalate("sms", phones["b1"])
    world.say("sms", phones["b1"], "Bents ukendte spørgsmål", intent=FALLBACK)

    cpr = fresh_cpr()
    clock.now = at(6, 16, 8)
    for text in ("Hvad  med min BIL?", f"mit cpr er {cpr[:6]}-{cpr[6:]}", SCRIPT):
        world.say("sms", phones["a3"], text, intent=FALLBACK, replies=("Det forstod jeg ikke.",))
    # The bot stayed silent (a person had the conversation): not a message to the bot.
    world.say("sms", phones["a3"], "stille besked", intent=FALLBACK, replies=())
    clock.now = at(6, 16, 12)
    return Known(env, world, phones, cpr)


@pytest.fixture
def known(console_env: ConsoleEnv) -> Known:
    return build(console_env)


def page_text(body: str) -> str:
    """The visible words, tags removed, whitespace collapsed (for sentences split by tags)."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())


def svg(body: str, chart_id: str) -> ET.Element:
    found = re.search(rf'<svg [^>]*aria-labelledby="{chart_id}-title.*?</svg>', body, re.S)
    assert found, f"no {chart_id} on the page"
    return ET.fromstring(found.group())


def bar_values(root: ET.Element, css: str) -> list[int]:
    return [int(r.get("data-value", "-1")) for r in root.iter(f"{{{SVG_NS}}}rect")
            if f"chart-bar-{css}" in r.get("class", "") and r.get("data-value") is not None]


def table_rows(body: str, caption: str) -> list[list[str]]:
    found = re.search(rf"<caption>{caption}</caption>(.*?)</table>", body, re.S)
    assert found, caption
    return [[page_text(c) for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
            for row in re.findall(r"<tr>(.*?)</tr>", found.group(1), re.S)][1:]


def test_a_caseworker_sees_exactly_their_municipality(known: Known) -> None:
    client = login(known.env.client, "caseworker_a")
    response = client.get("/console/overview")
    assert response.status_code == 200
    body, text = response.text, page_text(response.text)
    assert "Overblik 2025" in text and "Aarhus (751)" in text
    # The key figure: as a sentence, as a table and as a chart.
    assert "2 af 3 udstedte frikort er brugt i 2025 (67 %)" in text
    assert table_rows(body, "Udstedte og brugte frikort pr. år") == [
        ["2023", "0", "0", "–"], ["2024", "1", "1", "100 %"], ["2025", "3", "2", "67 %"]]
    usage = svg(body, "usage-chart")
    assert bar_values(usage, "granted") == [0, 1, 3]
    assert bar_values(usage, "used") == [0, 1, 2]
    notes = [t.text for t in usage.iter(f"{{{SVG_NS}}}text") if t.get("class") == "chart-note"]
    assert notes == ["100 % brugt", "67 % brugt"]
    # Applications: three rejected after 1, 2 and 6 days, one waiting.
    assert "Venter på afgørelse 1 Bevilget 0 Afvist 3" in text
    assert "Sagsbehandlingstid, median 2 dage" in text
    assert "Sagsbehandlingstid, gennemsnit 3 dage" in text
    # Escalations: two, one urgent, taken after 30 and 90 minutes.
    assert ("Sendt videre af botten 2 Heraf akutte (krise) 1 Taget af en medarbejder 2 "
            "Svartid, median 1 t.") in text
    # Conversations per day, the last 30 days: 1 on 10.06, 2 on 12.06, 1 today.
    days = bar_values(svg(body, "days-chart"), "conversations")
    assert len(days) == 30 and sum(days) == 4
    assert (days[-7], days[-5], days[-1]) == (1, 2, 1)
    assert "4 samtaler de seneste 30 dage" in text
    assert "16.06.2025 1" in text and "12.06.2025 2" in text and "11.06.2025 0" in text


def test_fallbacks_are_counted_escaped_and_never_show_a_cpr(known: Known) -> None:
    body = login(known.env.client, "caseworker_a").get("/console/overview").text
    text = page_text(body)
    assert "4 besked(er) de seneste 30 dage" in text
    rows = re.findall(r'<td class="message-text">(.*?)</td><td class="num">(\d+)</td>', body)
    shown = [(html.unescape(message), int(count)) for message, count in rows]
    assert shown == [(SCRIPT, 1), ("mit cpr er [CPR]", 1), ("Hvad med min BIL?", 2)]
    assert "&lt;script&gt;" in body and "<script>alert" not in body
    cpr = known.cpr_in_message
    assert cpr not in body and f"{cpr[:6]}-{cpr[6:]}" not in body
    assert "stille besked" not in body and "Bents" not in body


def test_the_consultant_sees_the_same_and_cannot_choose_another_municipality(
        known: Known) -> None:
    client = login(known.env.client, "consultant")
    response = client.get(f"/console/overview?municipality={MUNICIPALITY_B}")
    assert response.status_code == 200
    text = page_text(response.text)
    assert "2 af 3 udstedte frikort er brugt i 2025" in text
    assert 'name="municipality"' not in response.text


def test_caseworker_b_sees_only_b(known: Known) -> None:
    body = login(known.env.client, "caseworker_b").get("/console/overview").text
    text = page_text(body)
    assert "1 af 2 udstedte frikort er brugt i 2025 (50 %)" in text
    assert "Venter på afgørelse 1 Bevilget 0 Afvist 0" in text
    assert "Sendt videre af botten 1" in text
    assert "1 besked(er) de seneste 30 dage" in text and "Bents ukendte spørgsmål" in body
    assert "Hvad med min BIL?" not in body and "&lt;script&gt;" not in body


def test_the_admin_sees_all_or_chooses_one(known: Known) -> None:
    client = login(known.env.client, "admin")
    everyone = page_text(client.get("/console/overview").text)
    assert "Alle kommuner" in everyone
    assert "3 af 5 udstedte frikort er brugt i 2025 (60 %)" in everyone
    assert "Sendt videre af botten 3" in everyone
    chosen = client.get(f"/console/overview?municipality={MUNICIPALITY_B}&year=2025")
    assert chosen.status_code == 200
    assert "1 af 2 udstedte frikort er brugt i 2025" in page_text(chosen.text)
    assert f'<option value="{MUNICIPALITY_B}" selected>' in chosen.text
    earlier = page_text(client.get("/console/overview?year=2024").text)
    assert "Overblik 2024" in earlier
    assert "1 af 2 udstedte frikort er brugt i 2024 (50 %)" in earlier
    assert "Sendt videre af botten 0" in earlier


@pytest.mark.parametrize("query", ["year=abc", "year=1999", "year=20255", "year=2027",
                                   "year=%EF%BC%92%EF%BC%90%EF%BC%92%EF%BC%95",
                                   "municipality=999"])
def test_a_bad_choice_gets_a_danish_message_and_no_figures(
        console_env: ConsoleEnv, query: str) -> None:
    response = login(console_env.client, "admin").get(f"/console/overview?{query}")
    assert response.status_code == 422
    text = page_text(response.text)
    assert ("Året skal være et helt tal fra 2019 til 2026." in text
            or "Kommunen findes ikke. Vælg en kommune på listen." in text)
    assert "udstedte frikort er brugt" not in text and "<svg" not in response.text
