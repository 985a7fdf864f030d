"""Persistence for the ledger: table mappings, engines, migrations. Internal to `ledger`."""
