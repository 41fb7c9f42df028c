"""Typed query rows: a row's values read as the type they hold (a clear TypeError when they do not),
and the result shapes that several modules read."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import NamedTuple

Row = Mapping[str, object]


def _wrong_type(column: str, expected: str, value: object) -> TypeError:
    return TypeError(f"query column {column!r}: expected {expected}, got {type(value).__name__}")


def int_value(row: Row, column: str) -> int:
    """``row[column]`` as an int (a count or an id: drivers return int or Decimal)."""
    value = row[column]
    if isinstance(value, int | Decimal | float | str):
        return int(value)
    raise _wrong_type(column, "a number", value)


def optional_int_value(row: Row, column: str) -> int | None:
    """``row[column]`` as an int, or None for NULL."""
    return None if row[column] is None else int_value(row, column)


class RowCount(NamedTuple):
    """A count query's one row (``row_count``)."""

    row_count: int

    @classmethod
    def from_row(cls, row: Row) -> RowCount:
        return cls(int_value(row, "row_count"))
