"""Reading the warehouse's tables back in the shape of tests/reference_warehouse.py."""

from __future__ import annotations

from typing import Any

import psycopg

STAR_COLUMNS = {
    "songplays": "songplay_id, start_time, user_id, level, song_id, artist_id, session_id,"
    " location, user_agent",
    "users": "user_id, first_name, last_name, gender, level",
    "songs": "song_id, title, artist_id, year, duration",
    "artists": "artist_id, name, location, latitude, longitude",
    "time": "start_time, hour, day, week, month, year, weekday",
}


def warehouse_state(url: str) -> dict[str, Any]:
    """Every star table as a set of rows (and each as a list, to see duplicates), staging counts."""
    state: dict[str, Any] = {}
    with psycopg.connect(url) as connection:
        for table, columns in STAR_COLUMNS.items():
            rows = connection.execute(f"SELECT {columns} FROM {table}").fetchall()
            state[table] = set(rows)
            state[f"{table}_rows"] = len(rows)
        for table in ("staging_events", "staging_songs", "load_quarantine"):
            (count,) = connection.execute(f"SELECT COUNT(*) FROM {table}").fetchone()  # type: ignore[misc]
            state[table] = count
    return state


def assert_matches_reference(url: str, reference: Any) -> None:
    state = warehouse_state(url)
    assert state["staging_events"] == reference.staging_events
    assert state["staging_songs"] == reference.staging_songs
    assert state["load_quarantine"] == 0
    for table in STAR_COLUMNS:
        expected = getattr(reference, table)
        assert state[f"{table}_rows"] == len(state[table]), f"{table} has duplicate rows"
        missing = expected - state[table]
        extra = state[table] - expected
        assert not missing and not extra, (
            f"{table}: {len(missing)} rows missing, e.g. {sorted(missing, key=str)[:2]};"
            f" {len(extra)} unexpected, e.g. {sorted(extra, key=str)[:2]}"
        )
