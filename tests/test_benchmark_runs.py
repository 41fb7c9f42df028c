"""The benchmark runs end to end at a tiny size, so it cannot rot. It prints figures; nothing here
asserts a speed (targets live in the benchmark, not in timed tests)."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from benchmarks import dagster_partition_overhead, full_build, real_paths
from benchmarks.session_memory import SessionMemory, role_of


@pytest.fixture
def run_full_build(
    postgres_admin_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Callable[..., str]:
    """Runs the full-build benchmark with these arguments on the test server; returns its output."""
    monkeypatch.setenv("SPARKIFY_HOME", str(tmp_path))

    def run(*args: str) -> str:
        assert full_build.main([*args, "--postgres-url", postgres_admin_url]) == 0
        return capsys.readouterr().out

    return run


def test_benchmark_prints_every_figure(run_full_build: Callable[..., str]) -> None:
    printed = run_full_build("--events", "2000", "--shape", "both", "--incremental", "3334")

    assert printed.count("ratio build / floor:") == 2  # dense and long
    for ratio in re.findall(r"ratio build / floor:\s+([0-9.]+)", printed):
        assert float(ratio) > 0
    assert re.search(r"peak memory of this process:\s+\d+ MB", printed)
    assert re.search(
        r"^\s+3,334\s+1\s+[0-9.]+", printed, flags=re.M
    )  # one more day on top of 3,334
    assert "floor: transform songplays" in printed


def test_benchmark_repeats_build_and_floor_in_turns(run_full_build: Callable[..., str]) -> None:
    printed = run_full_build("--events", "1000", "--shape", "dense", "--repeat", "2")

    assert "(median of 2 runs)" in printed
    [each] = re.findall(r"ratio of each run:\s+(.+)", printed)
    assert len(each.split(", ")) == 2


def test_dagster_overhead_benchmark_prints_a_row_per_size(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    for flags in ([], ["--persistent"]):
        assert dagster_partition_overhead.main(["--days", "1", "3", *flags]) == 0
        rows = re.findall(
            r"^\s+(\d+)\s+(\d+)\s+([0-9.]+)\s+([0-9.]+)\s+\d+$", capsys.readouterr().out, re.M
        )
        assert [(days, partitions) for days, partitions, _, _ in rows] == [("1", "4"), ("3", "12")]
        assert all(float(seconds) > 0 for _, _, seconds, _ in rows)


def test_real_paths_benchmark_prints_every_figure(
    postgres_admin_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("SPARKIFY_HOME", str(tmp_path))
    args = ["--events", "600", "--shape", "dense", "--postgres-url", postgres_admin_url]
    assert real_paths.main([*args, "--paths", "build,cli"]) == 0
    printed = capsys.readouterr().out

    assert re.search(r"\d+ cores, Dagster \d+\.\d+\.\d+", printed)
    assert re.search(
        r"^floor \(parse \+ COPY \+ transforms, no checks\):\s+[0-9.]+ s", printed, re.M
    )
    rows = re.findall(
        r"^(sparkify build|dagster asset materialize|one more day).*?(\d+)\s+(\d+)$", printed, re.M
    )
    assert [name for name, _, _ in rows] == [
        "sparkify build",
        "dagster asset materialize",
        "one more day",
    ]
    assert [int(runs) for _, runs, _ in rows] == [3, 2, 1]
    assert all(0 < int(rss) < 4096 for _, _, rss in rows)


def test_real_paths_benchmark_prints_medians_of_rounds(
    postgres_admin_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("SPARKIFY_HOME", str(tmp_path))
    args = ["--events", "600", "--shape", "dense", "--postgres-url", postgres_admin_url]
    assert real_paths.main([*args, "--paths", "build", "--repeat", "2"]) == 0
    printed = capsys.readouterr().out

    assert "medians of 2 rounds" in printed
    floors = re.search(r"^floor .*?s \(of ([0-9.]+), ([0-9.]+)\)$", printed, re.M)
    assert floors and all(float(f) > 0 for f in floors.groups())
    each = re.search(r"^  ratios of each round\s+([0-9.]+), ([0-9.]+)$", printed, re.M)
    assert each, printed
    median = re.search(r"^sparkify build\s+[0-9.]+\s+([0-9.]+)", printed, re.M)
    assert median
    assert float(median.group(1)) == pytest.approx(
        (float(each.group(1)) + float(each.group(2))) / 2, abs=0.011
    )


def test_bounded_memory_benchmark_prints_peak_memory_per_input(
    postgres_admin_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from benchmarks import bounded_memory

    assert bounded_memory.main(["--size-mb", "3", "--postgres-url", postgres_admin_url]) == 0
    printed = capsys.readouterr().out
    rows = re.findall(
        r"^\s+(a log day of junk lines|one song file)\s+3\s+([\d,]+)\s", printed, re.M
    )
    assert [label for label, _ in rows] == ["a log day of junk lines", "one song file"]
    assert int(rows[0][1].replace(",", "")) > 10_000 and rows[1][1] == "1"


def test_real_paths_benchmark_measures_the_daemon_alone(
    postgres_admin_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("SPARKIFY_HOME", str(tmp_path))
    args = ["--events", "300", "--shape", "dense", "--postgres-url", postgres_admin_url]
    assert real_paths.main([*args, "--paths", "daemon"]) == 0
    printed = capsys.readouterr().out

    assert re.search(r"^daemon alone .*: [0-9.]+ s = [0-9.]+x floor$", printed, re.M)
    assert re.search(r"waiting for ticks .*: [0-9.]+ s; the rest: [0-9.]+ s", printed)
    launched = re.search(r"runs launched: (\d+) \((.*)\), from (\d+) automation", printed)
    assert launched, printed
    kinds = dict(part.rsplit(" ", 1) for part in launched.group(2).split(", "))
    # 30 days in the source: ONE staging run (a range), the catalog, the star tables in ranges
    assert kinds["staging_events"] == "1" and kinds["catalog"] == "1"
    assert 1 <= int(kinds["star tables"]) <= 2
    assert kinds["analytics"] == "1"  # once, after the star tables: the benchmark waits for it
    rows = re.findall(r"^  (staging_events|star tables)\s+(\d+)\s", printed, re.M)
    assert all(days == "30" for _, days in rows)
    memory = re.search(r"^  peak RSS MB: (.*)$", printed, re.M)
    assert memory, printed
    roles = dict(re.findall(r"(daemon|code server|run worker) (\d+)", memory.group(1)))
    assert set(roles) == {"daemon", "code server", "run worker"}
    assert all(0 < int(mb) < 4096 for mb in roles.values())


def test_session_memory_finds_each_process_of_a_session_and_its_peak() -> None:
    assert role_of("/venv/bin/python /venv/bin/dagster-daemon run -w x") == "daemon"
    assert role_of("python -m dagster api grpc --lazy-load-user-code") == "code server"
    assert role_of("python -m dagster api execute_run {...}") == "run worker"
    assert role_of("/usr/lib/postgresql/bin/postgres -D data") == "postgres"
    spawned = "python -c from multiprocessing.spawn import spawn_main; spawn_main(tracker_fd=12)"
    assert role_of(spawned, parent_role="code server") == "run worker"
    assert role_of(spawned, parent_role="command") == "command"
    allocate = "x = bytearray(96 << 20); import time; time.sleep(1.5)"
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import subprocess, sys; subprocess.run([sys.executable, '-c', {allocate!r}])",
        ],
        start_new_session=True,
    )
    memory = SessionMemory(process.pid, interval=0.05).start()
    process.wait()
    memory.stop()
    assert len(memory.peaks_kib) == 2  # the parent and its child, both in the session
    assert max(memory.peaks_kib.values()) >= 96 * 1024
