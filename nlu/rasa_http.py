"""Rasa as a drop-in intent backend: POST {RASA_URL}/model/parse over one pooled httpx client.

Intents come from Rasa (its pipeline should end with a FallbackClassifier); entities always come
from our rule-based extractors, because their values are normalised and DIET's are raw text.
When Rasa is down, slow or answers garbage, the embedded parser answers instead and a warning
is logged (never with the message text); Rasa is then left alone for `retry_after_s`.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from typing import Any

import httpx

from nlu.entities import extract_entities
from nlu.errors import RasaUnavailable
from nlu.types import (
    IntentPrediction,
    Parser,
    ParseResult,
    ResponseRanking,
    ResponseSelectorResult,
    response_selector,
)

__all__ = ["RasaHttpParser"]

logger = logging.getLogger(__name__)


def _prediction(raw: Any) -> IntentPrediction:
    if not isinstance(raw, dict) or not isinstance(raw.get("name"), str):
        raise RasaUnavailable("Rasa answered an intent without a name")
    confidence = raw.get("confidence")
    if not isinstance(confidence, int | float) or isinstance(confidence, bool):
        raise RasaUnavailable("Rasa answered an intent without a numeric confidence")
    return IntentPrediction(name=raw["name"], confidence=float(confidence))


def _selector(body: dict[str, Any]) -> ResponseSelectorResult | None:
    """Rasa's `response_selector.default` read into our shape; missing or malformed → None
    (the bot then picks the answer by keywords, as before retrieval intents)."""
    raw = body.get("response_selector")
    default = raw.get("default") if isinstance(raw, dict) else None
    items = default.get("ranking") if isinstance(default, dict) else None
    if not isinstance(items, list):
        return None
    ranking = []
    for item in items:
        key = item.get("intent_response_key") if isinstance(item, dict) else None
        confidence = item.get("confidence") if isinstance(item, dict) else None
        if isinstance(key, str) and isinstance(confidence, int | float):
            ranking.append(ResponseRanking(intent_response_key=key, confidence=float(confidence)))
    ranking.sort(key=lambda r: r["confidence"], reverse=True)
    intents = raw.get("all_retrieval_intents") if isinstance(raw, dict) else None
    return response_selector(ranking, [str(i) for i in intents or []])


class RasaHttpParser:
    """Parser backed by a Rasa server, with an optional local fallback parser.

    Usage:
        parser = RasaHttpParser("http://127.0.0.1:5005", timeout_s=2.0, fallback=embedded)
        parser.parse("saldo?")
        parser.close()
    """

    def __init__(
        self,
        base_url: str,
        *,
        timeout_s: float = 2.0,
        fallback: Parser | None = None,
        retry_after_s: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.fallback = fallback
        self.retry_after_s = retry_after_s
        self._down_until = 0.0
        self._lock = threading.Lock()
        self._client = httpx.Client(
            base_url=base_url.rstrip("/"),
            timeout=httpx.Timeout(timeout_s, connect=min(timeout_s, 1.0)),
            limits=httpx.Limits(max_connections=20, max_keepalive_connections=10),
            transport=transport,
        )

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> RasaHttpParser:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def rasa_parse(self, text: str) -> tuple[IntentPrediction, list[IntentPrediction]]:
        """Rasa's intent and ranking for `text`."""
        intent, ranking, _ = self.rasa_parse_all(text)
        return intent, ranking

    def rasa_parse_all(
        self, text: str
    ) -> tuple[IntentPrediction, list[IntentPrediction], ResponseSelectorResult | None]:
        """Rasa's intent, ranking and response selection (its ResponseSelector) for `text`.

        Raises:
            RasaUnavailable: connection refused, timeout, non-200 status or a malformed body.
        """
        try:
            response = self._client.post("/model/parse", json={"text": text})
        except httpx.TimeoutException as exc:
            raise RasaUnavailable(f"timed out ({type(exc).__name__})") from exc
        except httpx.HTTPError as exc:
            raise RasaUnavailable(f"request failed ({type(exc).__name__})") from exc
        if response.status_code != 200:
            raise RasaUnavailable(f"HTTP {response.status_code}")
        try:
            body = response.json()
        except ValueError as exc:
            raise RasaUnavailable("response is not JSON") from exc
        if not isinstance(body, dict):
            raise RasaUnavailable("response is not a JSON object")
        intent = _prediction(body.get("intent"))
        ranking_raw = body.get("intent_ranking") or [intent]
        if not isinstance(ranking_raw, list):
            raise RasaUnavailable("intent_ranking is not a list")
        return intent, [_prediction(item) for item in ranking_raw], _selector(body)

    def parse(self, text: str, today: dt.date | None = None) -> ParseResult:
        """Parse with Rasa, or with the fallback parser when Rasa is unavailable."""
        if self.fallback is not None and time.monotonic() < self._down_until:
            return self.fallback.parse(text, today)
        try:
            intent, ranking, selected = self.rasa_parse_all(text)
        except RasaUnavailable as exc:
            if self.fallback is None:
                raise
            with self._lock:
                self._down_until = time.monotonic() + self.retry_after_s
            # The reason only: the message text may contain personal data.
            logger.warning("Rasa unavailable (%s); using the embedded classifier", exc)
            return self.fallback.parse(text, today)
        result = ParseResult(
            text=text,
            intent=intent,
            intent_ranking=ranking,
            entities=extract_entities(text, today),
        )
        if selected is not None:
            result["response_selector"] = selected
        return result
