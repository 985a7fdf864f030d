"""The log scan: every log record of the test session is checked for personal data and secrets,
and a finding fails the run.

How it works
------------
* Capture. ``install(config)`` (called from tests/conftest.py) wraps
  ``logging.Logger.callHandlers``, the one place every record passes once it is past its
  logger's level, whatever handlers exist and whether or not it propagates (pytest's capture,
  uvicorn's own loggers and a test that replaces the root handlers cannot hide a record).
  The record is judged after the handlers ran: where the production redaction filter of
  api/logging_setup.py is installed (as in the server) that is the line as written;
  everywhere else it is the raw message, so the code itself must keep personal data out.
  The traceback of a logged exception is judged too.
* Levels. During the session the root logger is at INFO (the production default LOG_LEVEL)
  and the app's own loggers (api, bot, ledger, nlu) at DEBUG; ``httpx`` stays at WARNING as in
  production (it logs every request URL at INFO, with the Telegram bot token in it).
  Third-party DEBUG lines are not scanned: production never writes them.
* What counts as a finding (`findings_in`):
  - a CPR number: ten digits, with or without a dash or space after the sixth, that start with
    a real date (day and month valid for the century the seventh digit gives);
  - a full Danish phone number in a personal context: any +45 / 0045 number (with or without
    spaces), 45 and eight digits as Telegram shares a contact, or eight digits after a word
    like "from", "to", "sender", "phone", "tlf" or "recipient". The service's own numbers
    (TWILIO_FROM_NUMBER of the test settings, 112, Livslinien) are not personal;
  - a secret: the value of any SecretStr field of any Settings object built during the session
    (tests build many, each with its own keys), and the development keys; at least 8 characters.
* Failing the build. ``tests/test_log_scan.py::test_no_log_line_of_the_session_leaks`` runs last
  (moved to the end of the collection) and fails with the findings so far; at session end
  ``pytest_sessionfinish`` sets the exit status to "tests failed" if there are any at all
  (records logged after that test, or a run that did not collect it), and the terminal
  summary lists them. Under pytest-xdist every worker scans its own records and sends its
  count and findings to the controller, which fails the run and prints the summary. The
  report shows where (test, logger, level) and the line with the personal data masked, so
  the CI log does not repeat it.
* A test that must log personal data on purpose (a redaction test) logs through a logger named
  ``tests.*``, or is marked ``@pytest.mark.log_scan_exempt``.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import astuple, dataclass
from typing import Any

import pytest

APP_LOGGERS = ("api", "bot", "ledger", "nlu")
PRODUCTION_LEVELS = {"httpx": logging.WARNING}
"""Loggers api/logging_setup.configure_logging quiets in production."""
PUBLIC_NUMBERS = frozenset({"70201201"})
"""Eight-digit numbers that are nobody's personal number (Livslinien); the service's own
TWILIO_FROM_NUMBER of every Settings object is added as it is built."""
FINAL_TEST = "test_no_log_line_of_the_session_leaks"
WORKER_OUTPUT = "frikort_log_scan"
"""Key of a pytest-xdist worker's scan in the output it sends its controller."""

# --- detectors -------------------------------------------------------------------------------

_CPR = re.compile(r"(?<![\w+])(\d{2})(\d{2})(\d{2})[- ]?(\d)(\d{3})(?![\w])")
_DK_PHONE = re.compile(r"(?<![\w])(?:\+|00)\s?45[\s-]?((?:\d[\s-]?){7}\d)(?!\d)")
_TELEGRAM_CONTACT = re.compile(r"(?<![\w+])45(\d{8})(?!\d)")
_CONTEXT_PHONE = re.compile(
    r"(?i)\b(?:from|to|sender|recipient|phone|tlf|telefon|mobil|mobile|afsender|modtager|"
    r"address|nummer|number)\b[\s:=\"'(]{0,4}((?:\d[\s-]?){7}\d)(?!\d)")


def _cpr_century(year: int, seventh: int) -> int:
    """The century of a CPR number's birth year, from its seventh digit (CPR-kontoret's rule)."""
    if seventh <= 3:
        return 1900
    if seventh in (4, 9):
        return 2000 if year <= 36 else 1900
    return 2000 if year <= 57 else 1800


def is_cpr(match: re.Match[str]) -> bool:
    day, month, year, seventh = (int(match.group(i)) for i in range(1, 5))
    try:
        dt.date(_cpr_century(year, seventh) + year, month, day)
    except ValueError:
        return False
    return True


def findings_in(line: str, secrets: frozenset[str] = frozenset(),
                not_personal: frozenset[str] = PUBLIC_NUMBERS) -> list[tuple[str, str]]:
    """(kind, what matched) for every CPR number, personal phone number and secret in `line`."""
    found: list[tuple[str, str]] = []
    found += [("cpr", m.group()) for m in _CPR.finditer(line) if is_cpr(m)]
    for pattern in (_DK_PHONE, _TELEGRAM_CONTACT, _CONTEXT_PHONE):
        for match in pattern.finditer(line):
            digits = re.sub(r"\D", "", match.group(1))
            if len(digits) == 8 and digits not in not_personal:
                found.append(("phone", match.group()))
    found += [("secret", secret) for secret in secrets if secret in line]
    return found


def mask(line: str, matched: str) -> str:
    """The line with the match shown by its first two characters only."""
    return line.replace(matched, matched[:2] + "*" * max(len(matched) - 2, 0))[:300]


# --- the session's scanner -------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    kind: str
    test: str
    logger: str
    level: str
    line: str
    """Masked."""

    def __str__(self) -> str:
        return f"{self.kind} in {self.level} {self.logger} during {self.test or '(no test)'}: " \
               f"{self.line}"


class LogScan:
    """Collects findings from every record; see the module docstring."""

    def __init__(self) -> None:
        self.findings: list[Finding] = []
        self.records = 0
        self.secrets: set[str] = set()
        self.not_personal: set[str] = set(PUBLIC_NUMBERS)
        self.current_test = ""
        self.exempt = False
        self._isolated: list[Finding] | None = None
        self._lock = threading.Lock()
        self._original_call_handlers: Any = None
        self._levels: dict[str, int] = {}

    # Secrets ---------------------------------------------------------------------------------

    def add_secrets_of(self, settings: Any) -> None:
        from pydantic import SecretStr

        for name in type(settings).model_fields:
            value = getattr(settings, name, None)
            if isinstance(value, SecretStr) and len(value.get_secret_value()) >= 8:
                with self._lock:
                    self.secrets.add(value.get_secret_value())
        own_number = re.sub(r"\D", "", str(getattr(settings, "TWILIO_FROM_NUMBER", "") or ""))
        if own_number.startswith("45") and len(own_number) == 10:
            with self._lock:
                self.not_personal.add(own_number[2:])

    # Capture ---------------------------------------------------------------------------------

    def check(self, record: logging.LogRecord) -> None:
        if self.exempt or record.name == "tests" or record.name.startswith("tests."):
            return
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: judge what there is
            message = f"{record.msg} {record.args!r}"
        parts = [message]
        if record.exc_text:
            parts.append(record.exc_text)
        elif record.exc_info:
            parts.append(logging.Formatter().formatException(record.exc_info))
        if record.stack_info:
            parts.append(record.stack_info)
        line = "\n".join(parts)
        with self._lock:
            self.records += 1
            secrets, not_personal = frozenset(self.secrets), frozenset(self.not_personal)
        for kind, matched in findings_in(line, secrets, not_personal):
            finding = Finding(kind, self.current_test, record.name, record.levelname,
                              mask(line, matched))
            with self._lock:
                (self._isolated if self._isolated is not None else self.findings).append(finding)

    def start(self) -> None:
        scan = self
        original = logging.Logger.callHandlers
        self._original_call_handlers = original

        def call_handlers(logger: logging.Logger, record: logging.LogRecord) -> None:
            original(logger, record)
            scan.check(record)

        logging.Logger.callHandlers = call_handlers  # type: ignore[method-assign, assignment]  # patched for the run, undone in stop()
        root = logging.getLogger()
        self._levels[""] = root.level
        if root.level == logging.NOTSET or root.level > logging.INFO:
            root.setLevel(logging.INFO)
        for name in APP_LOGGERS:
            self._levels[name] = logging.getLogger(name).level
            logging.getLogger(name).setLevel(logging.DEBUG)
        for name, level in PRODUCTION_LEVELS.items():
            self._levels[name] = logging.getLogger(name).level
            logging.getLogger(name).setLevel(level)

    def stop(self) -> None:
        if self._original_call_handlers is not None:
            logging.Logger.callHandlers = self._original_call_handlers  # type: ignore[method-assign]  # puts the original back
            self._original_call_handlers = None
        for name, level in self._levels.items():
            logging.getLogger(name or None).setLevel(level)

    @contextmanager
    def isolated(self) -> Iterator[list[Finding]]:
        """For the scan's own tests: findings go to the yielded list, not the session's."""
        with self._lock:
            self._isolated = []
            isolated = self._isolated
        try:
            yield isolated
        finally:
            with self._lock:
                self._isolated = None

    # pytest hooks (the scanner is registered as a plugin) -------------------------------------

    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        last = [item for item in items if item.name == FINAL_TEST]
        items[:] = [item for item in items if item.name != FINAL_TEST] + last

    def pytest_runtest_logstart(self, nodeid: str) -> None:
        self.current_test = nodeid

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_protocol(self, item: pytest.Item) -> Iterator[None]:
        self.exempt = item.get_closest_marker("log_scan_exempt") is not None
        try:
            yield
        finally:
            self.exempt = False

    def pytest_runtest_logfinish(self, nodeid: str) -> None:
        self.current_test = ""

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        worker_output = getattr(getattr(session, "config", None), "workeroutput", None)
        if worker_output is not None:  # a pytest-xdist worker: hand the scan to the controller
            worker_output[WORKER_OUTPUT] = {
                "records": self.records, "findings": [astuple(f) for f in self.findings]}
        if self.findings and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: object) -> None:
        """pytest-xdist's controller: a worker finished; its records and findings count here,
        so the run fails (and the summary lists them) whichever worker saw them."""
        scanned = getattr(node, "workeroutput", {}).get(WORKER_OUTPUT)
        if scanned:
            with self._lock:
                self.records += int(scanned["records"])
                self.findings.extend(Finding(*fields) for fields in scanned["findings"])

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if not self.findings:
            terminalreporter.write_line(
                f"log scan: {self.records} log records, no CPR number, personal phone number "
                "or secret")
            return
        terminalreporter.section("log scan: personal data or secrets in log lines", red=True)
        for finding in self.findings[:50]:
            terminalreporter.write_line(str(finding))
        if len(self.findings) > 50:
            terminalreporter.write_line(f"... and {len(self.findings) - 50} more")
        terminalreporter.write_line("The run fails because of these (tests/log_scan.py).",
                                    red=True)

    def pytest_unconfigure(self) -> None:
        self.stop()


SCAN_KEY = pytest.StashKey[LogScan]()


def install(config: pytest.Config) -> LogScan:
    """Starts the scan for this session and registers its hooks; idempotent."""
    if SCAN_KEY in config.stash:
        return config.stash[SCAN_KEY]
    config.addinivalue_line(
        "markers", "log_scan_exempt: this test logs personal data on purpose (not scanned)")
    scan = LogScan()
    config.stash[SCAN_KEY] = scan
    _collect_settings_secrets(scan)
    scan.start()
    config.pluginmanager.register(scan, "frikort-log-scan")
    return scan


def _collect_settings_secrets(scan: LogScan) -> None:
    """Every Settings object built during the session adds its secrets (and the defaults are
    the development keys)."""
    from api.settings import Settings

    original = Settings.__init__
    if getattr(original, "_log_scan", False):
        return

    def init(self: Settings, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        scan.add_secrets_of(self)

    init._log_scan = True  # type: ignore[attr-defined]  # marks the patch as ours
    Settings.__init__ = init  # type: ignore[method-assign, assignment]  # patched to learn every Settings' secrets
    scan.add_secrets_of(Settings(_env_file=None))


def scanner(config: pytest.Config) -> LogScan:
    return config.stash[SCAN_KEY]
