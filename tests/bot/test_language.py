"""bot/language.py: English is recognised by its common words, Danish and short messages are not."""

from __future__ import annotations

import pytest

from bot.language import looks_english


@pytest.mark.parametrize("text", [
    "can you answer in english please",
    "i dont understand danish well",
    "who can see this chat",
    "do i lose my money if i work",
])
def test_english_messages_are_recognised(text: str) -> None:
    assert looks_english(text)


@pytest.mark.parametrize("text", [
    "hvor meget må jeg tjene",
    "kan jeg arbejde i netto",
    "ok tak",                      # too short to tell
    "jeg vil have job i aarhus",
    "jeg har et job hos en bar i aarhus",
])
def test_danish_and_short_messages_are_not(text: str) -> None:
    assert not looks_english(text)
