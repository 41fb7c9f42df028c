"""``sparkify``: build the warehouse, run Dagster on the project's instance, generate sample data,
stop the embedded PostgreSQL server.

Every command that uses Dagster uses the project's own instance (``$SPARKIFY_HOME/dagster_home``,
storage on PostgreSQL; see ``lib/dagster_instance.py``): ``build``'s runs show in the UI that
``dev`` starts, and the sensors ``dev``/``daemon`` run remember what they have seen.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

from sparkify_assets.lib.dagster_instance import (
    InstanceSettingError,
    instance_environment,
    prepare_instance,
)

# Dagster and the definitions are imported where used: `sparkify dev`, `daemon` and `dagster`
# replace this process with a Dagster program, which imports them itself (seconds per command).
if TYPE_CHECKING:
    import dagster as dg

    from sparkify_assets.warehouse_build import BuildOutcome


def _project_instance() -> dg.DagsterInstance:
    """The project's instance (its database started if it is the embedded server)."""
    import dagster as dg

    home = prepare_instance()
    os.environ["DAGSTER_HOME"] = str(home)  # for anything in this process that asks Dagster
    return dg.DagsterInstance.from_config(str(home))


def _exec_on_instance(home: Path, command: list[str]) -> int:
    """Replaces this process with ``command`` (a Dagster program of this environment) on the
    instance at ``home``."""
    program = Path(sys.executable).parent / command[0]
    argv = [str(program) if program.exists() else command[0], *command[1:]]
    os.execvpe(argv[0], argv, instance_environment(home))


def dev(arguments: list[str]) -> int:
    """The UI and the daemon (`dagster dev`) on the project's instance (options: dagster dev's)."""
    home = prepare_instance()
    return _exec_on_instance(
        home, ["dagster", "dev", "-w", str(home / "workspace.yaml"), *arguments]
    )


def daemon(arguments: list[str]) -> int:
    """The daemon alone (`dagster-daemon run`: sensors, automation, run queue) on the instance."""
    home = prepare_instance()
    workspace = str(home / "workspace.yaml")
    return _exec_on_instance(home, ["dagster-daemon", "run", "-w", workspace, *arguments])


def dagster_command(arguments: list[str]) -> int:
    """Any `dagster` command on the project's instance, e.g. `sparkify dagster asset materialize
    -m sparkify_assets.definitions --select ... --partition-range A...B`."""
    return _exec_on_instance(prepare_instance(), ["dagster", *arguments])


def instance(_: argparse.Namespace) -> int:
    """Prints the instance's directory (for `export DAGSTER_HOME=$(sparkify instance)`)."""
    print(prepare_instance())
    return 0


def _print_summary(outcome: BuildOutcome, defs: dg.Definitions, seconds: float) -> None:
    import dagster as dg

    from sparkify_assets.lib.load_window import LoadWindow
    from sparkify_assets.warehouse_build import STAR_TABLES, initialized_resource

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
    for run in outcome.runs:
        if not run.success:
            print(f"run {run.run_id} failed: see the Dagster event log above")


def build(_: argparse.Namespace) -> int:
    """Materializes every asset and prints rows per table and check outcomes."""
    import dagster as dg

    from sparkify_assets.warehouse_build import build_warehouse

    warnings.filterwarnings("ignore", category=dg.BetaWarning)
    from sparkify_assets.definitions import defs

    started = time.perf_counter()
    with _project_instance() as dagster_instance:
        outcome = build_warehouse(defs, instance=dagster_instance)
    _print_summary(outcome, defs, time.perf_counter() - started)
    return 0 if outcome.succeeded else 1


def stop_postgres(_: argparse.Namespace) -> int:
    """Stops the embedded PostgreSQL server (it is left running between runs on purpose)."""
    from sparkify_assets.lib.embedded_postgres import stop_embedded_postgres
    from sparkify_assets.lib.project_home import sparkify_home

    stopped = stop_embedded_postgres(sparkify_home() / "pgdata")
    print("embedded PostgreSQL stopped" if stopped else "embedded PostgreSQL was not running")
    return 0


def generate(arguments: list[str]) -> int:
    """Writes sample data in the source layout (`sparkify generate --help` lists the options)."""
    from sparkify_assets.lib.sample_data import main as generate_main

    return generate_main(arguments)


PASS_THROUGH = {"generate": generate, "dev": dev, "daemon": daemon, "dagster": dagster_command}


def main(argv: list[str] | None = None) -> int:
    arguments = sys.argv[1:] if argv is None else argv
    if arguments[:1] and arguments[0] in PASS_THROUGH:  # these parse their own options
        try:
            return PASS_THROUGH[arguments[0]](arguments[1:])
        except InstanceSettingError as error:
            print(f"sparkify: {error}", file=sys.stderr)
            return 2
    parser = argparse.ArgumentParser(prog="sparkify", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("build", help=build.__doc__).set_defaults(run=build)
    commands.add_parser("instance", help=instance.__doc__).set_defaults(run=instance)
    for name, command in PASS_THROUGH.items():
        commands.add_parser(name, help=command.__doc__, add_help=False)
    commands.add_parser("stop-postgres", help=stop_postgres.__doc__).set_defaults(run=stop_postgres)
    args = parser.parse_args(arguments)
    try:
        return int(args.run(args))
    except InstanceSettingError as error:
        print(f"sparkify: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
