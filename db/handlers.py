"""One registry from command type to handler, so every caller runs a command the same way.

A domain package fills a `CommandHandlers` with its own handlers (`ledger/handlers.py`); the
composition root hands it to whoever runs commands: the `Ledger` facade, each in a unit of
work of its own, and a conversation `Turn`, in a savepoint of the turn's transaction. Neither
needs to know which function handles which command, and the result stays typed: a
`Command[R]` comes back as an `R`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, TypeVar, cast

from db.commands import Actor, Command

if TYPE_CHECKING:
    from db.unit_of_work import UnitOfWork

C = TypeVar("C", bound=Command[Any], contravariant=True)
R = TypeVar("R")
R_co = TypeVar("R_co", covariant=True)


class Handler(Protocol[C, R_co]):
    """A command's handler: does the work in `uow`, writes the audit line as `actor`."""

    def __call__(self, cmd: C, /, *, uow: UnitOfWork, actor: Actor) -> R_co: ...


class UnknownCommand(LookupError):
    """A command no handler was registered for: a wiring mistake, never the user's."""

    code = "unknown_command"


class DuplicateHandler(ValueError):
    """Two handlers for one command type: the second would silently win."""

    code = "duplicate_handler"


class CommandHandlers:
    """Command type → handler. Filled once at start-up; read-only afterwards."""

    def __init__(self) -> None:
        self._handlers: dict[type[Command[Any]], Handler[Any, Any]] = {}

    def add(self, command: type[Command[R]], handler: Handler[Any, R]) -> None:
        if command in self._handlers:
            raise DuplicateHandler(f"{command.__name__} already has a handler")
        self._handlers[command] = handler

    def handle(self, cmd: Command[R], uow: UnitOfWork, actor: Actor) -> R:
        handler = self._handlers.get(type(cmd))
        if handler is None:
            raise UnknownCommand(f"no handler for {type(cmd).__name__}")
        return cast(R, handler(cmd, uow=uow, actor=actor))

    def __contains__(self, command: object) -> bool:
        return command in self._handlers

    def commands(self) -> list[type[Command[Any]]]:
        """Every registered command type, in the order they were added."""
        return list(self._handlers)
