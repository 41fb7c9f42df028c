"""Bad input: every good record is loaded, every bad one quarantined with its reason, the run goes on,
and the quarantine checks warn below the allowed share and fail above it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import psycopg
import pytest

from sparkify_assets.definitions import defs
from sparkify_assets.defs.backup_resource import BackupResource
from sparkify_assets.defs.resources import SourceResource, WarehouseResource
from sparkify_assets.records.events import DUPLICATE_REASON, EventFileParser
from tests.messy_source import BAD_EVENT_LINES, DAY, write_messy_source

INSTANCE = dg.DagsterInstance.ephemeral()


@pytest.fixture(scope="module", autouse=True)
def _dispose_instance() -> Iterator[None]:
    """Closes the instance's in-memory SQLite database with the module, not at interpreter
    shutdown, where its held SQLAlchemy connection would be finalized in whatever order the
    interpreter tears objects down (a suspected source of 'Cannot operate on a closed database'
    tracebacks after pytest's summary)."""
    yield
    INSTANCE.dispose()


def run_log(result: dg.ExecuteInProcessResult) -> list[str]:
    """The messages of the run's event log (context.log lines included)."""
    return [entry.user_message for entry in INSTANCE.all_logs(result.run_id)]


@pytest.fixture
def messy_source(tmp_path: Path) -> tuple[Path, dict[str, int]]:
    root = tmp_path / "messy"
    expected = write_messy_source(root)
    return root, expected


def _run(
    url: str, root: Path, share: float, partition: str | None, selection: list[str]
) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        list(defs.assets),  # type: ignore[arg-type]
        instance=INSTANCE,
        selection=selection,
        partition_key=partition,
        resources={
            "warehouse": WarehouseResource(url=url),
            "source": SourceResource(url=str(root), max_quarantine_share=share),
            "backup": BackupResource(),
        },
        raise_on_error=False,
    )


def test_messy_day_loads_every_good_event_and_quarantines_every_bad_one(
    warehouse_url: str, messy_source: tuple[Path, dict[str, int]]
) -> None:
    root, expected = messy_source
    assert _run(warehouse_url, root, 0.9, None, ["staging_songs"]).success
    result = _run(warehouse_url, root, 0.9, DAY, ["staging_events", "users", "songplays"])

    assert result.success
    with psycopg.connect(warehouse_url) as connection:
        items = [
            r[0]
            for r in connection.execute("SELECT item_in_session FROM staging_events ORDER BY 1")
        ]
        reasons = [
            r[0]
            for r in connection.execute(
                "SELECT reason FROM load_quarantine WHERE source_kind = 'event' ORDER BY line_number"
            )
        ]
        raw = connection.execute(
            "SELECT raw_text, run_id FROM load_quarantine WHERE reason LIKE 'ts is not%%'"
        ).fetchone()
        plays = connection.execute("SELECT COUNT(*), COUNT(song_id) FROM songplays").fetchone()
    assert items == [0, 1, 2, 3, 4, 5]
    assert len(reasons) == expected["events_quarantined"]
    for (_, fragment), reason in zip(BAD_EVENT_LINES, reasons, strict=False):
        assert fragment in reason
    assert reasons[-2] == DUPLICATE_REASON  # the second copy of line 2's event
    assert reasons[-1].startswith("malformed JSON")
    assert raw is not None and '"ts": "1541376020000"' in raw[0] and raw[1] == result.run_id
    assert plays == (6, 6)  # every play matched the one catalog song

    [quarantine] = [
        e for e in result.get_asset_check_evaluations() if e.check_name == "quarantine_share"
    ]
    assert not quarantine.passed and quarantine.severity == dg.AssetCheckSeverity.WARN
    assert quarantine.metadata["rows_quarantined"].value == expected["events_quarantined"]


def test_quarantine_share_above_the_limit_fails_the_check(
    warehouse_url: str, messy_source: tuple[Path, dict[str, int]]
) -> None:
    root, _ = messy_source
    result = _run(warehouse_url, root, 0.01, DAY, ["staging_events"])

    [quarantine] = [
        e for e in result.get_asset_check_evaluations() if e.check_name == "quarantine_share"
    ]
    assert not quarantine.passed and quarantine.severity == dg.AssetCheckSeverity.ERROR


def test_bad_song_files_are_quarantined(
    warehouse_url: str, messy_source: tuple[Path, dict[str, int]]
) -> None:
    root, expected = messy_source
    result = _run(warehouse_url, root, 0.9, None, ["staging_songs", "songs", "artists"])

    assert result.success
    with psycopg.connect(warehouse_url) as connection:
        songs = [r[0] for r in connection.execute("SELECT song_id FROM staging_songs ORDER BY 1")]
        reasons = dict(
            connection.execute(
                "SELECT source_file, reason FROM load_quarantine WHERE source_kind = 'song'"
            ).fetchall()
        )
    assert songs == ["SOBOM0000000000001", "SOUPIRU12A6D4FA1E1"]
    assert len(reasons) == expected["songs_quarantined"]
    assert "found a JSON list" in reasons["song_data/A/B/C/TRABCARRAY000001.json"]
    assert "not a single JSON object" in reasons["song_data/A/B/C/TRABCTWO00000001.json"]
    assert reasons["song_data/A/B/C/TRABCEMPTY000001.json"] == "file is empty"


def test_an_empty_log_file_is_a_clear_blocking_failure(
    warehouse_url: str, messy_source: tuple[Path, dict[str, int]]
) -> None:
    """An empty day loads nothing and says so; its blocking row_count check then fails the step,
    so nothing downstream is built from a day that is probably missing upstream."""
    root, _ = messy_source
    result = _run(warehouse_url, root, 0.9, "2018-11-06", ["staging_events", "songplays"])

    assert not result.success
    messages = run_log(result)
    assert any("2018-11-06-events.json: 0 events loaded, 0 quarantined" in m for m in messages)
    [row_count] = [e for e in result.get_asset_check_evaluations() if e.check_name == "row_count"]
    assert not row_count.passed
    assert row_count.metadata["rows_in_window"].value == 0
    materialized = {m.asset_key.to_user_string() for m in result.get_asset_materialization_events()}
    assert "songplays" not in materialized


def test_the_run_log_has_one_line_per_file(
    warehouse_url: str, messy_source: tuple[Path, dict[str, int]]
) -> None:
    root, expected = messy_source
    result = _run(warehouse_url, root, 0.9, DAY, ["staging_events"])

    lines = [m for m in run_log(result) if f"{DAY}-events.json:" in m]
    assert lines == [
        f"log_data/2018/11/{DAY}-events.json: {expected['events_loaded']} events loaded,"
        f" {expected['events_quarantined']} quarantined"
    ]


def test_parser_keeps_the_raw_text_of_a_huge_line_short() -> None:
    import io

    parser = EventFileParser(__import__("datetime").date(2018, 11, 5), "f")
    rows = list(parser.rows(io.BytesIO(b"x" * (3 << 20) + b"\n")))
    assert rows == []
    [rejected] = parser.rejected
    assert len(rejected.raw) <= 16_000


def test_an_event_copied_into_another_days_file_is_quarantined_not_duplicated(
    warehouse_url: str, tmp_path: Path
) -> None:
    """Duplicates across files: a copy of a 2018-11-05 event in the 2018-11-06 file cannot be that
    day's event (its ts is on the 5th), so loading both days keeps exactly one copy."""
    root = tmp_path / "two_days"
    write_messy_source(root)
    day_one = root / "log_data" / "2018" / "11" / f"{DAY}-events.json"
    first_good_line = day_one.read_bytes().split(b"\r\n")[1]  # event item 1 of user 7
    (root / "log_data" / "2018" / "11" / "2018-11-06-events.json").write_bytes(first_good_line)

    assert _run(warehouse_url, root, 0.9, None, ["staging_songs"]).success
    for day in (DAY, "2018-11-06"):
        _run(warehouse_url, root, 0.9, day, ["staging_events"])

    with psycopg.connect(warehouse_url) as connection:
        copies = connection.execute(
            "SELECT COUNT(*) FROM staging_events WHERE user_id = 7 AND item_in_session = 1"
        ).fetchone()
        reason = connection.execute(
            "SELECT reason FROM load_quarantine WHERE log_date = DATE '2018-11-06'"
        ).fetchone()
    assert copies == (1,)
    assert reason is not None and "is not on 2018-11-06" in reason[0]


def test_only_true_duplicates_are_refused() -> None:
    """Identities that differ in any one field, at its extremes, are all kept; a repeat is not."""
    import io
    from datetime import date

    import orjson

    from tests.messy_source import DAY_MS, event

    variants = [
        event(0, userId=""),  # anonymous...
        event(0, userId="0"),  # ...is not user 0
        event(0, userId="999999999"),
        event(0, sessionId=-(2**31)),
        event(0, sessionId=2**31 - 1),
        event(0, itemInSession=-(2**31)),
        event(2**31 - 1, ts=DAY_MS),
        event(0, ts=DAY_MS + 86_399_999),  # the day's last millisecond
    ]
    lines = [orjson.dumps(v) for v in variants]
    parser = EventFileParser(date(2018, 11, 5), "f")
    rows = list(parser.rows(io.BytesIO(b"\n".join([*lines, lines[3]]))))

    assert len(rows) == len(variants)
    assert [r.reason for r in parser.rejected] == [DUPLICATE_REASON]
