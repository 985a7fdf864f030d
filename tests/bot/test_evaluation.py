"""How the answer evaluation counts: the unit is the answer the person was shown."""

from __future__ import annotations

from api.answer_world import employer_versions
from bot.evaluation import AnswerCase, Played, score
from bot.knowledge import load_knowledge


def _case(sender: str, expect: str) -> AnswerCase:
    return AnswerCase(sender=sender, text="hvad hvis han tjener over grænsen", expect=(expect,))


def test_an_employers_version_of_an_answer_counts_as_that_answer() -> None:
    versions = employer_versions(load_knowledge())
    assert "faq_exceed/general" in versions["employer_faq_payroll/over_cap"]
    shown = Played(_case("cafe", "faq_exceed/general"), "employer_faq_payroll/over_cap", "",
                   stands_for=versions["employer_faq_payroll/over_cap"])
    assert shown.right


def test_another_answer_is_still_wrong() -> None:
    versions = employer_versions(load_knowledge())
    played = [
        Played(_case("cafe", "faq_hours/general"), "employer_faq_payroll/over_cap", "",
               stands_for=versions["employer_faq_payroll/over_cap"]),
        Played(_case("cafe", "faq_exceed/general"), "faq_exceed/general", ""),
    ]
    report = score(played)
    assert report["accuracy"] == 0.5
    assert report["wrong"][0]["got"] == "employer_faq_payroll/over_cap"
