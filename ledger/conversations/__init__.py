"""Conversation storage used by the bot through `ledger.turn.Turn`."""
