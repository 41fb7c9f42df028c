"""A range's log files go through one COPY stream (PostgreSQL engine), paused only to write
batches of refused lines: the tables are those of loading each day on its own, every file's count
is its own, and refused lines and refused files land in the quarantine under their day."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest

from sparkify_assets.records.quarantine import QUARANTINE_BATCH_RECORDS
from sparkify_assets.sample_data.generator import write_sample_source
from sparkify_assets.sample_data.spec import SampleSpec
from sparkify_assets.source.layout import log_key_for
from sparkify_assets.source.open_tree import open_source_tree
from sparkify_assets.warehouse.interface import LoadReport
from sparkify_assets.warehouse.load_window import LoadWindow
from sparkify_assets.warehouse.postgres import engine
from sparkify_assets.warehouse.postgres.engine import PostgresWarehouse
from tests.conftest import new_database

SPEC = SampleSpec(seed=11, days=5, events_per_day=120, users=12, catalog_songs=20)
JUNK_LINES = QUARANTINE_BATCH_RECORDS * 3 // 4  # two such files: more than one batch pending


@pytest.fixture
def source(tmp_path: Path) -> Path:
    """Five days: the second and third with a batch's worth of junk lines appended between
    them, the fourth a symbolic link (refused), the others as generated."""
    root = tmp_path / "source"
    write_sample_source(root, SPEC)
    days = [SPEC.start + timedelta(days=n) for n in range(SPEC.days)]
    for day in days[1:3]:
        with (root / log_key_for(day)).open("ab") as log:
            log.write(b"".join(b"not json %d\n" % n for n in range(JUNK_LINES)))
    linked = root / log_key_for(days[3])
    linked.unlink()
    linked.symlink_to(root / log_key_for(days[0]))
    return root


def _tables(url: str) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    with psycopg.connect(url) as connection:
        events = connection.execute(
            "SELECT * FROM staging_events ORDER BY log_date, source_line"
        ).fetchall()
        quarantine = connection.execute(
            "SELECT source_kind, log_date, source_file, line_number, reason, raw_text"
            " FROM load_quarantine ORDER BY log_date, line_number NULLS FIRST"
        ).fetchall()
    return events, quarantine


def test_a_range_loads_as_its_days_do_in_one_copy_stream(
    postgres_admin_url: str, source: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tree = open_source_tree(str(source))
    window = LoadWindow(SPEC.start, SPEC.start + timedelta(days=SPEC.days))
    copies: Counter[str] = Counter()
    copy_rows = engine.PostgresSession.copy_rows

    def counted(self: engine.PostgresSession, sql: object, rows: object) -> int:
        copies[sql.key] += 1  # type: ignore[attr-defined]
        return copy_rows(self, sql, rows)  # type: ignore[arg-type]

    monkeypatch.setattr(engine.PostgresSession, "copy_rows", counted)
    with new_database(postgres_admin_url) as range_url, PostgresWarehouse(range_url) as warehouse:
        warehouse.ensure_tables()
        report = warehouse.load_event_days(tree, window, run_id="range", log=lambda _: None)
        in_range = _tables(range_url)
    range_copies = copies["postgres/copy.staging_events"]

    day_reports: list[LoadReport] = []
    with new_database(postgres_admin_url) as days_url, PostgresWarehouse(days_url) as warehouse:
        warehouse.ensure_tables()
        for day in window.days():
            day_reports.append(
                warehouse.load_event_days(
                    tree, LoadWindow.single_day(day), run_id="day", log=lambda _: None
                )
            )
        day_by_day = _tables(days_url)

    assert in_range == day_by_day
    assert report.files == [file for day_report in day_reports for file in day_report.files]
    events, quarantine = in_range
    per_day = Counter(row[0] for row in events)
    assert [per_day[day] for day in window.days()] == [f.loaded for f in report.files]
    refused = Counter(row[1] for row in quarantine)
    assert [refused[day] for day in window.days()] == [f.rejected for f in report.files]
    junk_days = window.days()[1:3]
    assert all(refused[day] >= JUNK_LINES for day in junk_days)
    assert report.files[3].loaded == 0 and report.files[3].rejected == 1  # the link
    # Five files, one stream: paused once, after the two junk files filled a batch.
    assert range_copies == 2
