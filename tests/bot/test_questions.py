"""The questions in a message: several asked at once, or one asked at the end of a story."""

import pytest

from bot.questions import last_question, questions_in


def test_two_questions_are_both_found() -> None:
    found = questions_in("hvor meget må jeg tjene, og mister jeg min boligstøtte?")
    assert len(found) == 2


@pytest.mark.parametrize(("text", "question"), [
    ("ryggen er helt død haha, men det var en god dag, hvor meget har jeg egentlig tjent indtil nu",
     "hvor meget har jeg egentlig tjent indtil nu"),
    ("sidste arbejdsgiver sagde nej tak. er der andre steder der søger folk her omkring",
     "er der andre steder der soger folk her omkring"),
])
def test_the_question_a_story_ends_with(text: str, question: str) -> None:
    assert last_question(text) == question


@pytest.mark.parametrize("text", [
    "hvor meget har jeg tjent",  # one clause: the whole message is the question
    "min printer er gået i stykker, hvad skal jeg gøre",  # too short to mean anything alone
    "jeg har arbejdet i fredags. det var en god dag",  # no question at all
])
def test_no_last_question(text: str) -> None:
    assert last_question(text) is None
