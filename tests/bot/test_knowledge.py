"""The rule-answer knowledge base: coverage, sources, SMS budget, GSM-7, placeholders, matching."""

from __future__ import annotations

import ast
import datetime as dt
import itertools
import re
import shutil
from pathlib import Path

import pytest
import yaml

from bot import knowledge
from bot.knowledge import (
    Answer,
    KnowledgeBase,
    KnowledgeError,
    RenderError,
    UnknownIntent,
    fold,
    load_knowledge,
    render,
)
from danish import gsm7
from tests.yaml_files import read_yaml

ROOT = Path(__file__).resolve().parents[2]
KNOWLEDGE_DIR = ROOT / "bot" / "knowledge"
RULES_FACTS = ROOT.parent / "shared" / "facts" / "rules-facts.md"

# Written out here rather than imported, so a rename in the module cannot hide a missing intent.
EXPECTED_INTENTS = {
    "faq_limit",
    "faq_card_validity",
    "faq_225_rule",
    "faq_benefits",
    "faq_tax",
    "faq_hours",
    "faq_job_types",
    "faq_exceed",
    "faq_eligibility",
    "faq_reporting",
    "employer_faq_payroll",
    "employer_faq_contract",
    "employer_faq_insurance",
    "employer_faq_holiday_pension",
}
EXPECTED_PLACEHOLDERS = {
    "year",
    "cap",
    "cap_year",
    "latest_cap",
    "latest_cap_year",
    "earned",
    "remaining",
    "municipality",
    "card_number",
}
# The longest values the bot can realistically send; a text must fit with these filled in.
LONG_VALUES = {
    "year": "2026",
    "cap": "142.766 kr. (demo-tal)",
    "cap_year": "2026",
    "latest_cap": "142.766,50 kr.",
    "latest_cap_year": "2025",
    "earned": "142.766,50 kr.",
    "remaining": "142.766,50 kr.",
    "municipality": "Ringkøbing-Skjern",
    "card_number": "48213",
}
CAP_UNKNOWN_VALUES = {k: v for k, v in LONG_VALUES.items()
                      if k not in {"cap", "cap_year", "remaining"}}

# --------------------------------------------------------------------------- GSM-7, independently

GSM7_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
assert len(GSM7_BASIC) == 127  # 128 codes, one of them the escape to the extension table


def test_the_one_gsm7_table_is_the_standard_one() -> None:
    assert gsm7.GSM7_BASIC == GSM7_BASIC

TWO_SEGMENTS = 2 * 153
THREE_SEGMENTS = 3 * 153


def non_gsm7(text: str) -> set[str]:
    return {ch for ch in text if ch not in GSM7_BASIC}


def fits(text: str, segments: int) -> bool:
    """True if text is GSM-7 basic and fits in ``segments`` SMS segments."""
    if non_gsm7(text):
        return False
    return len(text) <= 160 if segments == 1 else len(text) <= segments * 153


def test_gsm7_check_rejects_what_forces_ucs2() -> None:
    assert not non_gsm7("Løn på frikortet er skattefri. Æblegrød, ÅØ, 12,5 % og § 3.")
    for bad in ("“citat”", "a – b", "a — b", "vent…", "hej 🙂", "’", "{x}", "€", "[", "~"):
        assert non_gsm7(bad), bad


def test_segment_budget_check_counts_characters() -> None:
    assert fits("a" * 306, 2)
    assert not fits("a" * 307, 2)
    assert fits("a" * 160, 1) and not fits("a" * 161, 1)
    assert not fits("kort – tekst", 2)


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return load_knowledge()


def all_answers(kb: KnowledgeBase) -> list[Answer]:
    return list(kb.answers())


def raw_texts() -> list[tuple[str, str, str]]:
    """(file, where, text) for every text in the YAML files, read without the loader."""
    found: list[tuple[str, str, str]] = []

    def walk(node: object, where: str, file: str) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in {"sources", "keywords", "intent", "audience", "last_reviewed", "id"}:
                    continue
                walk(value, f"{where}.{key}", file)
        elif isinstance(node, list):
            for i, item in enumerate(node):
                walk(item, f"{where}[{i}]", file)
        elif isinstance(node, str):
            found.append((file, where, node))

    for path in sorted(KNOWLEDGE_DIR.glob("*.yml")):
        walk(read_yaml(path), "", path.name)
    return found


# --------------------------------------------------------------------------- coverage and metadata


def test_every_rule_intent_is_answered(kb: KnowledgeBase) -> None:
    assert set(kb.intents) == EXPECTED_INTENTS
    for intent in EXPECTED_INTENTS:
        assert kb.answer_for(intent, "").is_general


def test_one_file_per_intent() -> None:
    files = {p.stem for p in KNOWLEDGE_DIR.glob("*.yml") if not p.name.startswith("_")}
    assert files == EXPECTED_INTENTS


def test_topics_with_clear_sub_questions_have_sub_answers(kb: KnowledgeBase) -> None:
    def ids(intent: str) -> set[str]:
        return {a.id for a in kb.topic(intent).sub_answers}

    assert {
        "kontanthjaelp",
        "foertidspension",
        "boligstoette",
        "ressourceforloeb",
        "switching_benefit",
    } <= ids("faq_benefits")
    assert {"self_employed", "public_employer", "black_work"} <= ids("faq_job_types")
    assert {"taken_away", "control", "moving"} <= ids("faq_card_validity")


def test_every_answer_has_sources_audience_and_review_date(kb: KnowledgeBase) -> None:
    for answer in all_answers(kb):
        label = f"{answer.intent}/{answer.id}"
        assert answer.sources, label
        for source in answer.sources:
            assert source.url.startswith("https://"), label
            assert source.title.strip(), label
        assert answer.audience in {"citizen", "employer", "any"}, label
        assert isinstance(answer.last_reviewed, dt.date), label
        assert answer.last_reviewed == dt.date(2026, 11, 23), label
        if answer.intent.startswith("employer_"):
            assert answer.audience in {"employer", "any"}, label
        else:
            assert answer.audience in {"citizen", "any"}, label


@pytest.mark.skipif(not RULES_FACTS.is_file(), reason="shared/facts/rules-facts.md not present")
def test_every_source_is_taken_from_the_rules_fact_sheet(kb: KnowledgeBase) -> None:
    facts = RULES_FACTS.read_text(encoding="utf-8")
    for answer in all_answers(kb):
        for source in answer.sources:
            assert source.url in facts, f"{answer.intent}/{answer.id}: {source.url}"


# --------------------------------------------------------------------------- SMS budget and charset


def rendered_variants(answer: Answer):
    """Every message the bot can send for this answer, with long realistic values."""
    for values, personal, more, asker in itertools.product(
        (LONG_VALUES, CAP_UNKNOWN_VALUES), (None, *knowledge.PERSONAL_CASES), (False, True),
        ("citizen", "employer"),
    ):
        if asker == "employer" and personal is not None:
            continue  # an employer never gets a card holder's personal variant
        yield (
            (values is LONG_VALUES, personal, more, asker),
            render(answer, values, personal=personal, more=more, asker=asker),
        )


def test_every_message_is_gsm7_and_fits_its_segment_budget(kb: KnowledgeBase) -> None:
    for answer in all_answers(kb):
        for case, message in rendered_variants(answer):
            label = f"{answer.intent}/{answer.id} {case}"
            assert not non_gsm7(message), f"{label}: {non_gsm7(message)}"
            budget = THREE_SEGMENTS if case[2] and knowledge.has_more(answer, case[3]) \
                else TWO_SEGMENTS
            assert len(message) <= budget, f"{label}: {len(message)} > {budget}: {message}"
            assert ".." not in message and "  " not in message, f"{label}: {message}"


def test_short_answers_with_more_end_with_the_more_hint(kb: KnowledgeBase) -> None:
    hint = read_yaml(KNOWLEDGE_DIR / "_common.yml")["more_hint"]
    assert "MERE" in hint
    for answer in all_answers(kb):
        short = render(answer, LONG_VALUES)
        assert short.endswith(hint) == (answer.more is not None), answer.id
        if answer.more:
            assert render(answer, LONG_VALUES, more=True) != short


def test_raw_texts_have_no_typographic_characters() -> None:
    for file, where, text in raw_texts():
        plain = re.sub(r"\{[a-z_]+\}", "", text)
        assert not non_gsm7(plain), f"{file}{where}: {non_gsm7(plain)}"


def test_sentences_are_short() -> None:
    """Plain language: no sentence runs longer than 20 words."""
    for file, where, text in raw_texts():
        for sentence in re.split(r"(?<=[.!?])\s+", text):
            words = sentence.split()
            assert len(words) <= 20, f"{file}{where}: {sentence}"


# --------------------------------------------------------------------------- placeholders


def test_placeholder_set_is_the_documented_closed_set() -> None:
    assert set(knowledge.PLACEHOLDERS) == EXPECTED_PLACEHOLDERS


def test_texts_use_only_known_placeholders() -> None:
    for file, where, text in raw_texts():
        names = set(re.findall(r"\{([^{}]*)\}", text))
        assert names <= EXPECTED_PLACEHOLDERS, f"{file}{where}: {names - EXPECTED_PLACEHOLDERS}"
        stripped = re.sub(r"\{[a-z_]+\}", "", text)
        assert "{" not in stripped and "}" not in stripped, f"{file}{where}"


def test_no_amounts_or_years_are_hard_coded() -> None:
    amount = re.compile(r"\d{1,3}(\.\d{3})+|\d{4,}\s*(kr|kroner)|\d+\s*000\s*kr", re.I)
    year = re.compile(r"\b(19|20)\d{2}\b")
    for file, where, text in raw_texts():
        assert not amount.search(text), f"{file}{where}: {amount.search(text)}"
        assert not year.search(text), f"{file}{where}: {year.search(text)}"


def test_cap_texts_have_a_cap_unknown_variant(kb: KnowledgeBase) -> None:
    for answer in all_answers(kb):
        for text, fallback in [
            (answer.text, answer.text_cap_unknown),
            (answer.more or "", answer.more_cap_unknown),
            *[(v.text, v.text_cap_unknown) for v in answer.personal.values()],
        ]:
            if re.search(r"\{(cap|cap_year|remaining)\}", text):
                assert fallback, f"{answer.intent}/{answer.id}"
                assert "{latest_cap}" in fallback, f"{answer.intent}/{answer.id}"
                assert not re.search(r"\{(cap|cap_year|remaining)\}", fallback)


def test_general_texts_use_no_personal_placeholders(kb: KnowledgeBase) -> None:
    personal = {"earned", "remaining", "card_number", "municipality"}
    for answer in all_answers(kb):
        for text in (answer.text, answer.text_cap_unknown, answer.more, answer.more_cap_unknown):
            if text:
                assert not set(re.findall(r"\{(\w+)\}", text)) & personal, answer.id


def test_limit_and_validity_have_personal_variants(kb: KnowledgeBase) -> None:
    limit = kb.topic("faq_limit").general
    assert "active" in limit.personal
    assert {"{earned}", "{remaining}"} <= set(re.findall(r"\{\w+\}", limit.personal["active"].text))
    validity = kb.topic("faq_card_validity").general
    assert {"active", "deactivated"} <= set(validity.personal)


def test_no_answer_states_a_control_date_as_fact(kb: KnowledgeBase) -> None:
    """"senest 31.12.2028" was our own reading of § 3; the law says at least every second
    calendar year, and that is all an answer may say."""
    for answer in all_answers(kb):
        for _case, message in rendered_variants(answer):
            assert not re.search(r"senest \d", message), f"{answer.key}: {message}"


def test_employer_variants_point_at_real_answers(kb: KnowledgeBase) -> None:
    redirects = [a for a in all_answers(kb) if a.employer_answer]
    assert redirects, "an employer asking about the cap of 'his' employee gets the payroll answer"
    for answer in redirects:
        target = kb.answer(answer.employer_answer or "")
        assert target.audience in ("employer", "any"), answer.key


# --------------------------------------------------------------------------- rendering


def test_render_fills_the_cap_from_the_values(kb: KnowledgeBase) -> None:
    answer = kb.topic("faq_limit").general
    text = render(answer, {"year": "2026", "cap": "43.900 kr.", "cap_year": "2026"})
    assert "43.900 kr." in text and "2026" in text and "{" not in text


def test_render_uses_the_cap_unknown_text_when_no_cap_is_given(kb: KnowledgeBase) -> None:
    answer = kb.topic("faq_limit").general
    text = render(answer, {"year": "2026", "latest_cap": "42.766 kr.", "latest_cap_year": "2025"})
    assert "2026" in text and "42.766 kr." in text and "2025" in text
    assert "kommune" in text.lower()


def test_render_personal_variant_and_fallback(kb: KnowledgeBase) -> None:
    validity = kb.topic("faq_card_validity").general
    active = render(validity, LONG_VALUES, personal="active")
    assert "aktivt" in active and active != render(validity, LONG_VALUES)
    deactivated = render(validity, LONG_VALUES, personal="deactivated")
    assert "ikke aktivt" in deactivated
    tax = kb.topic("faq_tax").general
    assert render(tax, LONG_VALUES, personal="active") == render(tax, LONG_VALUES)
    with pytest.raises(ValueError):
        render(tax, LONG_VALUES, personal="sometimes")


def test_render_refuses_missing_values(kb: KnowledgeBase) -> None:
    answer = kb.topic("faq_limit").general
    with pytest.raises(RenderError, match="latest_cap"):
        render(answer, {"year": "2026"})
    with pytest.raises(RenderError, match="earned"):
        render(answer, {"year": "2026", "cap": "1 kr.", "cap_year": "2026"}, personal="active")


# --------------------------------------------------------------------------- keyword sub-answers


@pytest.mark.parametrize(
    ("intent", "message", "expected"),
    [
        ("faq_benefits", "bliver det trukket i min kontanthjælp?", "kontanthjaelp"),
        ("faq_benefits", "mister jeg noget af min kontanthjaelp", "kontanthjaelp"),
        ("faq_benefits", "hvad med min fortidspension", "foertidspension"),
        ("faq_benefits", "foertidspensionist kan jeg stadig", "foertidspension"),
        ("faq_benefits", "paavirker det min boligstoette", "boligstoette"),
        ("faq_benefits", "jeg er i ressourceforlob", "ressourceforloeb"),
        (
            "faq_benefits",
            "jeg går fra kontanthjælp til førtidspension kan jeg stadig bruge det",
            "switching_benefit",
        ),
        ("faq_benefits", "hvad med mine penge fra kommunen", "general"),
        ("faq_job_types", "kan jeg bruge det i mit eget firma", "self_employed"),
        ("faq_job_types", "er det ikke sort arbejde??", "black_work"),
        ("faq_job_types", "må jeg arbejde for kommunen", "public_employer"),
        ("faq_job_types", "hvad slags arbejde må jeg lave", "general"),
        ("faq_card_validity", "hvor længe gælder mit frikort", "general"),
        (
            "faq_card_validity",
            "hvor laenge gaelder mit frikort? skal jeg selv holde styr paa det",
            "general",
        ),
        ("faq_card_validity", "de holder vel øje med mig", "control"),
        ("faq_card_validity", "kan de tage kortet fra mig", "taken_away"),
        ("faq_card_validity", "jeg flytter til aarhus hvad sker der", "moving"),
        ("faq_reporting", "skal jeg selv holde styr på hvad jeg tjener", "keep_track"),
        ("faq_reporting", "skal i godkende mit job", "approve_job"),
        ("employer_faq_payroll", "den skattefri løn lyder som sort arbejde", "black_work"),
        ("employer_faq_payroll", "kan vi betale med mobilepay", "payment_method"),
        ("employer_faq_payroll", "skal vi trække am bidrag", "am_bidrag"),
        ("employer_faq_holiday_pension", "hvad med ATP", "atp"),
        ("employer_faq_holiday_pension", "skal der feriepenge oven i", "holiday_pay"),
        ("faq_limit", "tæller feriepenge med", "what_counts"),
        ("faq_limit", "er det brutto eller netto", "what_counts"),
        ("faq_limit", "er grænsen om måneden eller om året", "yearly"),
        ("faq_limit", "starter det forfra 1 januar", "yearly"),
        ("faq_limit", "hvor meget må jeg tjene", "general"),
        ("faq_card_validity", "jeg har glemt mit frikort nummer", "forgot_number"),
        ("faq_card_validity", "jeg kan ikke huske mit nummer", "forgot_number"),
        ("faq_225_rule", "jeg er fritaget mister jeg fritagelsen hvis jeg arbejder", "exempt"),
        ("faq_225_rule", "tæller timerne med i 225 timers reglen", "general"),
        ("faq_job_types", "må jeg arbejde for min fætter", "family"),
        ("faq_job_types", "kan jeg arbejde i min vens firma", "family"),
        ("faq_job_types", "min nabo vil betale mig for at slå græs", "private_person"),
        ("faq_job_types", "må jeg arbejde i en privat virksomhed", "general"),
        ("faq_eligibility", "hvad er et socialt frikort", "what_is"),
        ("faq_eligibility", "jeg er 17 kan jeg få et frikort", "age"),
        ("faq_eligibility", "jeg er studerende og får su", "education"),
        ("faq_eligibility", "hvad er kravene for at få frikort", "general"),
        ("faq_reporting", "hvorfor kan jeg ikke se min løn", "missing_pay"),
        ("faq_reporting", "min løn er ikke kommet på kortet", "missing_pay"),
        ("faq_reporting", "må jeg få lønnen kontant", "payment_method"),
        ("faq_reporting", "kan jeg blive betalt med mobilepay", "payment_method"),
        ("faq_reporting", "kan kommunen se hvad jeg tjener", "who_sees"),
        ("faq_reporting", "hvem indberetter min løn", "general"),
    ],
)
def test_keywords_pick_the_sub_answer(
    kb: KnowledgeBase, intent: str, message: str, expected: str
) -> None:
    assert kb.answer_for(intent, message).id == expected


def test_fold_treats_danish_letters_and_ascii_spellings_alike() -> None:
    assert fold("Førtidspension") == fold("foertidspension") == fold("fortidspension")
    assert fold("Kontanthjælp!") == fold("kontanthjaelp") == fold("kontanthjalp")
    assert fold("Boligstøtte") == fold("boligstotte")


def test_unknown_intent_is_an_error(kb: KnowledgeBase) -> None:
    with pytest.raises(UnknownIntent):
        kb.answer_for("check_balance", "saldo")


# --------------------------------------------------------------------------- loader errors


@pytest.fixture
def kb_copy(tmp_path: Path) -> Path:
    target = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE_DIR, target)
    return target


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_copy_loads(kb_copy: Path) -> None:
    assert set(load_knowledge(kb_copy).intents) == EXPECTED_INTENTS


@pytest.mark.parametrize(
    ("file", "old", "new", "message"),
    [
        (
            "faq_tax.yml",
            "Du skal ikke betale skat",
            "Du skal {foo} ikke betale skat",
            "unknown placeholder",
        ),
        ("faq_tax.yml", "Du skal ikke betale skat", "Du skal ikke – betale skat", "GSM-7"),
        (
            "faq_tax.yml",
            "Du skal ikke betale skat",
            "Du skal {earned} ikke betale skat",
            "not allowed here",
        ),
        ("faq_tax.yml", "url: https://tax.dk", "url: http://tax.dk", "https"),
        (
            "faq_limit.yml",
            "  text_cap_unknown: >-\n    Grænsen for {year}",
            "  foo: >-\n    x",
            "foo",
        ),
        ("faq_exceed.yml", "  text_cap_unknown: >-", "  unused_cap_unknown: >-", "unused"),
        (
            "faq_benefits.yml",
            "  - id: kontanthjaelp\n    keywords:",
            "  - id: kontanthjaelp\n    kw:",
            "keywords",
        ),
        ("faq_hours.yml", "intent: faq_hours", "intent: faq_weather", "faq_weather"),
    ],
)
def test_a_broken_file_is_named_in_the_error(
    kb_copy: Path, file: str, old: str, new: str, message: str
) -> None:
    _edit(kb_copy / file, old, new)
    with pytest.raises(KnowledgeError) as exc:
        load_knowledge(kb_copy)
    assert file in str(exc.value)
    assert message in str(exc.value)


def test_a_missing_cap_unknown_variant_is_refused(kb_copy: Path) -> None:
    path = kb_copy / "faq_limit.yml"
    data = read_yaml(path)
    del data["answer"]["text_cap_unknown"]
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(KnowledgeError, match=r"faq_limit\.yml.*text_cap_unknown"):
        load_knowledge(kb_copy)


def test_a_missing_intent_file_is_refused(kb_copy: Path) -> None:
    (kb_copy / "employer_faq_insurance.yml").unlink()
    with pytest.raises(KnowledgeError, match="employer_faq_insurance"):
        load_knowledge(kb_copy)


def test_an_answer_without_sources_is_refused(kb_copy: Path) -> None:
    path = kb_copy / "faq_225_rule.yml"
    data = read_yaml(path)
    data["answer"]["sources"] = []
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(KnowledgeError, match=r"faq_225_rule\.yml.*sources"):
        load_knowledge(kb_copy)


# --------------------------------------------------------------------------- architecture


def _imports(module: Path) -> set[str]:
    tree = ast.parse(module.read_text(encoding="utf-8"))
    imported: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module)
    return imported


LEAF_MODULES = {"danish.gsm7", "bot.textmatch"}
"""The bot modules the knowledge base may share: each imports nothing but nlu and the stdlib."""


def test_knowledge_module_needs_no_database_or_web_layer() -> None:
    """Answers load without a ledger or an app: only the NLU and two leaf modules of ours."""
    imported = _imports(ROOT / "bot" / "knowledge.py")
    ours = {name for name in imported if name.split(".")[0] == "bot"}
    assert ours <= LEAF_MODULES, ours - LEAF_MODULES
    for leaf in LEAF_MODULES:
        leaf_imports = _imports(ROOT / (leaf.replace(".", "/") + ".py"))
        assert not {name.split(".")[0] for name in leaf_imports} & {
            "ledger", "api", "sqlalchemy", "bot"}, leaf
    assert not {name.split(".")[0] for name in imported} & {"ledger", "api", "sqlalchemy"}
