"""The Rasa backend against a real HTTP server on loopback: up, down, slow, 500, garbage."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from nlu import NluConfig, RasaHttpParser, RasaUnavailable, load_embedded_parser, load_parser
from nlu.parser import ClassifierParser
from tests.fakes.http_server import RunningServer, closed_port, serve_asgi
from tests.fakes.rasa_api import FakeRasa
from tests.nlu.conftest import MONDAY

SECRET_TEXT = "mit cpr er 010190-1234 og jeg vil indberette 600 kr"


@pytest.fixture
def rasa() -> FakeRasa:
    return FakeRasa(delay_s=0.5)


@pytest.fixture
def rasa_server(rasa: FakeRasa) -> Iterator[RunningServer]:
    with serve_asgi(rasa.app) as server:
        yield server


@pytest.fixture
def embedded(tiny_data: Path, tmp_path: Path) -> ClassifierParser:
    return load_embedded_parser(NluConfig(data_dir=tiny_data, cache_dir=tmp_path / "cache"))


def test_up_intents_from_rasa_entities_from_our_rules(
    rasa: FakeRasa, rasa_server: RunningServer, embedded: ClassifierParser
) -> None:
    with RasaHttpParser(rasa_server.url, timeout_s=2.0, fallback=embedded) as parser:
        result = parser.parse("hej, 4 timer 600 kr frikort 48213", MONDAY)
    assert rasa.requests == [{"text": "hej, 4 timer 600 kr frikort 48213"}]
    assert result["intent"] == {"name": "check_balance", "confidence": 0.93}
    assert [r["name"] for r in result["intent_ranking"]] == ["check_balance", "greet"]
    assert [(e["entity"], e["value"], e["extractor"]) for e in result["entities"]] == [
        ("hours", "4", "rule_based"),
        ("amount", "600.00", "rule_based"),
        ("card_number", "48213", "rule_based"),
    ]


def test_client_is_reused_across_requests(rasa: FakeRasa, rasa_server: RunningServer) -> None:
    with RasaHttpParser(rasa_server.url) as parser:
        for _ in range(3):
            assert parser.parse("saldo")["intent"]["name"] == "check_balance"
    assert len(rasa.requests) == 3


def _assert_fell_back(
    parser: RasaHttpParser, caplog: pytest.LogCaptureFixture, reason: str
) -> None:
    with caplog.at_level(logging.WARNING, logger="nlu.rasa_http"):
        result = parser.parse(SECRET_TEXT, MONDAY)
    # The tiny embedded model knows no check_balance, so the answer visibly came from it.
    assert result["intent"]["name"] != "check_balance"
    assert [e["entity"] for e in result["entities"]] == ["cpr", "amount"]
    messages = [r.getMessage() for r in caplog.records if r.name == "nlu.rasa_http"]
    assert len(messages) == 1 and reason in messages[0]
    assert "010190" not in messages[0] and "600" not in messages[0]


def test_down_falls_back_to_embedded(
    embedded: ClassifierParser, caplog: pytest.LogCaptureFixture
) -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    with RasaHttpParser(url, timeout_s=1.0, fallback=embedded) as parser:
        _assert_fell_back(parser, caplog, "request failed")


def test_slow_falls_back_to_embedded(
    rasa: FakeRasa,
    rasa_server: RunningServer,
    embedded: ClassifierParser,
    caplog: pytest.LogCaptureFixture,
) -> None:
    rasa.mode = "slow"
    with RasaHttpParser(rasa_server.url, timeout_s=0.2, fallback=embedded) as parser:
        _assert_fell_back(parser, caplog, "timed out")


@pytest.mark.parametrize(("mode", "reason"), [("error", "HTTP 500"), ("garbage", "not JSON")])
def test_bad_answers_fall_back_to_embedded(
    rasa: FakeRasa,
    rasa_server: RunningServer,
    embedded: ClassifierParser,
    caplog: pytest.LogCaptureFixture,
    mode: str,
    reason: str,
) -> None:
    rasa.mode = mode  # type: ignore[assignment]  # one of the parametrized FakeRasa modes
    with RasaHttpParser(rasa_server.url, fallback=embedded) as parser:
        _assert_fell_back(parser, caplog, reason)


def test_after_a_failure_rasa_is_left_alone_then_retried(
    rasa: FakeRasa, rasa_server: RunningServer, embedded: ClassifierParser
) -> None:
    rasa.mode = "error"
    with RasaHttpParser(rasa_server.url, fallback=embedded, retry_after_s=60) as parser:
        parser.parse("saldo")
        parser.parse("saldo")
        assert len(rasa.requests) == 1  # the second message did not wait for a broken Rasa
    rasa.mode = "up"
    with RasaHttpParser(rasa_server.url, fallback=embedded, retry_after_s=0) as parser:
        rasa.mode = "error"
        parser.parse("saldo")
        rasa.mode = "up"
        assert parser.parse("saldo")["intent"]["name"] == "check_balance"


@pytest.mark.parametrize("mode", ["error", "garbage", "slow"])
def test_without_fallback_failures_raise(
    rasa: FakeRasa, rasa_server: RunningServer, mode: str
) -> None:
    rasa.mode = mode  # type: ignore[assignment]  # one of the parametrized FakeRasa modes
    with RasaHttpParser(rasa_server.url, timeout_s=0.2) as parser, pytest.raises(RasaUnavailable):
        parser.parse("saldo")


def test_down_without_fallback_raises() -> None:
    with RasaHttpParser(f"http://127.0.0.1:{closed_port()}") as parser:
        with pytest.raises(RasaUnavailable):
            parser.parse("saldo")


def test_load_parser_builds_rasa_with_embedded_fallback(
    rasa_server: RunningServer, tiny_data: Path, tmp_path: Path
) -> None:
    config = NluConfig(
        backend="rasa", rasa_url=rasa_server.url, data_dir=tiny_data, cache_dir=tmp_path
    )
    parser = load_parser(config)
    assert isinstance(parser, RasaHttpParser)
    assert isinstance(parser.fallback, ClassifierParser)
    assert parser.parse("hej")["intent"]["name"] == "check_balance"
    parser.close()
