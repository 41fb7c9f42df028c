"""benchmarks/one_more_day.py runs end to end at a tiny size, so it cannot rot. It prints figures;
nothing here asserts a speed (targets live in the benchmark, not in timed tests)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from benchmarks import one_more_day


def test_one_more_day_prints_each_history_and_the_ratio(
    postgres_admin_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("SPARKIFY_HOME", str(tmp_path))
    arguments = ["--source-events", "2100", "--history-events", "700,1400", "--rounds", "2"]
    assert one_more_day.main([*arguments, "--postgres-url", postgres_admin_url]) == 0
    printed = capsys.readouterr().out

    assert re.search(r"history of 700 events, .+ \(2 days\)", printed)
    assert re.search(r"history of 1,400 events, .+ \(4 days\)", printed)
    runs = re.findall(
        r"day run (\d) \((new day|again)\): command\s+[0-9.]+ s, run\s+[0-9.]+ s", printed
    )
    assert runs == [("1", "new day"), ("1", "new day"), ("2", "again"), ("2", "again")]
    assert len(re.findall(r"^settled [0-9,]+: [0-9.]+ s \(untimed\)$", printed, flags=re.M)) == 2
    assert re.search(r"run on 1,400 / run on 700 \(medians\): [0-9.]+", printed)
