"""The service layer: one function per command, each given an open unit of work.

Functions commit themselves when they succeed (as in cosmicpython's handlers); anything
raised before that leaves the database as it was.
"""
