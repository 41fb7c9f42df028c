"""Benchmark: the users transform on PostgreSQL, correlated MAX versus join with an aggregate.

    python -m benchmarks.users_transform --events 100000 1000000 --repeat 7

With N events loaded (days of ~3,334 events, the shape of ``full_build --incremental``), loads one
more day and then replaces that day's users (``sql/transform/users.sql``: delete + insert) with each
form of the statement in turn, ``--repeat`` times each, and prints the median seconds of each form
and their ratio. The two forms:

* ``correlated``: each active user's latest ts as a correlated ``MAX`` in the select list, one
  probe of ``staging_events_user_ts_idx`` per active user (the form Redshift may refuse);
* ``join``: the same as an uncorrelated ``MAX ... GROUP BY`` joined to the active users, which
  reads every event of each active user (the shared form).

If the join form costs more than 20 % over the correlated one, PostgreSQL keeps the correlated
form as its own variant (``sql/postgres/transform/users.sql``).
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import timedelta

from benchmarks.full_build import (
    CATALOG_SONGS,
    INCREMENTAL_DAY_EVENTS,
    cached_source,
    embedded_admin_url,
    fresh_database,
)
from sparkify_assets.sample_data.spec import SampleSpec
from sparkify_assets.source.local_tree import LocalSourceTree
from sparkify_assets.warehouse.interface import transform_statements
from sparkify_assets.warehouse.load_window import LoadWindow
from sparkify_assets.warehouse.postgres.engine import PostgresWarehouse
from sparkify_assets.warehouse.sql_files import load_file

FORMS = {
    "correlated": "postgres/transform/users",  # the per-engine variant
    "join": "transform/users",  # the shared statement
}


def measure(events: int, admin_url: str, repeat: int) -> None:
    history_days = max(1, round(events / INCREMENTAL_DAY_EVENTS))
    spec = SampleSpec(
        seed=2019,
        days=history_days + 3,  # the data set of full_build --incremental
        events_per_day=INCREMENTAL_DAY_EVENTS,
        catalog_songs=min(CATALOG_SONGS, 2_000),
    )
    source, _ = cached_source(spec)
    tree = LocalSourceTree(source)
    history = LoadWindow(spec.start, spec.start + timedelta(days=history_days))
    new_day = LoadWindow.single_day(history.end_day)
    with fresh_database(admin_url) as url, PostgresWarehouse(url) as warehouse:
        warehouse.ensure_tables()
        warehouse.load_event_days(tree, history, run_id="history", log=lambda _: None)
        warehouse.replace_rows("users", transform_statements("users"), history.sql_params())
        warehouse.load_event_days(tree, new_day, run_id="new-day", log=lambda _: None)
        seconds: dict[str, list[float]] = {form: [] for form in FORMS}
        for _ in range(repeat):
            for form, file_key in FORMS.items():
                statements = list(load_file(file_key).values())
                started = time.perf_counter()
                warehouse.replace_rows("users", statements, new_day.sql_params())
                seconds[form].append(time.perf_counter() - started)
        (active,) = warehouse.query(
            load_file("row_counts")["users"], {}
        )  # all users; the day's active users are most of them in this shape
    medians = {form: statistics.median(values) for form, values in seconds.items()}
    ratio = medians["join"] / medians["correlated"]
    print(
        f"{history_days * INCREMENTAL_DAY_EVENTS:>12,}{history_days:>6}"
        f"{medians['correlated'] * 1000:>16.1f}{medians['join'] * 1000:>12.1f}{ratio:>9.2f}"
        f"   (users: {active['row_count']}; each correlated:"
        f" {', '.join(f'{s * 1000:.1f}' for s in seconds['correlated'])};"
        f" each join: {', '.join(f'{s * 1000:.1f}' for s in seconds['join'])})"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--events", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--postgres-url", default="")
    args = parser.parse_args(argv)
    admin_url = args.postgres_url or embedded_admin_url()
    print("users transform for one more day: median ms of delete + insert, each form")
    print(f"{'N events':>12}{'days':>6}{'correlated ms':>16}{'join ms':>12}{'ratio':>9}")
    for events in args.events:
        measure(events, admin_url, args.repeat)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
