"""The ``sparkify`` command: its subcommands, and the one-line messages and exit statuses of
configuration and connection problems."""

from __future__ import annotations

import argparse
import os
import sys
import time
import traceback
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sparkify_assets.instance.project_instance import (
    InstanceSettingError,
    instance_environment,
    prepare_instance,
)

# Dagster and the definitions are imported where used: `sparkify dev`, `daemon` and `dagster`
# replace this process with a Dagster program, which imports them itself (seconds per command).
# So is SettingProblem (a dagster.Failure): importing it imported Dagster, 0.5 s of every
# `sparkify dagster ...` command before the exec.
if TYPE_CHECKING:
    import dagster as dg

    from sparkify_assets.commands.build import BuildOutcome

EXIT_FAILED = 1  # a run or an error-severity check failed
EXIT_SETTING = 2  # a setting is wrong or a service is unreachable: the message says which
LOG_LEVELS = ("debug", "info", "warning", "error")


def _instance() -> dg.DagsterInstance:
    """The project's instance (its database started if it is the embedded server)."""
    import dagster as dg

    from sparkify_assets.settings.problems import SettingProblem

    try:
        home = prepare_instance()
    except InstanceSettingError as error:
        raise SettingProblem(str(error), setting="SPARKIFY_DAGSTER_STORAGE_URL") from None
    os.environ["DAGSTER_HOME"] = str(home)  # for anything in this process that asks Dagster
    return dg.DagsterInstance.from_config(str(home))


def _exec_on_instance(command: list[str], *, with_workspace: bool = False) -> int:
    """Replaces this process with ``command`` (a Dagster program of this environment) on the
    project's instance, prepared first (``with_workspace``: ``-w`` its workspace.yaml). Asked for
    ``--help``, the program answers without an instance or a server started (``-h`` is not help:
    it is `dagster dev`'s host)."""
    program = Path(sys.executable).parent / command[0]
    argv = [str(program) if program.exists() else command[0], *command[1:]]
    if "--help" in argv[1:]:
        os.execvp(argv[0], argv)
    home = prepare_instance()
    if with_workspace:
        argv += ["-w", str(home / "workspace.yaml")]
    os.execvpe(argv[0], argv, instance_environment(home))


def dev(arguments: list[str]) -> int:
    """The UI and the daemon (`dagster dev`) on the project's instance (options: dagster dev's)."""
    return _exec_on_instance(["dagster", "dev", *arguments], with_workspace=True)


def daemon(arguments: list[str]) -> int:
    """The daemon alone (`dagster-daemon run`: sensors, automation, run queue) on the instance."""
    return _exec_on_instance(["dagster-daemon", "run", *arguments], with_workspace=True)


def dagster_command(arguments: list[str]) -> int:
    """Any `dagster` command on the project's instance, e.g. `sparkify dagster asset materialize
    -m sparkify_assets.definitions --select ... --partition-range A...B`."""
    return _exec_on_instance(["dagster", *arguments])


def instance(_: argparse.Namespace) -> int:
    """Prepares the instance and prints its directory (`export DAGSTER_HOME=...`)."""
    print(prepare_instance())  # an InstanceSettingError is reported by main
    return 0


def _print_checks(outcome: BuildOutcome) -> None:
    import dagster as dg

    from sparkify_assets.defs.freshness_checks import CHECK_NAME as FRESHNESS_CHECK

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


def _print_summary(outcome: BuildOutcome, warehouse: Any, seconds: float) -> int:
    """Prints what the build did and returns the exit status. Queries the warehouse for row
    counts only after every run succeeded: a failed run may mean the warehouse is down."""
    print()
    failed_runs = [run for run in outcome.runs if not run.success]
    if failed_runs:
        print(f"Sparkify warehouse build FAILED after {seconds:.1f} s ({len(outcome.runs)} runs)")
        for run in failed_runs:
            for step, message in run.step_failures.items():
                print(f"  {step}: {message}")
            if not run.step_failures:
                print(f"  run {run.run_id} failed: see the Dagster event log above")
        _print_checks(outcome)
        return EXIT_FAILED
    from sparkify_assets.defs.asset_groups import TABLE_ASSETS
    from sparkify_assets.warehouse.load_window import LoadWindow

    print(f"Sparkify warehouse built in {seconds:.1f} s ({len(outcome.runs)} Dagster runs)")
    if outcome.log_dates:
        print(
            f"log dates: {outcome.log_dates[0]} .. {outcome.log_dates[-1]}"
            f" ({len(outcome.log_dates)} days)"
        )
    with warehouse.open(make_ready=False) as connection:
        print(f"\n{'table':<16}{'rows':>12}")
        for table in (*TABLE_ASSETS, "load_quarantine"):
            print(f"{table:<16}{connection.row_count(table, LoadWindow.all_dates()):>12,}")
    _print_checks(outcome)
    return 0 if outcome.succeeded else EXIT_FAILED


def build(args: argparse.Namespace) -> int:
    """Materializes every asset and prints rows per table and check outcomes."""
    from sparkify_assets.commands.build import build_warehouse, initialized_resource
    from sparkify_assets.commands.upgrade import require_current_schema
    from sparkify_assets.definitions import defs
    from sparkify_assets.source.problems import reported_source_problems

    resources = defs.resources or {}
    started = time.perf_counter()
    with _instance() as dagster_instance:
        source = initialized_resource(resources["source"], dagster_instance)
        warehouse = initialized_resource(resources["warehouse"], dagster_instance)
        # Settings first, before any run: a wrong one is one message, not a failed run per step.
        tree = source.tree()
        with reported_source_problems(tree.url):
            log_dates = [day for day, _ in tree.log_files()]
        with warehouse.open(make_ready=False) as connection:
            require_current_schema(connection)  # else: the command that upgrades it
        outcome = build_warehouse(
            defs,
            instance=dagster_instance,
            log_dates=log_dates,  # every log date in the source
            log_level=args.log_level.upper(),
            check_freshness=True,
        )
    return _print_summary(outcome, warehouse, time.perf_counter() - started)


def restore(args: argparse.Namespace) -> int:
    """Restores the warehouse (or --first-day..--last-day) from the backup (warehouse_restore)."""
    from sparkify_assets.definitions import defs

    config = {
        "backup_url": args.backup_url or "",
        "first_day": args.first_day or "",
        "last_day": args.last_day or "",
        "snapshot_date": args.snapshot_date or "",
        **({"restore_snapshot": args.snapshot} if args.snapshot is not None else {}),
    }
    result = defs.get_job_def("warehouse_restore").execute_in_process(
        run_config={"ops": {"restore_warehouse_from_backup": {"config": config}}},
        instance=_instance(),
        raise_on_error=False,
    )
    print("restore succeeded" if result.success else "restore failed: see the Dagster log above")
    return 0 if result.success else EXIT_FAILED


def migrate(_: argparse.Namespace) -> int:
    """Upgrades the warehouse's tables in place to this release's schema version (no row lost),
    and the Dagster instance (as `dagster instance migrate`): the one DAGSTER_HOME names, else the
    project's own."""
    from sparkify_assets.commands.upgrade import migrate_dagster_instance, migrate_warehouse
    from sparkify_assets.definitions import defs

    migrate_warehouse(defs, print)
    if not os.environ.get("DAGSTER_HOME"):
        _instance().dispose()  # prepares the project's instance and names it in DAGSTER_HOME
    migrate_dagster_instance(print)
    return 0


def stop_postgres(_: argparse.Namespace) -> int:
    """Stops the embedded PostgreSQL server (it is left running between runs on purpose)."""
    from sparkify_assets.settings.project_home import sparkify_home
    from sparkify_assets.warehouse.postgres.embedded_server import stop_embedded_postgres

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
    from sparkify_assets.sample_data.generator import main as generate_main

    return generate_main(arguments)


def redshift_smoke(args: argparse.Namespace) -> int:
    """Runs every kind of Redshift statement once on a tiny data set in a scratch schema and
    prints each one's outcome (docs/redshift_first_run.md)."""
    from sparkify_assets.warehouse.redshift.smoke import run_smoke, settings_from_environment

    try:
        settings = settings_from_environment(os.environ)
    except ValueError as error:
        print(f"redshift-smoke: {error}")
        return 2
    return run_smoke(settings, args.bucket_url, keep_schema=args.keep_schema)


# What `sparkify --help` says before the subcommands.
HELP_DESCRIPTION = """\
``sparkify``: build the warehouse, run Dagster on the project's instance, generate sample data,
stop the embedded PostgreSQL server.

Every command that uses Dagster uses the project's own instance (``$SPARKIFY_HOME/dagster_home``,
storage on PostgreSQL; see ``instance/project_instance.py``): ``build``'s runs show in the UI that
``dev`` starts, and the sensors ``dev``/``daemon`` run remember what they have seen.

A configuration or connection problem ends in one line naming the setting and the fix, exit
status 2; a failed run or check exits 1. ``--debug`` shows the traceback instead.
"""

PASS_THROUGH = {"generate": generate, "dev": dev, "daemon": daemon, "dagster": dagster_command}


def command_parser() -> argparse.ArgumentParser:
    """The ``sparkify`` command line: its subcommands and options."""
    parser = argparse.ArgumentParser(
        prog="sparkify",
        description=HELP_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--debug", action="store_true", help="show the traceback of a configuration error"
    )
    commands = parser.add_subparsers(dest="command", required=True)
    build_command = commands.add_parser("build", help=build.__doc__, description=build.__doc__)
    build_command.add_argument(
        "--log-level",
        choices=LOG_LEVELS,
        default="info",
        help=(
            "Dagster's console log level (default info: a line per file loaded; debug adds every"
            " Dagster event, per day and per asset)"
        ),
    )
    build_command.set_defaults(run=build)
    commands.add_parser("stop-postgres", help=stop_postgres.__doc__).set_defaults(run=stop_postgres)
    commands.add_parser("migrate", help=migrate.__doc__).set_defaults(run=migrate)
    restoring = commands.add_parser("restore", help=restore.__doc__)
    restoring.add_argument(
        "--from", dest="backup_url", help="backup URL (default: SPARKIFY_BACKUP_URL)"
    )
    restoring.add_argument("--first-day", help="first log date to restore, YYYY-MM-DD")
    restoring.add_argument("--last-day", help="last log date to restore, YYYY-MM-DD")
    restoring.add_argument(
        "--snapshot-date", help="dimension snapshot to restore (default: newest)"
    )
    restoring.add_argument(
        "--snapshot",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="restore the dimension snapshot (default: yes for a full restore, no for a range)",
    )
    restoring.set_defaults(run=restore)
    commands.add_parser("instance", help=instance.__doc__).set_defaults(run=instance)
    for name, command in PASS_THROUGH.items():
        commands.add_parser(name, help=command.__doc__, add_help=False)
    smoke = commands.add_parser("redshift-smoke", help=redshift_smoke.__doc__)
    smoke.add_argument("--bucket-url", required=True, help="s3://bucket/prefix to write to")
    smoke.add_argument("--keep-schema", action="store_true", help="keep the scratch schema")
    smoke.set_defaults(run=redshift_smoke)
    return parser


def main(argv: list[str] | None = None) -> int:
    arguments = sys.argv[1:] if argv is None else argv
    debug = "--debug" in arguments
    if debug:
        arguments = [argument for argument in arguments if argument != "--debug"]
    try:
        if arguments[:1] and arguments[0] in PASS_THROUGH:  # these parse their own options
            return PASS_THROUGH[arguments[0]](arguments[1:])
        args = command_parser().parse_args(arguments)
        return int(args.run(args))
    except InstanceSettingError as error:
        if debug:
            traceback.print_exc()
        print(f"sparkify: {error}", file=sys.stderr)
        return EXIT_SETTING
    except Exception as error:
        message = _setting_problem_message(error)
        if message is None:
            raise
        if debug:
            traceback.print_exc()
        print(f"sparkify: {message}", file=sys.stderr)
        return EXIT_SETTING


def _setting_problem_message(error: Exception) -> str | None:
    """The one-line message of a problem a person fixes by a setting or by starting a service (a
    SettingProblem, or the embedded server's own error: its message says what to do); None for
    anything else."""
    from sparkify_assets.settings.problems import SettingProblem
    from sparkify_assets.warehouse.postgres.embedded_server import EmbeddedPostgresError

    if isinstance(error, SettingProblem):
        return error.message
    if isinstance(error, EmbeddedPostgresError):
        return str(error)
    return None


if __name__ == "__main__":
    sys.exit(main())
