"""Benchmark: peak memory of the loader on hostile input (issue 17, finding 2).

    python -m benchmarks.bounded_memory              # 1 GB files, target 256 MB
    python -m benchmarks.bounded_memory --size-mb 64 # a quick run

Writes, in a temporary directory deleted afterwards, a source tree with one log day made of
``--size-mb`` MB of junk (short non-JSON lines, JSON with wrong types, lines over the 1 MiB line
limit) and one song file of ``--size-mb`` MB, then loads each through the PostgreSQL engine into a
fresh database (the code path of ``staging_events`` / ``staging_songs``), each in a fresh process,
and prints that process's peak resident memory (``ru_maxrss``) against ``--limit-mb``. Before the
fix, refused lines were kept until the end of the file and song files read whole before the size
check: a 4 MB file of 2M junk lines took 587 MB.
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import shutil
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from benchmarks.full_build import embedded_admin_url, fresh_database
from sparkify_assets.source.layout import log_key_for
from sparkify_assets.source.local_tree import LocalSourceTree
from sparkify_assets.warehouse.load_window import LoadWindow
from sparkify_assets.warehouse.postgres.engine import PostgresWarehouse

DAY = date(2018, 11, 5)
SONG_KEY = "song_data/A/A/A/TRAAAHUGE0000001.json"
MB = 1 << 20


def _junk_chunk(seed: int) -> bytes:
    """About 1 MB of lines the parser refuses, each kind of refusal represented."""
    lines = []
    for n in range(2500):
        match n % 5:
            case 0:
                lines.append(b"not json at all %d %s" % (seed * 2500 + n, b"x" * 300))
            case 1:
                lines.append(b'{"ts": "yesterday", "userId": "%d", "page": "NextSong"}' % n)
            case 2:
                lines.append(b'{"ts": 1541376000000, "sessionId": [%d], "artist": null}' % n)
            case 3:
                lines.append(b"[1, 2, 3, %d]" % n)
            case _:
                lines.append(b'{"unterminated": "%s' % (b"y" * 250))
    return b"\n".join(lines) + b"\n"


def write_junk_log_file(path: Path, size_bytes: int) -> int:
    """A log file of ``size_bytes`` of junk, with a 2 MiB line every 64 MB; returns its size."""
    path.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    with path.open("wb") as file:
        chunk = 0
        while written < size_bytes:
            data = _junk_chunk(chunk)
            if chunk % 64 == 63:
                data += b"z" * (2 * MB) + b"\n"  # over the line limit
            file.write(data)
            written += len(data)
            chunk += 1
    return written


def write_huge_song_file(path: Path, size_bytes: int) -> int:
    """One song 'object' of ``size_bytes`` (a title that never ends); returns its size."""
    path.parent.mkdir(parents=True, exist_ok=True)
    block = b"a" * MB
    with path.open("wb") as file:
        file.write(b'{"song_id": "SOHUGE", "artist_id": "ARHUGE", "title": "')
        for _ in range(size_bytes // MB):
            file.write(block)
        file.write(b'"}')
    return path.stat().st_size


def _peak_rss_mb() -> float:
    """This process's peak resident memory since it started (``VmHWM``). Not ``ru_maxrss``: on
    Linux it keeps the high-water mark of the forked parent across ``exec``, so a process spawned
    by a large one (pytest) would report the parent's size."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _load(kind: str, root: str, url: str, results: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    """In a fresh process: load ``kind`` of the tree at ``root``; report the peak RSS."""
    baseline = _peak_rss_mb()
    tree = LocalSourceTree(Path(root))
    started = time.perf_counter()
    with PostgresWarehouse(url) as warehouse:
        warehouse.ensure_tables()
        if kind == "events":
            report = warehouse.load_event_days(
                tree, LoadWindow(DAY, DAY + timedelta(days=1)), run_id="bench", log=lambda _: None
            )
        else:
            report = warehouse.load_song_catalog(tree, run_id="bench", log=lambda _: None)
    results.put((baseline, _peak_rss_mb(), time.perf_counter() - started, report.rows_rejected))


def measure(kind: str, root: Path, admin_url: str) -> tuple[float, float, float, int]:
    context = multiprocessing.get_context("spawn")
    results: multiprocessing.Queue = context.Queue()  # type: ignore[type-arg]
    with fresh_database(admin_url) as url:
        process = context.Process(target=_load, args=(kind, str(root), url, results))
        process.start()
        outcome = results.get()
        process.join()
    if process.exitcode != 0:
        raise RuntimeError(f"the {kind} load failed (exit code {process.exitcode})")
    return outcome  # type: ignore[no-any-return]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=1024, help="size of each hostile file")
    parser.add_argument("--limit-mb", type=int, default=256, help="the peak RSS target")
    parser.add_argument("--postgres-url", default="", help="admin URL (default: embedded server)")
    parser.add_argument("--tmp-dir", default=None, help="where to write the files (deleted after)")
    args = parser.parse_args(argv)
    admin_url = args.postgres_url or embedded_admin_url()  # the measuring processes inherit it

    root = Path(tempfile.mkdtemp(prefix="sparkify-bounded-memory-", dir=args.tmp_dir))
    try:
        print(
            f"peak RSS of the loading process, files of {args.size_mb} MB"
            f" (target ≤ {args.limit_mb} MB)"
        )
        columns = ("file MB", "refused", "seconds", "start MB", "peak MB")
        print(f"  {'input':<28} " + " ".join(f"{c:>9}" for c in columns))
        failures = 0
        cases = [
            ("events", "a log day of junk lines", root / log_key_for(DAY), write_junk_log_file),
            ("songs", "one song file", root / SONG_KEY, write_huge_song_file),
        ]
        for kind, label, path, write in cases:
            size = write(path, args.size_mb * MB)
            (root / "log_data").mkdir(exist_ok=True)
            (root / "song_data").mkdir(exist_ok=True)
            baseline, peak, seconds, refused = measure(kind, root, admin_url)
            path.unlink()
            verdict = "ok" if peak <= args.limit_mb else "OVER"
            failures += peak > args.limit_mb
            print(
                f"  {label:<28} {size / MB:>9,.0f} {refused:>9,} {seconds:>9.1f}"
                f" {baseline:>9.0f} {peak:>9.0f}  {verdict}"
            )
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
