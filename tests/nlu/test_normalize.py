from __future__ import annotations

import pytest

from nlu.normalize import fold_danish, normalize, number_shape


@pytest.mark.parametrize(
    ("written", "same_as"),
    [
        ("Hvor meget MÅ jeg tjene?", "hvor meget maa jeg tjene?"),
        ("kan jeg få frikort", "kan jeg faa frikort"),
        ("Hvad sker der hvis jeg tjener for meget", "hvad sker der hvis jeg tjener for meget"),
        ("førtidspension", "foertidspension"),
        ("ÆBLE", "aeble"),
        ("hejjjjjj", "hejj"),
        ("tak!!!", "tak!!"),
        ("café", "cafe"),
    ],
)
def test_spellings_meet(written: str, same_as: str) -> None:
    assert normalize(written) == normalize(same_as)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("indberet 4 timer 600 kr frikort 48213", "indberet 0 timer 000 kr frikort 00000"),
        ("1.250,50 kr.", "0.000,00 kr"),
        ("ok, tak.", "ok tak"),
        ("hej 👋", "hej 👋"),
        ("  mange   tak  ", "mange tak"),
        ("", ""),
    ],
)
def test_normalize(text: str, expected: str) -> None:
    assert normalize(text) == expected


def test_amounts_look_alike_to_the_model() -> None:
    assert normalize("600 kr") == normalize("450 kr")


def test_number_shape_and_fold() -> None:
    assert number_shape("48213") == "00000"
    assert fold_danish("Æ Ø Å é") == "ae oe aa e"
