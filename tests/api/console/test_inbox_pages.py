"""Indbakke through the real app: citizens write to the real bot (the Dialogue with the trained
parser, on the app's ledger), and a caseworker handles the escalation in the console.

Checked on the ledger afterwards, not only on status codes: who owns the conversation, what
is in the outbox (channel, recipient, text), what the transcript holds, whether the bot
answers again. Also: scope by municipality (404), CSRF, anonymous users, escaping, polling.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from dataclasses import dataclass

import httpx
import pytest
from fastapi.testclient import TestClient

from bot import Dialogue, InboundMessage
from db.commands import Actor
from ledger import IssueCard
from nlu import Parser
from tests.api.console.conftest import ConsoleEnv, csrf_token, login, post_form
from tests.ledger.support import fresh_cpr

JENS_PHONE, JENS_TELEGRAM = "+4520304050", "7770001"
"""Card holder in Aarhus (751), phone and Telegram linked."""
LIS_PHONE = "+4522334455"
"""Card holder in Aarhus."""
METTE_PHONE = "+4521436587"
"""Card holder in København (101)."""
FETCH = {"X-Requested-With": "console"}
SEEDER = Actor(name="test-seed", channel="api")
_ids = itertools.count(1)


@dataclass
class Town:
    """The console app plus people who write to its bot."""

    env: ConsoleEnv
    dialogue: Dialogue
    cprs: list[str]

    def say(self, sender: str, text: str, channel: str = "sms") -> list[str]:
        """One message through the real dialogue, as the webhooks pass it on."""
        replies = self.dialogue.handle(InboundMessage(
            channel=channel, sender=sender, text=text,  # type: ignore[arg-type]  # callers pass a channel InboundMessage knows
            provider_message_id=f"test-{next(_ids)}", received_at=self.env.clock.now))
        return [reply.text for reply in replies]

    def ask_for_person(self, sender: str, channel: str = "sms") -> int:
        """"MENNESKE": the bot escalates at once; returns the escalation id."""
        assert any("medarbejder om at skrive" in r for r in self.say(sender, "MENNESKE", channel))
        return self.escalation_of(sender)

    def escalation_of(self, sender: str) -> int:
        [found] = [e.id for e in self.env.ledger.conversations.open_escalations()
                   if e.address == sender]
        return found

    def outbox(self, recipient: str) -> list[tuple[str, str, str]]:
        """(text, status, channel), newest first."""
        return self.env.ledger.conversations.recent_outbox(recipient, limit=50)


def issue(env: ConsoleEnv, name: str, municipality: str, phone: str,
          telegram: str | None = None) -> tuple[str, str]:
    cpr = fresh_cpr()
    card = env.ledger.issue_card(IssueCard(
        cpr=cpr, name=name, municipality_code=municipality, valid_from=dt.date(2025, 1, 1),
        phone=phone, telegram_id=telegram), actor=SEEDER)
    return card.number, cpr


def make_town(env: ConsoleEnv, parser: Parser) -> Town:
    cprs = [issue(env, "Jens Hansen", "751", JENS_PHONE, JENS_TELEGRAM)[1],
            issue(env, "Lis Holm", "751", LIS_PHONE)[1],
            issue(env, "Mette Larsen", "101", METTE_PHONE)[1]]
    dialogue = Dialogue(env.ledger.conversations, parser, config=env.app.state.settings.bot)
    return Town(env=env, dialogue=dialogue, cprs=cprs)


@pytest.fixture
def town(console_env: ConsoleEnv, channel_parser: Parser) -> Town:
    return make_town(console_env, channel_parser)


@pytest.fixture
def small_town(sqlite_console_env: ConsoleEnv, channel_parser: Parser) -> Town:
    """SQLite only: for refusals, where the database makes no difference."""
    return make_town(sqlite_console_env, channel_parser)


def user(town: Town, username: str) -> TestClient:
    return login(town.env.new_client(), username)


def ids_in_order(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'href="/console/inbox/(\d+)"', html)]


def follow(client: TestClient, response: httpx.Response) -> str:
    """The page a 303 leads to."""
    assert response.status_code == 303, response.text[:300]
    page = client.get(response.headers["location"])
    assert page.status_code == 200
    return page.text


# The list --------------------------------------------------------------------------------


def test_inbox_lists_urgent_first_then_oldest_with_waiting_time_and_scope(town: Town) -> None:
    calm = town.ask_for_person(JENS_PHONE)
    town.env.clock.advance(minutes=30)
    crisis = town.say(LIS_PHONE, "jeg vil ikke leve mere")
    assert any("112" in r for r in crisis)
    urgent = town.escalation_of(LIS_PHONE)
    town.env.clock.advance(hours=2, minutes=5)

    page = user(town, "caseworker_a").get("/console/inbox")

    assert page.status_code == 200
    assert ids_in_order(page.text) == [urgent, calm]
    rows = re.findall(r"<tr(?: class=\"urgent\")?>.*?</tr>", page.text, re.S)
    assert 'class="urgent"' in rows[1] and "Akut" in rows[1]  # rows[0] is the header
    assert "Lis Holm" in rows[1] and "jeg vil ikke leve mere" in rows[1]
    assert "venter 2 t. 5 min." in rows[1] and "Krise: selvmordstanker" in rows[1]
    assert "Jens Hansen" in rows[2] and "venter 2 t. 35 min." in rows[2]
    assert "SMS" in rows[2] and "»MENNESKE«" in rows[2] and "Ingen endnu" in rows[2]
    assert 'class="urgent"' not in rows[2]
    # København's caseworker sees neither; the administrator sees both, with the municipality.
    assert ids_in_order(user(town, "caseworker_b").get("/console/inbox").text) == []
    admin = user(town, "admin").get("/console/inbox").text
    assert ids_in_order(admin) == [urgent, calm] and "Aarhus (751)" in admin
    # The employer consultant of Aarhus handles Aarhus's conversations too.
    assert ids_in_order(user(town, "consultant").get("/console/inbox").text) == [urgent, calm]


def test_inbox_rows_endpoint_is_the_same_list_for_the_poller(town: Town) -> None:
    client = user(town, "caseworker_a")
    empty = client.get("/console/inbox/rows", headers=FETCH).json()
    assert empty["count"] == 0 and "Ingen venter" in empty["html"]

    eid = town.ask_for_person(JENS_PHONE)
    data = client.get("/console/inbox/rows", headers=FETCH).json()

    assert data["count"] == 1 and ids_in_order(data["html"]) == [eid]
    assert "Jens Hansen" in data["html"]
    assert client.get("/console/inbox/rows", headers=FETCH).headers["cache-control"] == "no-store"


# One conversation ------------------------------------------------------------------------


def test_detail_shows_merged_redacted_transcript_and_owner(town: Town) -> None:
    cpr = town.cprs[0]
    town.say(JENS_TELEGRAM, "hej fra telegram", channel="telegram")
    town.env.clock.advance(minutes=1)
    town.say(JENS_PHONE, f"mit cpr er {cpr[:6]}-{cpr[6:]} hvad nu")
    eid = town.ask_for_person(JENS_PHONE)

    page = user(town, "caseworker_a").get(f"/console/inbox/{eid}")

    assert page.status_code == 200
    text = page.text
    assert "hej fra telegram" in text and "Telegram" in text and "SMS" in text
    assert "mit cpr er [CPR] hvad nu" in text
    assert cpr not in text and f"{cpr[:6]}-{cpr[6:]}" not in text
    assert "+45 xx xx xx 50" in text and JENS_PHONE not in text
    assert "Bad om at tale med et menneske" in text and "Ingen endnu" in text
    assert text.index("hej fra telegram") < text.index("mit cpr er")  # by time
    assert 'data-after="' in text and "Tag samtalen" in text


def test_take_then_reply_goes_out_on_the_same_channel_with_delivery_status(town: Town) -> None:
    eid = town.ask_for_person(JENS_PHONE)
    client = user(town, "caseworker_a")

    taken = post_form(client, f"/console/inbox/{eid}/take")
    page = follow(client, taken)
    assert taken.headers["location"] == f"/console/inbox/{eid}?besked=taken"
    assert "Du har taget samtalen" in page and "Overtag" not in page
    assert town.env.ledger.conversations.escalation(eid).owner == "console:caseworker_a"
    assert town.say(JENS_PHONE, "hallo?") == []  # a person owns it: the bot is quiet

    before = len(town.outbox(JENS_PHONE))
    reply = "Hej Jens. Jeg ringer til dig i morgen kl. 10."
    sent = post_form(client, f"/console/inbox/{eid}/reply", {"text": reply})
    page = follow(client, sent)

    outbox = town.outbox(JENS_PHONE)
    assert len(outbox) == before + 1 and outbox[0] == (reply, "pending", "sms")
    assert "Svaret er sat i kø" in page
    bubble = re.search(r'<div class="bubble bubble-out"[^>]*>(?:(?!</div>).)*'
                       + re.escape(reply) + r".*?</div>", page, re.S)
    assert bubble and "Anna Aarhus (medarbejder)" in bubble.group() and ">venter<" in bubble.group()

    [outbox_id] = [m.id for m in town.env.ledger.conversations.outbox_messages("pending")
                   if m.text == reply]
    town.env.ledger.conversations.mark_sent(outbox_id, "SM-test-1")
    assert ">sendt<" in client.get(f"/console/inbox/{eid}").text
    failed = post_form(client, f"/console/inbox/{eid}/reply", {"text": "Er du der?"})
    assert failed.status_code == 303
    [second] = [m.id for m in town.env.ledger.conversations.outbox_messages("pending")
                if m.text == "Er du der?"]
    town.env.ledger.conversations.mark_failed(second, "blocked", transient=False)
    assert ">fejlet<" in client.get(f"/console/inbox/{eid}").text


def test_reply_to_a_telegram_conversation_goes_out_over_telegram(town: Town) -> None:
    eid = town.ask_for_person(JENS_TELEGRAM, channel="telegram")
    client = user(town, "caseworker_a")

    response = post_form(client, f"/console/inbox/{eid}/reply", {"text": "Hej fra Anna"})

    assert response.status_code == 303
    assert town.outbox(JENS_TELEGRAM)[0] == ("Hej fra Anna", "pending", "telegram")
    # Replying to a waiting conversation takes it, so the bot does not talk over the person.
    assert town.env.ledger.conversations.escalation(eid).owner == "console:caseworker_a"


def test_empty_or_cpr_reply_is_refused_with_a_clear_message_and_nothing_sent(
    town: Town,
) -> None:
    eid = town.ask_for_person(JENS_PHONE)
    client = user(town, "caseworker_a")
    before = town.outbox(JENS_PHONE)

    empty = post_form(client, f"/console/inbox/{eid}/reply", {"text": "   "})
    cpr = town.cprs[1]
    with_cpr = post_form(client, f"/console/inbox/{eid}/reply",
                         {"text": f"Er dit nummer {cpr}?"})

    assert empty.status_code == 422 and "Skriv en tekst først." in empty.text
    assert with_cpr.status_code == 422 and "Skriv ikke CPR-numre" in with_cpr.text
    assert cpr not in with_cpr.text and "Er dit nummer [CPR]?" in with_cpr.text  # kept, redacted
    assert town.outbox(JENS_PHONE) == before
    assert town.env.ledger.conversations.escalation(eid).status == "waiting"


def test_note_is_internal_shown_apart_and_never_sent(town: Town) -> None:
    eid = town.ask_for_person(JENS_PHONE)
    client = user(town, "consultant")
    before = town.outbox(JENS_PHONE)
    conversation = town.env.ledger.conversations.escalation(eid).conversation_id

    page = follow(client, post_form(client, f"/console/inbox/{eid}/note",
                                    {"text": "Ringede, ingen svarede."}))

    assert "Noten er gemt" in page
    note = re.search(r'<div class="bubble bubble-note">.*?</div>', page, re.S)
    assert note and "Ringede, ingen svarede." in note.group()
    assert "Intern note" in note.group() and "Carl Konsulent" in note.group()
    assert town.outbox(JENS_PHONE) == before
    transcript = town.env.ledger.conversations.transcript(conversation)
    assert all("Ringede" not in line.text for line in transcript)
    blank = post_form(client, f"/console/inbox/{eid}/note", {"text": ""})
    assert blank.status_code == 422 and "Skriv en tekst først." in blank.text


def test_hand_back_gives_the_conversation_to_the_bot_and_resolve_closes(town: Town) -> None:
    jens = town.ask_for_person(JENS_PHONE)
    lis = town.ask_for_person(LIS_PHONE)
    client = user(town, "caseworker_a")
    post_form(client, f"/console/inbox/{jens}/take")

    handed = post_form(client, f"/console/inbox/{jens}/hand-back")
    listing = follow(client, handed)

    assert handed.headers["location"] == "/console/inbox?besked=handed_back"
    assert "givet tilbage til botten" in listing and ids_in_order(listing) == [lis]
    assert town.env.ledger.casework.escalation(town.env.users["admin"], jens).outcome \
        == "handed_back"
    assert town.say(JENS_PHONE, "saldo") != []  # the bot answers again

    resolved = post_form(client, f"/console/inbox/{lis}/resolve")
    assert "Samtalen er afsluttet" in follow(client, resolved)
    assert town.env.ledger.casework.escalation(town.env.users["admin"], lis).outcome \
        == "resolved"
    again = post_form(client, f"/console/inbox/{lis}/resolve")
    assert again.status_code == 409 and "allerede afsluttet" in again.text
    late = post_form(client, f"/console/inbox/{lis}/reply", {"text": "Hej igen"})
    assert late.status_code == 409 and "allerede afsluttet" in late.text
    assert all(text != "Hej igen" for text, _, _ in town.outbox(LIS_PHONE))
    closed = client.get(f"/console/inbox/{lis}").text
    assert "Afsluttet" in closed and f'action="/console/inbox/{lis}/reply"' not in closed


# Polling ---------------------------------------------------------------------------------


def test_polling_returns_only_newer_messages_and_delivery_states(town: Town) -> None:
    eid = town.ask_for_person(JENS_PHONE)
    client = user(town, "caseworker_a")
    page = client.get(f"/console/inbox/{eid}").text
    after = int(re.search(r'data-after="(\d+)"', page).group(1))  # type: ignore[union-attr]  # no match fails the test

    nothing = client.get(f"/console/inbox/{eid}/messages", params={"after": after},
                         headers=FETCH).json()
    assert nothing["count"] == 0 and nothing["html"].strip() == ""
    assert nothing["last_message_id"] == after and nothing["status_label"] == "Venter"

    town.say(JENS_PHONE, "er der nogen?")
    post_form(client, f"/console/inbox/{eid}/reply", {"text": "Ja, Anna her."})
    update = client.get(f"/console/inbox/{eid}/messages", params={"after": after},
                        headers=FETCH).json()

    # Her question, the bot's note that a person has it (it asked what it is about), the reply.
    assert update["count"] == 3 and update["last_message_id"] > after
    html = update["html"]
    assert html.index("er der nogen?") < html.index("har fået din besked") < html.index("Ja, Anna")
    assert "ja" not in re.findall(r">([^<]*)</div>", update["html"])  # nothing older
    assert update["status"] == "taken" and update["status_label"] == "Taget"
    [(message_id, delivery)] = update["deliveries"].items()
    assert delivery == {"label": "venter", "badge": "badge-warn"}
    assert f'data-delivery-for="{message_id}"' in update["html"]
    later = client.get(f"/console/inbox/{eid}/messages",
                       params={"after": update["last_message_id"]}, headers=FETCH).json()
    assert later["count"] == 0


def test_a_message_with_markup_is_shown_as_text(town: Town) -> None:
    attack = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    town.say(JENS_PHONE, attack)
    eid = town.ask_for_person(JENS_PHONE)
    client = user(town, "caseworker_a")
    town.say(JENS_PHONE, attack)  # the latest message: the list's preview

    page = client.get(f"/console/inbox/{eid}").text
    poll = client.get(f"/console/inbox/{eid}/messages", params={"after": 0},
                      headers=FETCH).json()["html"]
    rows = client.get("/console/inbox/rows", headers=FETCH).json()["html"]

    for html in (page, poll, rows):
        assert "<script>alert" not in html and "<img src=x" not in html
        assert "&lt;script&gt;alert(" in html
    assert "<script" not in page.replace('<script src="/console/static/console.js" defer>', "")


# Who may do what -------------------------------------------------------------------------

ACTIONS = ("take", "reply", "note", "call-back", "hand-back", "resolve")


def test_anonymous_users_are_sent_to_login_or_refused(small_town: Town) -> None:
    eid = small_town.ask_for_person(JENS_PHONE)
    anonymous = small_town.env.new_client()

    for path in ("/console/inbox", f"/console/inbox/{eid}"):
        page = anonymous.get(path)
        assert page.status_code == 303 and page.headers["location"].startswith(
            "/console/login?next=")
    for path in ("/console/inbox/rows", f"/console/inbox/{eid}/messages?after=0"):
        assert anonymous.get(path, headers=FETCH).status_code == 401
    token = csrf_token(anonymous)
    for action in ACTIONS:
        response = anonymous.post(f"/console/inbox/{eid}/{action}",
                                  data={"csrf_token": token, "text": "hej"})
        assert response.status_code == 401, action
    assert small_town.env.ledger.conversations.escalation(eid).status == "waiting"
    assert all(text != "hej" for text, _, _ in small_town.outbox(JENS_PHONE))


def test_another_municipality_gets_404_for_everything(small_town: Town) -> None:
    eid = small_town.ask_for_person(JENS_PHONE)
    mette = small_town.ask_for_person(METTE_PHONE)
    outsider = user(small_town, "caseworker_b")
    before = small_town.outbox(JENS_PHONE)

    assert outsider.get(f"/console/inbox/{eid}").status_code == 404
    assert outsider.get(f"/console/inbox/{eid}/messages", headers=FETCH).status_code == 404
    for action in ACTIONS:
        response = post_form(outsider, f"/console/inbox/{eid}/{action}", {"text": "hej"})
        assert response.status_code == 404, action
        assert "Siden findes ikke" in response.text
    # A made-up id looks the same as someone else's.
    assert outsider.get("/console/inbox/999999").status_code == 404
    assert small_town.env.ledger.conversations.escalation(eid).status == "waiting"
    assert small_town.env.ledger.conversations.escalation(eid).owner is None
    assert small_town.outbox(JENS_PHONE) == before
    # København's own conversation is theirs, and Aarhus's consultant cannot see it.
    assert outsider.get(f"/console/inbox/{mette}").status_code == 200
    assert user(small_town, "consultant").get(f"/console/inbox/{mette}").status_code == 404


def test_every_action_needs_the_csrf_token(small_town: Town) -> None:
    eid = small_town.ask_for_person(JENS_PHONE)
    client = user(small_town, "caseworker_a")
    before = small_town.outbox(JENS_PHONE)

    for action in ACTIONS:
        missing = client.post(f"/console/inbox/{eid}/{action}", data={"text": "hej"})
        wrong = client.post(f"/console/inbox/{eid}/{action}",
                            data={"text": "hej", "csrf_token": "x" * 43})
        assert missing.status_code == wrong.status_code == 403, action
        assert "Formularen er udløbet" in missing.text

    assert small_town.env.ledger.conversations.escalation(eid).status == "waiting"
    assert small_town.outbox(JENS_PHONE) == before
    assert "Ringede" not in client.get(f"/console/inbox/{eid}").text


# Calls (issue 18) --------------------------------------------------------------------------


def test_a_callback_request_shows_the_call_and_ring_tilbage_gives_the_number(
    town: Town,
) -> None:
    """A caller asks for a person at night: the inbox shows the request with a phone icon,
    the transcript marks each spoken turn, and "Ring tilbage" takes the conversation and
    shows the caller's number as a tel: link, audited."""
    from bot.voice.line import CallEvent, PhoneLine

    town.env.clock.advance(hours=10)  # 21:00 Danish time: closed
    line = PhoneLine(town.dialogue)
    line.answer(CallEvent("CA" + "7" * 32, JENS_PHONE, "start", 0,
                          received_at=town.env.clock.now))
    answer = line.answer(CallEvent("CA" + "7" * 32, JENS_PHONE, "gather", 1, digits="3",
                                   received_at=town.env.clock.now))
    assert answer.then == "hang_up"
    eid = town.escalation_of(JENS_PHONE)
    client = user(town, "caseworker_a")

    rows = client.get("/console/inbox/rows", headers=FETCH).json()["html"]
    assert "Ring tilbage" in rows and "&#9742;" in rows
    page = client.get(f"/console/inbox/{eid}").text
    assert "Opkald" in page and "[tastede 3]" in page
    assert JENS_PHONE not in page  # the number only on request

    shown = post_form(client, f"/console/inbox/{eid}/call-back")
    assert shown.status_code == 200
    assert f'href="tel:{JENS_PHONE}"' in shown.text
    escalation = town.env.ledger.conversations.escalation(eid)
    assert escalation.status == "taken" and escalation.owner


def test_every_crisis_kind_has_a_danish_label_in_the_inbox() -> None:
    """A caseworker reads "Krise: akut sygdom eller fald", never the code "crisis:medical"."""
    from api.console.pages.inbox import reason_label
    from bot.crisis import KINDS

    untranslated = [kind for kind in KINDS if reason_label(f"crisis:{kind}").endswith(kind)]
    assert untranslated == []
