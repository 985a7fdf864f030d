"""`python -m benchmarks.load`: the load harness (see benchmarks/load/__init__.py)."""

from __future__ import annotations

import sys

from benchmarks.load.options import parse_options
from benchmarks.load.report import publish, render
from benchmarks.load.run import run


def main(argv: list[str] | None = None) -> int:
    """Prints the report on stdout; exits 1 when any message failed (the report says so)."""
    options = parse_options(argv)
    report = run(options)
    text = render(report)
    publish(text, options.markdown)
    return 1 if report.errors else 0


if __name__ == "__main__":
    sys.exit(main())
