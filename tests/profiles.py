"""Hypothesis profiles, chosen with HYPOTHESIS_PROFILE:

    ci    Hypothesis's own CI profile (derandomized, no deadline), as thorough as before; loaded
          by Hypothesis itself when CI is set, so `make test` in CI runs it unasked
    dev   the quick loop (`make test-fast`): a fifth of the examples

Unset, Hypothesis decides as it always did (ci when CI is set, else its default profile). Tests
that set their own number of examples take it through `examples(n)`, so `dev` scales them too.
"""

from __future__ import annotations

import os

from hypothesis import settings

DEV = "dev"
_DEV_SHARE = 5

settings.register_profile(DEV, max_examples=100 // _DEV_SHARE)


def load() -> None:
    """Loads the profile HYPOTHESIS_PROFILE names, if any (tests/conftest.py, at import)."""
    name = os.environ.get("HYPOTHESIS_PROFILE", "").strip()
    if name:
        settings.load_profile(name)


def examples(thorough: int) -> int:
    """`thorough` examples, or a fifth of them (at least two) under the dev profile."""
    if os.environ.get("HYPOTHESIS_PROFILE", "").strip() == DEV:
        return max(thorough // _DEV_SHARE, 2)
    return thorough
