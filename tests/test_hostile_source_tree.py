"""Findings 2 and 3 of the security review: hostile source trees and bounded memory.

Reproduced before the fix: ``log_data/.../2018-11-05-events.json -> /proc/self/environ`` put the
process environment (SPARKIFY_WAREHOUSE_PASSWORD, AWS_SECRET_ACCESS_KEY) into
``load_quarantine.raw_text``, a link to /etc/passwd under song_data/ likewise, and a file swapped
for a FIFO after the listing hung the run while it held the table lock. Refused records were kept
in memory until the end of the file, and song files were read whole before the size check.
"""

from __future__ import annotations

import io
import os
import shutil
import threading
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import dagster as dg
import psycopg
import pytest

from sparkify_assets.definitions import defs
from sparkify_assets.defs.resources import SourceResource
from sparkify_assets.records.events import EventFileParser
from sparkify_assets.records.quarantine import QUARANTINE_BATCH_RECORDS
from sparkify_assets.records.songs import MAX_SONG_FILE_BYTES
from sparkify_assets.source.layout import log_key_for
from sparkify_assets.source.local_tree import LocalSourceTree
from sparkify_assets.source.tree import SourceFile, SourceFileRefused
from sparkify_assets.warehouse.postgres.engine import PostgresWarehouse
from tests.conftest import resources_for

DAY = date(2018, 11, 5)
ENVIRON = Path("/proc/self/environ")


@pytest.fixture
def hostile_source(small_source: Path, tmp_path: Path) -> Path:
    """The small sample with: the day's log file a link to /proc/self/environ, a song file a
    link to /etc/passwd, a FIFO song file, a linked folder under song_data/ (to /etc)."""
    root = tmp_path / "source"
    shutil.copytree(small_source, root)
    day_file = root / log_key_for(DAY)
    assert day_file.is_file()
    day_file.unlink()
    day_file.symlink_to(ENVIRON)
    songs = root / "song_data" / "Z" / "Z" / "Z"
    songs.mkdir(parents=True)
    (songs / "TRZZZPASSWD00001.json").symlink_to("/etc/passwd")
    os.mkfifo(songs / "TRZZZFIFO0000001.json")
    (root / "song_data" / "Y").symlink_to("/etc", target_is_directory=True)
    return root


def _materialize(url: str, root: Path, selection: list[str], partition: str | None) -> bool:
    result = dg.materialize(
        list(defs.assets),  # type: ignore[arg-type]
        selection=selection,
        partition_key=partition,
        resources={
            **resources_for(url, root),
            "source": SourceResource(url=str(root), max_quarantine_share=0.9),
        },
        raise_on_error=False,
    )
    return result.success


@pytest.mark.timeout(300)
def test_links_and_fifos_are_refused_with_a_reason_and_nothing_is_read(
    warehouse_url: str, hostile_source: Path
) -> None:
    assert _materialize(warehouse_url, hostile_source, ["staging_songs"], None)
    _materialize(warehouse_url, hostile_source, ["staging_events"], DAY.isoformat())
    with psycopg.connect(warehouse_url) as connection:
        quarantine = {
            row[0]: (row[1], row[2])
            for row in connection.execute(
                "SELECT source_file, reason, raw_text FROM load_quarantine"
            ).fetchall()
        }
        events = connection.execute("SELECT COUNT(*) FROM staging_events").fetchone()
        song_files = connection.execute(
            "SELECT COUNT(*) FROM staging_songs WHERE source_file LIKE 'song_data/Y/%'"
        ).fetchone()
    assert quarantine[log_key_for(DAY)] == ("refused: a symbolic link", "")
    assert quarantine["song_data/Z/Z/Z/TRZZZPASSWD00001.json"] == ("refused: a symbolic link", "")
    assert quarantine["song_data/Z/Z/Z/TRZZZFIFO0000001.json"] == (
        "refused: not a regular file (a FIFO)",
        "",
    )
    assert events == (0,)
    assert song_files == (0,)  # the linked folder was not entered
    environment = ENVIRON.read_bytes().decode(errors="replace")
    for _, raw_text in quarantine.values():
        assert "root:x:0:0" not in raw_text
        assert not any(entry and entry in raw_text for entry in environment.split("\0"))


def test_a_linked_folder_on_the_path_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "source"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / f"{DAY.isoformat()}-events.json").write_text("{}\n")
    (root / "log_data" / "2018").mkdir(parents=True)
    (root / "log_data" / "2018" / "11").symlink_to(elsewhere, target_is_directory=True)
    tree = LocalSourceTree(root)
    file = tree.log_file(DAY)
    with pytest.raises(SourceFileRefused, match="folder '11' on the path is a symbolic link"):
        tree.open(file).__enter__()
    assert list(tree.log_files()) == []  # the listing does not enter it either
    with pytest.raises(SourceFileRefused, match="not a plain path"):
        tree.open(SourceFile("log_data/../../etc/passwd", 1, "v")).__enter__()


class _SwapsAfterListing(LocalSourceTree):
    """Lists, then replaces the first song file by a FIFO (no writer ever opens it)."""

    def song_files(self) -> Iterator[SourceFile]:
        files = list(super().song_files())
        path = self.root / files[0].key
        path.unlink()
        os.mkfifo(path)
        yield from files


@pytest.mark.timeout(120)
def test_a_fifo_swapped_in_after_the_listing_does_not_hang(
    warehouse_url: str, small_source: Path, tmp_path: Path
) -> None:
    root = tmp_path / "source"
    shutil.copytree(small_source, root)
    tree = _SwapsAfterListing(root)
    outcome: list[object] = []

    def load() -> None:
        with PostgresWarehouse(warehouse_url) as warehouse:
            warehouse.ensure_tables()
            outcome.append(warehouse.load_song_catalog(tree, run_id="fifo", log=lambda _: None))

    worker = threading.Thread(target=load, daemon=True)
    worker.start()
    worker.join(60)
    assert not worker.is_alive(), "the load hung on the FIFO (holding the staging_songs lock)"
    [report] = outcome
    assert report.rows_rejected == 1  # type: ignore[attr-defined]
    with psycopg.connect(warehouse_url) as connection:
        [(reason,)] = connection.execute(
            "SELECT reason FROM load_quarantine WHERE run_id = 'fifo'"
        ).fetchall()
    assert reason == "refused: not a regular file (a FIFO)"


# ----------------------------------------------------------------------------------- bounded memory


def test_parser_hands_over_refused_lines_in_bounded_batches(small_source: Path) -> None:
    """Finding 2: refused lines were all kept until the end of the file (2M junk lines of a 4 MB
    file took 587 MB). With a pause limit, never more than a batch is held."""
    junk = b"".join(b"junk %d\n" % n for n in range(10_000))
    good = (small_source / log_key_for(DAY)).read_bytes().splitlines(keepends=True)[0]
    parser = EventFileParser(DAY, "f", pause_after_rejections=100)
    stream = io.BytesIO(junk + good)
    rows, line_numbers, most_held = [], [], 0
    while not parser.finished:
        rows.extend(parser.rows(stream))
        most_held = max(most_held, len(parser.rejected))
        line_numbers.extend(r.line_number for r in parser.take_rejected())
    assert most_held <= 100
    assert line_numbers == list(range(1, 10_001))
    assert parser.rejected_count == 10_000 and len(rows) == 1


def test_a_file_of_junk_is_quarantined_in_batches(
    warehouse_url: str, small_source: Path, tmp_path: Path
) -> None:
    root = tmp_path / "source"
    shutil.copytree(small_source, root)
    day_file = root / log_key_for(DAY)
    good_lines = day_file.read_bytes()
    junk = QUARANTINE_BATCH_RECORDS * 2 + 17
    day_file.write_bytes(b"".join(b"not json %d\n" % n for n in range(junk)) + good_lines)
    assert _materialize(warehouse_url, root, ["staging_events"], DAY.isoformat())
    with psycopg.connect(warehouse_url) as connection:
        quarantined = connection.execute(
            "SELECT COUNT(*), MIN(line_number), MAX(line_number) FROM load_quarantine"
        ).fetchone()
        loaded = connection.execute("SELECT COUNT(*) FROM staging_events").fetchone()
    assert quarantined == (junk, 1, junk)
    assert loaded is not None and loaded[0] > 0


def test_song_files_are_size_checked_before_reading_and_read_bounded(
    warehouse_url: str, small_source: Path, tmp_path: Path
) -> None:
    root = tmp_path / "source"
    shutil.copytree(small_source, root)
    folder = root / "song_data" / "Z" / "Z" / "Z"
    folder.mkdir(parents=True)
    huge = folder / "TRZZZHUGE0000001.json"
    with huge.open("wb") as file:  # sparse: 4 GB that cost no disk
        file.truncate(4 << 30)

    class _GrowsAfterListing(LocalSourceTree):
        def song_files(self) -> Iterator[SourceFile]:
            files = list(super().song_files())
            grown = self.root / files[0].key
            grown.write_bytes(b"{" + b" " * (3 * MAX_SONG_FILE_BYTES) + b"}")
            yield from files

    with PostgresWarehouse(warehouse_url) as warehouse:
        warehouse.ensure_tables()
        warehouse.load_song_catalog(_GrowsAfterListing(root), run_id="size", log=lambda _: None)
    with psycopg.connect(warehouse_url) as connection:
        rows = connection.execute(
            "SELECT source_file, reason, length(raw_text) FROM load_quarantine ORDER BY 1"
        ).fetchall()
    assert len(rows) == 2
    grown_row, huge_row = rows
    assert huge_row == (
        "song_data/Z/Z/Z/TRZZZHUGE0000001.json",
        f"file is larger than {MAX_SONG_FILE_BYTES} bytes",
        0,
    )
    assert grown_row[1] == f"file is larger than {MAX_SONG_FILE_BYTES} bytes"
    assert grown_row[2] <= 4000
