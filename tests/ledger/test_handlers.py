"""The command registry: every ledger command has exactly one handler, and the facade and a
conversation turn run a command through the same registry with the same result."""

from __future__ import annotations

import inspect
from types import ModuleType
from typing import Any

import pytest
import sqlalchemy as sa

from db.commands import Actor, Command
from db.observe import LedgerObserver
from db.handlers import CommandHandlers, DuplicateHandler, UnknownCommand
from ledger import commands as ledger_commands
from smalljobs import commands as smalljobs_commands
from ledger import reads
from ledger.commands import SetCap, VerifyEmployer
from ledger.errors import EmployerNotFound
from ledger.handlers import ledger_handlers
from ledger.results import CapResult
from tests.ledger.support import ADMIN, Env, valid_cvr, wage


def _command_types(module: ModuleType) -> list[type[Command[Any]]]:
    """The command classes a module declares (pydantic also files each parametrised base,
    `Command[CardResult]`, in the module: those are not commands)."""
    return [value for name, value in inspect.getmembers(module, inspect.isclass)
            if issubclass(value, Command) and value.__module__ == module.__name__
            and "[" not in name]


def _names(commands: list[type[Command[Any]]]) -> list[str]:
    return sorted(c.__name__ for c in commands)


def test_every_ledger_command_has_a_handler() -> None:
    declared = _command_types(ledger_commands)
    assert len(declared) >= 14
    assert _names(declared) == _names(ledger_handlers().commands())


def test_the_composition_root_registers_every_command_of_every_domain(env: Env) -> None:
    declared = _command_types(ledger_commands) + _command_types(smalljobs_commands)
    assert len(declared) >= 23
    assert _names(declared) == _names(env.ledger.handlers.commands())


def test_a_second_handler_for_one_command_is_refused() -> None:
    handlers = ledger_handlers()
    with pytest.raises(DuplicateHandler):
        handlers.add(SetCap, lambda cmd, *, uow, actor: None)


def test_a_command_nobody_handles_is_refused_before_any_work(env: Env) -> None:
    class Unheard(Command[None]):
        pass

    handlers = CommandHandlers()
    with pytest.raises(UnknownCommand, match="Unheard"):
        env.ledger.kernel.run_read(lambda uow: handlers.handle(Unheard(), uow, ADMIN))
    with pytest.raises(UnknownCommand, match="Unheard"):
        env.ledger.execute(Unheard(), actor=ADMIN)


def test_the_facade_runs_any_command_through_the_registry(env: Env) -> None:
    result = env.ledger.execute(SetCap(year=2030, amount_ore=50_000_00, source="test source"),
                                actor=ADMIN)
    assert isinstance(result, CapResult)
    assert [c.amount_ore for c in env.ledger.caps() if c.year == 2030] == [50_000_00]
    with pytest.raises(EmployerNotFound):
        env.ledger.execute(VerifyEmployer(cvr=valid_cvr(999)), actor=ADMIN)


class _Recorder(LedgerObserver):
    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []

    def command_succeeded(self, command: str, result: object) -> None:
        self.seen.append((command, "ok"))

    def command_refused(self, command: str, code: str) -> None:
        self.seen.append((command, code))


def test_a_turn_runs_a_command_as_the_facade_does_and_a_refusal_undoes_only_it(
        env: Env) -> None:
    actor = Actor(name="sms:+4512345678", channel="sms")
    recorder = _Recorder()
    env.ledger.observer = recorder
    stranger = valid_cvr(998)

    def in_turn(turn: Any) -> tuple[int, int]:
        report = turn.execute(wage(env.cvr, env.card, 500_00, "turn-1"), actor)
        with pytest.raises(EmployerNotFound):
            turn.execute(wage(stranger, env.card, 1_00, "turn-2"), actor)
        seen = turn.within(lambda uow: reads.balance(uow, env.card))
        return report.counted_ore, seen.pending_ore + seen.posted_ore

    counted, seen_in_turn = env.ledger.conversations.turn("sms", "+4512345678", in_turn)
    assert counted == 500_00 and seen_in_turn == 500_00
    balance = env.ledger.balance(env.card)
    assert balance.pending_ore + balance.posted_ore == 500_00
    assert recorder.seen == [("ReportWage", "ok"), ("ReportWage", "employer_not_found")]


def test_in_a_turn_the_card_and_its_balance_are_one_select_and_see_the_turns_writes(
        env: Env) -> None:
    """`ledger.reads.card_year` reads the card and a year's balance in one SELECT (a holder's
    FAQ and SALDO need both); read after a report in the same turn, it shows the report; another
    year is its own SELECT."""
    actor = Actor(name="sms:+4512345678", channel="sms")
    statements: list[str] = []

    def count(conn: object, cursor: object, statement: str, *_: object) -> None:
        statements.append(statement)

    def in_turn(turn: Any) -> tuple[int, int, int]:
        sa.event.listen(sa.engine.Engine, "before_cursor_execute", count)
        try:
            card, first = turn.within(lambda uow: reads.card_year(uow, env.card))
            paired = len(statements)
            turn.execute(wage(env.cvr, env.card, 500_00, "held-1"), actor)
            _, after = turn.within(lambda uow: reads.card_year(uow, f" {env.card} "))
            before_year = len(statements)
            last_year = turn.within(lambda uow: reads.balance(uow, env.card, turn.today.year - 1))
            assert len(statements) == before_year + 1, "another year is a SELECT of its own"
        finally:
            sa.event.remove(sa.engine.Engine, "before_cursor_execute", count)
        assert card.number == env.card == first.card_number and last_year.used_ore == 0
        assert last_year.year == turn.today.year - 1
        return paired, first.used_ore, after.used_ore

    paired, before, after = env.ledger.conversations.turn("sms", "+4512345678", in_turn)
    assert paired == 1, "the card and its balance are one SELECT"
    assert (before, after) == (0, 500_00)
