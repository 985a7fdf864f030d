"""The log scan (tests/log_scan.py) finds what it must, leaves alone what it must, is wired to
every logger, and fails the run: the last test of the session checks every record so far.

Planted personal data goes through real loggers into an isolated list (``scan.isolated()``),
so the detection is proven end to end without failing the build.
"""

from __future__ import annotations

import logging

import pytest

from tests.log_scan import FINAL_TEST, Finding, LogScan, findings_in, scanner

SECRETS = frozenset({"tg-secret_4f1c9a7e2b", "9f3b2c1d0e4a5b6c7d8e9f0a1b2c3d4e"})


@pytest.mark.parametrize("line", [
    "citizen 0101901234 not found",             # ten digits, valid date
    "cpr=010190-1234",                           # with a dash
    "GET /api/v1/cards/311299 1234 404",         # with a space, and in a URL
    "born 29.02: 2902004234",                    # 29 Feb 2000 (seventh digit 4: 2000s)
    "sms from +4520304050",                      # E.164
    "sms to +45 20 30 40 50 failed",             # spaced
    "recipient 0045 21436587",                   # 0045
    "contact shared: 4551627384",                # as Telegram sends a contact
    "sender=20304050 rate limited",              # eight digits after a personal word
    "tlf: 21 43 65 87",
    "token tg-secret_4f1c9a7e2b rejected",       # a secret from the settings
    "auth 9f3b2c1d0e4a5b6c7d8e9f0a1b2c3d4e",
])
def test_personal_data_and_secrets_are_found(line: str) -> None:
    assert findings_in(line, SECRETS), line


@pytest.mark.parametrize("line", [
    "handled message 17 in conversation 3: intent=check_balance replies=1",
    "telegram update 700000001 failed (1): TypeError",
    "epoch 1732358400 and 1700000000",          # month 32 and month 00: not a date
    "card 48213, cvr 31425360, report 9",       # ids that are not personal
    "message SM000000000000000000000000000000a1 sent",
    "chat 5550001 and chat 7123456789",         # Telegram ids; 71.23 is no date
    "our number +4570203040 and Livslinien 70 201 201",
    "2026-11-23T10:00:00.123456+00:00 took 12.5 ms",
    "[CPR] redacted, +45xxxxxx50 masked",
])
def test_ordinary_log_lines_are_not_findings(line: str) -> None:
    assert findings_in(line, SECRETS, frozenset({"70201201", "70203040"})) == [], line


def test_the_capture_sees_every_logger_level_and_traceback(request: pytest.FixtureRequest) -> None:
    scan = scanner(request.config)
    quiet = logging.getLogger("frikort.log-scan.no-propagation")
    quiet.propagate = False  # not even a handler: the record is still judged
    with scan.isolated() as found:
        logging.getLogger("api.routes.webhooks").info("sms from %s", "+4520304050")
        logging.getLogger("bot.engine").debug("cpr %s", "0101901234")
        quiet.warning("key %s", "9f3b2c1d0e4a5b6c7d8e9f0a1b2c3d4e")
        try:
            raise ValueError("could not parse 010190-1234")
        except ValueError:
            logging.getLogger("ledger").exception("failed")
        logging.getLogger("httpx").info("GET /bot%s/getMe", "7123456789:AAE-x")  # below WARNING
        logging.getLogger("tests.planted").warning("cpr 0101901234")  # a test's own logger
    kinds = [(f.kind, f.logger) for f in found]
    assert ("phone", "api.routes.webhooks") in kinds
    assert ("cpr", "bot.engine") in kinds
    assert ("cpr", "ledger") in kinds  # from the traceback
    assert not any(logger.startswith(("httpx", "tests")) for _, logger in kinds), kinds
    assert all("0101901234" not in f.line and "20304050" not in f.line for f in found)


def test_secrets_of_every_settings_object_are_known(request: pytest.FixtureRequest) -> None:
    from api.settings import Settings

    Settings(_env_file=None, ADMIN_API_KEY="a-fresh-key-for-the-scan-77")
    assert "a-fresh-key-for-the-scan-77" in scanner(request.config).secrets


def test_a_finding_fails_the_session() -> None:
    """The hook that turns findings into a failed run, on a scanner of its own."""
    class Session:
        exitstatus = pytest.ExitCode.OK

    scan = LogScan()
    clean = Session()
    scan.pytest_sessionfinish(clean, 0)  # type: ignore[arg-type]  # a stand-in with the one attribute used
    assert clean.exitstatus == pytest.ExitCode.OK
    scan.findings.append(Finding("cpr", "a test", "api", "INFO", "01********"))
    leaked = Session()
    scan.pytest_sessionfinish(leaked, 0)  # type: ignore[arg-type]  # a stand-in with the one attribute used
    assert leaked.exitstatus == pytest.ExitCode.TESTS_FAILED


def test_an_xdist_worker_hands_its_scan_to_the_controller() -> None:
    """Under pytest-xdist a worker's records and findings fail the run in the controller."""
    output: dict[str, object] = {}

    class Config:
        workeroutput = output

    class Session:
        exitstatus = pytest.ExitCode.OK
        config = Config()

    class Node:
        workeroutput = output

    worker = LogScan()
    worker.records = 3
    worker.findings.append(Finding("cpr", "a test", "api", "INFO", "01********"))
    worker.pytest_sessionfinish(Session(), 0)  # type: ignore[arg-type]  # a stand-in with the attributes used
    controller = LogScan()
    controller.pytest_testnodedown(Node(), None)
    assert controller.records == 3
    assert controller.findings == worker.findings
    finished = Session()
    controller.pytest_sessionfinish(finished, 0)  # type: ignore[arg-type]  # a stand-in with the attributes used
    assert finished.exitstatus == pytest.ExitCode.TESTS_FAILED


def test_no_log_line_of_the_session_leaks(request: pytest.FixtureRequest) -> None:
    """Runs last (tests/log_scan.py moves it to the end of the session)."""
    assert request.node.name == FINAL_TEST
    scan = scanner(request.config)
    assert scan.records > 0, "the capture saw no log record at all"
    assert not scan.findings, "\n".join(str(f) for f in scan.findings[:50])
