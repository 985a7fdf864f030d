"""Keywords that always work, whatever the classifier says (bot/keywords.py)."""

from __future__ import annotations

import pytest

from bot.keywords import Keyword, keyword_of


@pytest.mark.parametrize(("text", "name"), [
    ("STOP", "STOP"), ("stop", "STOP"), (" Stop. ", "STOP"), ("stopp", "STOP"),
    ("afmeld", "UNSUBSCRIBE"), ("stop alle beskeder", "STOP"),
    ("glem det", "CANCEL"), ("Glem indberetningen", "CANCEL"), ("hvor står det?", "SOURCE"),
    ("kilde", "SOURCE"), ("er det rigtigt?", "SOURCE"), ("hvordan ved du det", "SOURCE"),
    ("ja til begge", "YES"),
    ("START", "START"), ("start", "START"),
    ("HJÆLP", "HELP"), ("hjælp", "HELP"), ("HJAELP", "HELP"), ("hjalp", "HELP"),
    ("hjælp!", "HELP"), ("MENU", "HELP"), ("menu", "HELP"), ("help", "HELP"), ("/help", "HELP"),
    ("SALDO", "BALANCE"), ("saldo?", "BALANCE"), ("Saldo", "BALANCE"),
    ("MERE", "MORE"), ("mere", "MORE"),
    ("JA", "YES"), ("ja", "YES"), ("Ja!", "YES"), ("ja tak", "YES"), ("jaa", "YES"),
    ("ok", "YES"), ("jep", "YES"),
    ("NEJ", "NO"), ("nej", "NO"), ("nej tak", "NO"), ("Nej.", "NO"),
    ("MENNESKE", "HUMAN"), ("menneske", "HUMAN"), ("medarbejder", "HUMAN"),
    ("annuller", "CANCEL"), ("afbryd", "CANCEL"), ("fortryd", "CANCEL"),
    ("/start", "GREET"),
])
def test_single_keywords(text: str, name: str) -> None:
    found = keyword_of(text)
    assert found is not None and found.name == name, (text, found)


@pytest.mark.parametrize("text", [
    "stop med at skrive til mig om det",   # a sentence, not the keyword
    "hvad er min saldo",                   # the classifier's job (check_balance)
    "jeg vil gerne have mere arbejde",
    "ja men hvor meget",
    "nej det var 500 kr",
    "startløn",
    "",
    "   ",
    "indberet 4 timer 600 kr frikort 48213",
    "menneskerettigheder",
])
def test_not_keywords(text: str) -> None:
    assert keyword_of(text) is None


@pytest.mark.parametrize("text", [
    "hvor staar det henne? vil gerne vise min chef det",
    "har du et link til det, min revisor vil se det sort på hvidt",
    "kan jeg få det sort på hvidt",
    "min sagsbehandler siger noget andet. hvor står det?",
])
def test_asking_for_the_source_ends_a_clause(text: str) -> None:
    """The source question may be followed by why it is asked, in a sentence or clause of its
    own; the words after it in the same clause decide (at most three)."""
    assert keyword_of(text) == Keyword("SOURCE")


@pytest.mark.parametrize("text", [
    "hvor står det beløb jeg har tjent henne på min lønseddel",
    "jeg har fundet en kilde til ekstra arbejde om lørdagen hos min fætters firma og vil høre "
    "om det er lovligt at tage imod det",
])
def test_a_source_word_inside_another_question_is_not_a_source_question(text: str) -> None:
    assert keyword_of(text) is None


@pytest.mark.parametrize(("text", "args"), [
    ("LINK 48213 7319", ("48213", "7319")),
    ("link 48213 7319", ("48213", "7319")),
    ("  Link   48213   7319 ", ("48213", "7319")),
    ("Link 81322-5427", ("81322", "5427")),
    ("LINK 81322 54 27", ("81322", "5427")),
    ("link frikort 81322 kode 5427", ("81322", "5427")),
    ("link: 81322/5427", ("81322", "5427")),
    ("min kontaktperson sagde jeg skulle skrive LINK. LINK 81322 5427", ("81322", "5427")),
])
def test_link_with_card_and_code(text: str, args: tuple[str, str]) -> None:
    assert keyword_of(text) == Keyword("LINK", args)


@pytest.mark.parametrize("text", ["LINK", "link 48213", "LINK 4821 7319", "link 48213 73190",
                                  "link mig"])
def test_link_without_valid_arguments_asks_for_them(text: str) -> None:
    """Anything starting with LINK is a LINK attempt; without card and code it gets the usage."""
    assert keyword_of(text) == Keyword("LINK")


@pytest.mark.parametrize(("text", "expected"), [
    ("JOB", Keyword("JOB")), ("job", Keyword("JOB")), ("Jobs", Keyword("JOB")),
    ("JOB 8000", Keyword("JOB", ("8000",))),
    ("JOB DAGLIG", Keyword("JOB_DIGEST", ("daily",))),
    ("job ugentlig 2200", Keyword("JOB_DIGEST", ("weekly", "2200"))),
    ("JOB STOP", Keyword("JOB_STOP")), ("JOB tak", Keyword("JOB")),
    ("JA 12", Keyword("TASK_CONFIRM", ("12",))), ("ja nr. 12", Keyword("TASK_CONFIRM", ("12",))),
    ("AFLYS 3", Keyword("TASK_CANCEL", ("3",))), ("afmeld 3", Keyword("TASK_CANCEL", ("3",))),
    ("AFLYS JOB", Keyword("TASK_CANCEL")), ("afmeld opgaven", Keyword("TASK_CANCEL")),
    ("UDEBLEV 7", Keyword("TASK_NO_SHOW", ("7",))),
    ("AFLYS OPGAVE 5", Keyword("TASK_TAKE_DOWN", ("5",))),
])
def test_small_job_keywords(text: str, expected: Keyword) -> None:
    assert keyword_of(text) == expected


@pytest.mark.parametrize("text", [
    "jobcenter", "job i aarhus", "job stop 8000", "jobbet var godt", "ja 12 timer",
    "aflys", "opslå job: havearbejde",   # the classifier and the posting flow read these
])
def test_small_job_words_in_sentences_are_not_keywords(text: str) -> None:
    assert keyword_of(text) is None


def test_bare_afmeld_may_mean_the_service_or_a_job() -> None:
    """AFMELD with a number gives a task back; alone it is the Danish word for leaving an SMS
    service, or a card holder with a small job means the job: the router asks then."""
    assert keyword_of("AFMELD") == Keyword("UNSUBSCRIBE")


@pytest.mark.parametrize(("text", "name"), [
    ("STOP. send ikke flere beskeder", "STOP"),
    ("stop stop med at sende mig de der beskeder", "STOP"),
    ("ikke skriv mig mere tak", "STOP"),
    ("har fået ny telefon og gider ikke flere beskeder på det her nummer. stop", "STOP"),
    ("vi stopper med frikort i firmaet, så skriv ikke til os mere. afmeld os", "STOP"),
    ("START jeg vil gerne ha beskeder igen", "START"),
    ("I må gerne sende beskeder til mig igen", "START"),
    ("kan i begynde at sende beskeder igen. jeg slog dem fra ved en fejl", "START"),
    ("slog beskederne fra da jeg var indlagt, vil gerne have dem igen", "START"),
    ("how to link my phone to my frikort", "LINK"),
    ("Min borger skriver fra sin nye telefon. Hvordan tilknytter han nummeret?", "LINK"),
    ("kan du sende et link til hvor det står", "SOURCE"),
    ("stop med at skrive til mig pls", "STOP"),
    ("Afmeld venligst dette nummer fra jeres beskeder", "STOP"),
    ("Stop venligst med at skrive til mig, jeg kender ikke noget til det her.", "STOP"),
    ("kan i slå beskederne til igen", "START"),
    ("Jeg skrev stop for et stykke tid siden, men vil gerne have beskederne igen nu", "START"),
    ("can i connect this telegram to my card", "LINK"),
    ("jeg vil gerne have beskeder igen, jeg skrev stop ved en fejl undskyld", "START"),
    ("så er jeg hjemme fra ferie igen, i må gerne skrive til mig igen", "START"),
    ("jeg tager til mallorca i 2 uger, kan jeg sætte sms'erne på pause", "STOP"),
    ("STOP vil ikke ha flere sms", "STOP"),
    ("jeg er helt færdig med jer. stop alt", "STOP"),
    ("kan i stoppe de her sms'er", "STOP"),
    ("send sms'er igen, jeg har fortrudt at jeg skrev stop", "START"),
    ("min gamle mobil er død og det her er mit nye nr. skal jeg skrive LINK?", "LINK"),
    ("har frikort, men I har vist ikke dette nummer. kan I sætte det på?", "LINK"),
    ("skriv ikk mere til mig", "STOP"),
    ("hvordan får jeg min telefon sat sammen med kortet", "LINK"),
    ("mit frikort id er 31874, saet det paa den her tlf pls", "LINK"),
    ("min ex har taget min gamle telefon. kan i sætte mit frikort på det her nummer", "LINK"),
    ("jeg har et kort men i kender ikke det her nummer. hvordan forbinder jeg det", "LINK"),
    ("hvem er i? stop med at skrive til mig", "STOP"),
    ("slå beskederne fra et stykke tid, jeg er indlagt på sygehuset", "STOP"),
    ("vi ønsker ikke at modtage flere sms'er fra jer", "STOP"),
    ("kan i begynde at sende til mig igen", "START"),
    ("tænd for beskederne igen tak", "START"),
    ("i må gerne begynde at sende beskeder til os igen", "START"),
    ("Jeg har ikke noget frikort. Det er 3. besked i denne uge. I må stoppe med at skrive til mig",
     "STOP"),
    ("min telefon døde og nu har jeg en ny, samme nummer. skal den kobles på igen", "LINK"),
])
def test_stop_start_link_and_source_said_in_longer_words(text: str, name: str) -> None:
    found = keyword_of(text)
    assert found is not None and found.name == name, (text, found)


@pytest.mark.parametrize("text", [
    "Jeg overgår fra kontanthjælp til førtidspension. Bevarer jeg i den forbindelse mit kort?",
    "jeg har et link til jer 12345",
    "Er der smaajobs i Randers? Jeg har ikke faaet tilknyttet min telefon endnu.",
    "nej, hvor meget må jeg tjene",
])
def test_words_near_link_and_stop_are_not_keywords(text: str) -> None:
    assert keyword_of(text) is None
