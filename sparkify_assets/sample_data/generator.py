"""Deterministic sample data in the Sparkify source layout: ``write_sample_source`` writes the
tree (song files, one log file per day, the JSONPaths file); ``main`` is ``sparkify generate``."""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from datetime import date, timedelta
from pathlib import Path

from sparkify_assets.records.events import EVENT_FIELDS  # the layout's 18 fields, in order
from sparkify_assets.sample_data.catalog import build_catalog, write_song_files
from sparkify_assets.sample_data.event_lines import write_day_events
from sparkify_assets.sample_data.plays import PlayPicker
from sparkify_assets.sample_data.sessions import SessionPlanner
from sparkify_assets.sample_data.spec import DEFAULT_SPEC, SampleSpec, SampleSummary
from sparkify_assets.sample_data.users import build_users


def write_sample_source(root: Path, spec: SampleSpec = DEFAULT_SPEC) -> SampleSummary:
    """Writes a source tree for ``spec`` under ``root`` and returns what it wrote.

    ``root`` may exist but must not hold ``song_data`` or ``log_data`` yet (files of an earlier,
    different spec would otherwise mix with the new ones): FileExistsError if it does. Raises
    ValueError if a day cannot hold its events (more than tens of thousands per user and day).
    """
    root = Path(root)
    for part in ("song_data", "log_data"):
        if (root / part).exists():
            raise FileExistsError(f"{root / part} already exists; write into a new directory")
    root.mkdir(parents=True, exist_ok=True)
    (root / "log_json_path.json").write_text(
        json.dumps({"jsonpaths": [f"$['{name}']" for name in EVENT_FIELDS]}, indent=4) + "\n",
        encoding="utf-8",
    )
    catalog = build_catalog(random.Random(f"sparkify-sample/{spec.seed}/catalog"), spec)
    song_files = write_song_files(root, catalog)
    plays = PlayPicker(random.Random(f"sparkify-sample/{spec.seed}/plays"), catalog, spec)
    users = build_users(random.Random(f"sparkify-sample/{spec.seed}/users"), spec)
    planner = SessionPlanner(
        random.Random(f"sparkify-sample/{spec.seed}/events"), spec, users, plays
    )
    total = 0
    dates = []
    next_session_id = 1  # session ids run on across days
    for index, count in enumerate(planner.day_counts()):
        day = spec.start + timedelta(days=index)
        path = root / "log_data" / f"{day:%Y}" / f"{day:%m}" / f"{day:%Y-%m-%d}-events.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as stream:
            sessions = planner.plan_day(index, count)
            write_day_events(stream, day, sessions, next_session_id)
        next_session_id += len(sessions)
        total += count
        dates.append(day)
    return SampleSummary(
        root=root, log_files=len(dates), events=total, song_files=song_files, log_dates=tuple(dates)
    )


def main(argv: list[str] | None = None) -> int:
    """``python -m sparkify_assets.sample_data.generator --out DIR [...]``: writes a source tree."""
    defaults = DEFAULT_SPEC
    parser = argparse.ArgumentParser(
        prog="sparkify generate",
        description="Write deterministic sample data in the Sparkify source layout.",
    )
    parser.add_argument("--out", type=Path, required=True, help="directory to write (new)")
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument(
        "--start", type=date.fromisoformat, default=defaults.start, help="first day, YYYY-MM-DD"
    )
    parser.add_argument("--days", type=int, default=defaults.days)
    parser.add_argument(
        "--events-per-day", type=int, default=defaults.events_per_day, help="average"
    )
    parser.add_argument("--users", type=int, default=defaults.users)
    parser.add_argument("--songs", type=int, default=defaults.catalog_songs, help="song files")
    parser.add_argument(
        "--matched-play-share",
        type=float,
        default=defaults.matched_play_share,
        help="share of plays naming a catalog song",
    )
    args = parser.parse_args(argv)
    try:
        spec = SampleSpec(
            seed=args.seed,
            start=args.start,
            days=args.days,
            events_per_day=args.events_per_day,
            users=args.users,
            catalog_songs=args.songs,
            matched_play_share=args.matched_play_share,
        )
    except ValueError as error:
        parser.error(str(error))
    started = time.perf_counter()
    try:
        summary = write_sample_source(args.out, spec)
    except (FileExistsError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    elapsed = time.perf_counter() - started
    first, last = summary.log_dates[0], summary.log_dates[-1]
    print(f"wrote {summary.root}")
    print(f"  song files: {summary.song_files}")
    print(f"  log files:  {summary.log_files} ({first.isoformat()} .. {last.isoformat()})")
    print(f"  events:     {summary.events}")
    print(f"  seconds:    {elapsed:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
