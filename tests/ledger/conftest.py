"""The `env` fixture: a fresh ledger per test that must still hold every invariant at the end."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.ledger.support import Env, make_env


@pytest.fixture
def env(db_url: str) -> Iterator[Env]:
    environment = make_env(db_url)
    yield environment
    try:
        assert environment.ledger.check_invariants() == []
    finally:
        environment.ledger.close()
