"""A fake Rasa server speaking POST /model/parse, whose behaviour a test switches at will.

rasa = FakeRasa()
with serve_asgi(rasa.app) as server:
    rasa.mode = "slow"        # "up", "slow", "error" (HTTP 500) or "garbage" (not JSON)
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any, Literal

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

__all__ = ["FakeRasa"]

Mode = Literal["up", "slow", "error", "garbage"]


@dataclass
class FakeRasa:
    mode: Mode = "up"
    intent: str = "check_balance"
    confidence: float = 0.93
    delay_s: float = 1.0
    requests: list[dict[str, Any]] = field(default_factory=list)

    def parse_result(self, text: str) -> dict[str, Any]:
        """What Rasa 3.6 answers: its intent, a ranking and DIET's raw (unnormalised) entities."""
        ranking = [
            {"name": self.intent, "confidence": self.confidence},
            {"name": "greet", "confidence": round(1 - self.confidence, 4)},
        ]
        return {
            "text": text,
            "intent": ranking[0],
            "intent_ranking": ranking,
            "entities": [
                {
                    "entity": "amount",
                    "value": "600 kr",
                    "start": 0,
                    "end": 6,
                    "extractor": "DIETClassifier",
                }
            ],
        }

    async def _parse(self, request: Request) -> Response:
        body = await request.json()
        self.requests.append(body)
        if self.mode == "slow":
            await asyncio.sleep(self.delay_s)
        if self.mode == "error":
            return PlainTextResponse("internal error", status_code=500)
        if self.mode == "garbage":
            return PlainTextResponse("<html>not rasa</html>")
        return JSONResponse(self.parse_result(str(body.get("text", ""))))

    @property
    def app(self) -> Starlette:
        return Starlette(routes=[Route("/model/parse", self._parse, methods=["POST"])])
