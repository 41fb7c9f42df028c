"""``sparkify``: build the warehouse, generate sample data, stop the embedded PostgreSQL server."""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from collections import Counter

import dagster as dg

from sparkify_assets.lib.load_window import LoadWindow
from sparkify_assets.warehouse_build import (
    FRESHNESS_CHECK,
    STAR_TABLES,
    BuildOutcome,
    build_warehouse,
    initialized_resource,
)


def _instance() -> dg.DagsterInstance | None:
    """The persistent instance when DAGSTER_HOME is set (runs then show in ``dagster dev``);
    otherwise None: each run gets an ephemeral one."""
    if os.environ.get("DAGSTER_HOME"):
        return dg.DagsterInstance.get()
    return None


def _print_summary(outcome: BuildOutcome, defs: dg.Definitions, seconds: float) -> None:
    warehouse = initialized_resource(defs.resources["warehouse"])  # type: ignore[index]
    print()
    print(f"Sparkify warehouse built in {seconds:.1f} s ({len(outcome.runs)} Dagster runs)")
    if outcome.log_dates:
        print(
            f"log dates: {outcome.log_dates[0]} .. {outcome.log_dates[-1]}"
            f" ({len(outcome.log_dates)} days)"
        )
    with warehouse.open() as connection:
        print(f"\n{'table':<16}{'rows':>12}")
        for table in (*STAR_TABLES, "load_quarantine"):
            print(f"{table:<16}{connection.row_count(table, LoadWindow.all_dates()):>12,}")
    evaluations = outcome.check_evaluations
    tally = Counter(
        "passed"
        if e.passed
        else ("failed" if e.severity == dg.AssetCheckSeverity.ERROR else "warned")
        for e in evaluations
    )
    print(
        f"\nasset checks: {tally['passed']} passed, {tally['warned']} warned,"
        f" {tally['failed']} failed"
    )
    for e in evaluations:
        if not e.passed:
            print(f"  {e.severity.value:<5} {e.asset_key.to_user_string()}.{e.check_name}")
    for e in evaluations:
        if e.check_name == FRESHNESS_CHECK:  # lag behind the source, one line per table
            print(f"freshness: {e.metadata['summary'].value}")
    for run in outcome.runs:
        if not run.success:
            print(f"run {run.run_id} failed: see the Dagster event log above")


def build(_: argparse.Namespace) -> int:
    """Materializes every asset and prints rows per table and check outcomes."""
    warnings.filterwarnings("ignore", category=dg.BetaWarning)
    from sparkify_assets.definitions import defs
    from sparkify_assets.warehouse_upgrade import preflight_problem

    problem = preflight_problem(defs)
    if problem:
        print(f"sparkify build: {problem}", file=sys.stderr)
        return 2
    started = time.perf_counter()
    outcome = build_warehouse(defs, instance=_instance())
    _print_summary(outcome, defs, time.perf_counter() - started)
    return 0 if outcome.succeeded else 1


def migrate(_: argparse.Namespace) -> int:
    """Upgrades the warehouse's tables in place to this release's schema version (no row lost),
    and the Dagster instance DAGSTER_HOME names (as `dagster instance migrate`)."""
    from sparkify_assets.definitions import defs
    from sparkify_assets.warehouse_upgrade import migrate_dagster_instance, migrate_warehouse

    migrate_warehouse(defs, print)
    migrate_dagster_instance(print)
    return 0


def stop_postgres(_: argparse.Namespace) -> int:
    """Stops the embedded PostgreSQL server (it is left running between runs on purpose)."""
    from sparkify_assets.lib.embedded_postgres import stop_embedded_postgres
    from sparkify_assets.lib.project_home import sparkify_home

    stopped = stop_embedded_postgres()
    print("embedded PostgreSQL stopped" if stopped else "embedded PostgreSQL was not running")
    legacy = sparkify_home() / "pgdata"
    if (legacy / "PG_VERSION").exists():
        print(
            f"{legacy} is a server of an earlier version (no password, see docs/security.md):"
            " stop it with its pg_ctl (`pg_ctl -D <that folder> stop`) and delete the folder"
        )
    return 0


def generate(arguments: list[str]) -> int:
    """Writes sample data in the source layout (`sparkify generate --help` lists the options)."""
    from sparkify_assets.lib.sample_data import main as generate_main

    return generate_main(arguments)


def redshift_smoke(args: argparse.Namespace) -> int:
    """Runs every kind of Redshift statement once on a tiny data set in a scratch schema and
    prints each one's outcome (docs/redshift_first_run.md)."""
    from sparkify_assets.lib.redshift_smoke import run_smoke, settings_from_environment

    try:
        settings = settings_from_environment(os.environ)
    except ValueError as error:
        print(f"redshift-smoke: {error}")
        return 2
    return run_smoke(settings, args.bucket_url, keep_schema=args.keep_schema)


def main(argv: list[str] | None = None) -> int:
    arguments = sys.argv[1:] if argv is None else argv
    if arguments[:1] == ["generate"]:  # the generator parses its own options
        return generate(arguments[1:])
    parser = argparse.ArgumentParser(prog="sparkify", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("build", help=build.__doc__).set_defaults(run=build)
    commands.add_parser("stop-postgres", help=stop_postgres.__doc__).set_defaults(run=stop_postgres)
    commands.add_parser("migrate", help=migrate.__doc__).set_defaults(run=migrate)
    commands.add_parser("generate", help=generate.__doc__)
    smoke = commands.add_parser("redshift-smoke", help=redshift_smoke.__doc__)
    smoke.add_argument("--bucket-url", required=True, help="s3://bucket/prefix to write to")
    smoke.add_argument("--keep-schema", action="store_true", help="keep the scratch schema")
    smoke.set_defaults(run=redshift_smoke)
    args = parser.parse_args(arguments)
    return int(args.run(args))


if __name__ == "__main__":
    sys.exit(main())
