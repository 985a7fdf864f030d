"""REST routes under /api/v1: each parses, builds one ledger command, and maps the result."""
