"""Typed query rows: values read as the type they hold, a clear error when they do not."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from sparkify_assets.warehouse.check_results import CheckRow
from sparkify_assets.warehouse.interface import recorded_version
from sparkify_assets.warehouse.query_rows import (
    RowCount,
    date_value,
    float_value,
    int_value,
    optional_int_value,
)


def test_numbers_as_drivers_return_them() -> None:
    row = {"a": 3, "b": Decimal("42"), "c": None, "d": Decimal("12.5")}
    assert int_value(row, "a") == 3 and int_value(row, "b") == 42
    assert optional_int_value(row, "c") is None and optional_int_value(row, "b") == 42
    assert float_value(row, "d") == 12.5
    assert RowCount.from_row({"row_count": Decimal("7")}) == RowCount(7)


@pytest.mark.parametrize("value", [None, date(2018, 11, 1), b"1", [1]])
def test_a_value_of_another_type_is_a_clear_type_error(value: object) -> None:
    with pytest.raises(TypeError, match="query column 'plays': expected a number"):
        int_value({"plays": value}, "plays")


def test_a_date_column_must_hold_a_date() -> None:
    assert date_value({"d": date(2018, 11, 1)}, "d") == date(2018, 11, 1)
    with pytest.raises(TypeError, match="query column 'd': expected a date, got str"):
        date_value({"d": "2018-11-01"}, "d")


def test_check_row_keeps_the_figures_in_query_order() -> None:
    row = CheckRow.from_row({"z": 1, "failures": Decimal("2"), "warn_only": 1, "a": None})
    assert row == CheckRow(failures=2, warn_only=True, figures={"z": 1, "a": None})
    assert CheckRow.from_row({"failures": 0}).warn_only is False


def test_recorded_version_reads_the_one_row() -> None:
    assert recorded_version([{"version": 3}]) == 3
    assert recorded_version([{"version": None}]) is None
    with pytest.raises(ValueError):
        recorded_version([])
