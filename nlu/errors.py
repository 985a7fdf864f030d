"""NLU errors, one root so callers can catch everything the NLU raises.

* NluError
  + TrainingDataError   (also ValueError) a training file is unreadable or has malformed blocks
  + ModelError          the embedded model cannot be trained or loaded
  + RasaUnavailable     the Rasa server is down, slow or answered garbage
"""

from __future__ import annotations


class NluError(Exception):
    """Base class for every error raised by the nlu package."""


class TrainingDataError(NluError, ValueError):
    """A training-data file cannot be used; the message always names the file."""

    def __init__(self, filename: str, problem: str) -> None:
        self.filename = filename
        self.problem = problem
        super().__init__(f"Issue found while processing '{filename}': {problem}")


class ModelError(NluError):
    """The embedded model cannot be trained (e.g. no data) or its cache is unusable."""


class RasaUnavailable(NluError):
    """Rasa did not give a usable answer; the reason never contains the message text."""
