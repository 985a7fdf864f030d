"""Fault tests: the real server killed, restarted and cut off from its provider under load."""
