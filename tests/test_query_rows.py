"""Typed query rows: values read as the type they hold, a clear error when they do not."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from sparkify_assets.analytics.charts import free_vs_paid_chart, plays_by_hour_chart
from sparkify_assets.warehouse.check_results import CheckRow
from sparkify_assets.warehouse.interface import recorded_version
from sparkify_assets.warehouse.query_rows import (
    RowCount,
    int_value,
    optional_int_value,
)


def test_numbers_as_drivers_return_them() -> None:
    row = {"a": 3, "b": Decimal("42"), "c": None}
    assert int_value(row, "a") == 3 and int_value(row, "b") == 42
    assert optional_int_value(row, "c") is None and optional_int_value(row, "b") == 42
    assert RowCount.from_row({"row_count": Decimal("7")}) == RowCount(7)


@pytest.mark.parametrize("value", [None, date(2018, 11, 1), b"1", [1]])
def test_a_value_of_another_type_is_a_clear_type_error(value: object) -> None:
    with pytest.raises(TypeError, match="query column 'plays': expected a number"):
        int_value({"plays": value}, "plays")


def test_charts_read_their_columns_typed() -> None:
    with pytest.raises(TypeError, match="answer column 'hour': expected a number, got NoneType"):
        plays_by_hour_chart([{"hour": None, "plays": 1}])
    day = {"free_plays": 1, "paid_plays": 2, "paid_share_pct": Decimal("66.7")}
    with pytest.raises(TypeError, match="answer column 'play_date': expected a date, got str"):
        free_vs_paid_chart([{**day, "play_date": "2018-11-01"}])
    assert free_vs_paid_chart([{**day, "play_date": date(2018, 11, 1)}])[:4] == b"\x89PNG"


def test_check_row_keeps_the_figures_in_query_order() -> None:
    row = CheckRow.from_row({"z": 1, "failures": Decimal("2"), "warn_only": 1, "a": None})
    assert row == CheckRow(failures=2, warn_only=True, figures={"z": 1, "a": None})
    assert CheckRow.from_row({"failures": 0}).warn_only is False


def test_recorded_version_reads_the_one_row() -> None:
    assert recorded_version([{"version": 3}]) == 3
    assert recorded_version([{"version": None}]) is None
    with pytest.raises(ValueError):
        recorded_version([])
