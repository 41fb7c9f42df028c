"""The benchmark runs end to end at a tiny size, so it cannot rot. It prints figures; nothing here
asserts a speed (targets live in the benchmark, not in timed tests)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from benchmarks import dagster_partition_overhead, full_build


def test_benchmark_prints_every_figure(
    postgres_admin_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("SPARKIFY_HOME", str(tmp_path))
    code = full_build.main(
        [
            "--events",
            "2000",
            "--shape",
            "both",
            "--incremental",
            "3334",
            "--postgres-url",
            postgres_admin_url,
        ]
    )
    printed = capsys.readouterr().out

    assert code == 0
    assert printed.count("ratio build / floor:") == 2  # dense and long
    for ratio in re.findall(r"ratio build / floor:\s+([0-9.]+)", printed):
        assert float(ratio) > 0
    assert re.search(r"peak memory of this process:\s+\d+ MB", printed)
    assert re.search(
        r"^\s+3,334\s+1\s+[0-9.]+", printed, flags=re.M
    )  # one more day on top of 3,334
    assert "floor: transform songplays" in printed


def test_benchmark_repeats_build_and_floor_in_turns(
    postgres_admin_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("SPARKIFY_HOME", str(tmp_path))
    args = ["--events", "1000", "--shape", "dense", "--repeat", "2"]
    code = full_build.main([*args, "--postgres-url", postgres_admin_url])
    printed = capsys.readouterr().out

    assert code == 0
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
