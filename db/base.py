"""Declarative base with a naming convention, so Alembic names constraints the same everywhere."""

from __future__ import annotations

from typing import TypeVar

from sqlalchemy import MetaData, Table
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


L = TypeVar("L", bound=str)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def table_of(model: type[Base]) -> Table:
    """A mapped class's Core table, typed as one (``__table__`` is typed as a FromClause)."""
    table = model.__table__
    if not isinstance(table, Table):
        raise TypeError(f"{model.__name__} is not mapped to a single table")
    return table


def one_of(value: str, allowed: tuple[L, ...]) -> L:
    """A string column's value as the Literal type its CHECK constraint holds it to.

    `allowed` is that type's values (``get_args`` of it, kept in a constant typed as a tuple of
    the Literal). The constraint already makes the value one of them; a value that is not
    (a constraint and a type gone apart) raises ValueError instead of passing on unchecked.
    """
    for known in allowed:
        if value == known:
            return known
    raise ValueError(f"{value!r} is not one of {allowed}")
