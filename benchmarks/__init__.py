"""Benchmarks: scripts that print figures, not tests (`python -m benchmarks.ledger`)."""
