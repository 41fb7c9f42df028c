"""``sparkify redshift-smoke``: every kind of statement the Redshift engine runs, once, on a tiny
data set in a scratch schema, with each one's outcome printed (docs/redshift_first_run.md)."""

from __future__ import annotations

import secrets
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from typing import Any, Protocol

from sparkify_assets.analytics.questions import QUESTIONS
from sparkify_assets.sample_data.generator import write_sample_source
from sparkify_assets.sample_data.spec import SampleSpec
from sparkify_assets.source.s3_tree import S3SourceTree, split_s3_url
from sparkify_assets.warehouse.check_results import run_table_checks
from sparkify_assets.warehouse.interface import transform_statements
from sparkify_assets.warehouse.load_window import LoadWindow
from sparkify_assets.warehouse.redshift.copy_manifests import ManifestStore
from sparkify_assets.warehouse.redshift.engine import RedshiftWarehouse
from sparkify_assets.warehouse.redshift.errors import RedshiftError
from sparkify_assets.warehouse.redshift.session import StatementObserver
from sparkify_assets.warehouse.redshift.statement_rendering import render_schema, render_table
from sparkify_assets.warehouse.settings import WarehouseSettings
from sparkify_assets.warehouse.sql_files import statement
from sparkify_assets.warehouse.tables import WAREHOUSE_TABLES

SMOKE_SPEC = SampleSpec(seed=12, days=2, events_per_day=30, users=5, catalog_songs=8)
STAR_TABLES = ("songs", "artists", "users", "songplays", "time")
ANALYTICS = tuple(sorted(QUESTIONS, key=lambda question: question.name))


class Connect(Protocol):
    def __call__(
        self, settings: WarehouseSettings, *, observer: StatementObserver | None = None
    ) -> RedshiftWarehouse: ...


@dataclass
class StatementTally:
    """What one statement key did over the smoke run."""

    runs: int = 0
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)


@dataclass
class SmokeReport:
    statements: dict[str, StatementTally] = field(default_factory=dict)
    steps: list[tuple[str, str | None]] = field(default_factory=list)  # (step, error or None)

    def observe(self, key: str, seconds: float, error: RedshiftError | None) -> None:
        tally = self.statements.setdefault(key, StatementTally())
        tally.runs += 1
        tally.seconds += seconds
        if error is not None:
            tally.errors.append(error.description or str(error))

    @property
    def succeeded(self) -> bool:
        return all(error is None for _, error in self.steps) and not any(
            t.errors for t in self.statements.values()
        )

    def lines(self) -> Iterator[str]:
        yield f"{'statement':<58}{'runs':>5}{'seconds':>9}  outcome"
        for key in sorted(self.statements):
            tally = self.statements[key]
            outcome = "ok" if not tally.errors else f"FAILED: {tally.errors[0]}"
            yield f"{key:<58}{tally.runs:>5}{tally.seconds:>9.2f}  {outcome}"
        yield ""
        for step, error in self.steps:
            yield f"step {step:<40} {'ok' if error is None else 'FAILED: ' + error}"
        yield ""
        yield "smoke test passed" if self.succeeded else "smoke test FAILED"


def write_smoke_source(root: Path) -> list[Path]:
    """The tiny source under ``root``, plus one malformed line and a stray object next to the
    first day's file (which the manifest must keep out); returns every file to upload."""
    write_sample_source(root, SMOKE_SPEC)  # log_json_path.json included
    first = root / f"log_data/{SMOKE_SPEC.start:%Y/%m}/{SMOKE_SPEC.start:%Y-%m-%d}-events.json"
    first.write_bytes(first.read_bytes() + b'{"not": json\n')
    (first.parent / (first.name + ".bak")).write_bytes(first.read_bytes())
    return sorted(p for p in root.rglob("*") if p.is_file())


def upload(client: Any, files: Sequence[Path], root: Path, target_url: str) -> None:
    bucket, prefix = split_s3_url(target_url)
    for path in files:
        client.put_object(
            Bucket=bucket,
            Key=f"{prefix}{path.relative_to(root).as_posix()}",
            Body=path.read_bytes(),
        )


def run_smoke(
    settings: WarehouseSettings,
    bucket_url: str,
    *,
    connect: Connect = RedshiftWarehouse.connect,
    s3_client: Any = None,
    keep_schema: bool = False,
    out: Callable[[str], None] = print,
) -> int:
    """Runs the smoke test; prints the report with ``out``; returns the exit code."""
    if not settings.url.strip().lower().startswith("redshift://"):
        out("redshift-smoke: set SPARKIFY_WAREHOUSE_URL to redshift://user@host:5439/database")
        return 2
    if not bucket_url.startswith("s3://"):
        out("redshift-smoke: --bucket-url must be an s3://bucket/prefix the process may write")
        return 2
    run = secrets.token_hex(4)
    schema = f"sparkify_smoke_{run}"
    source_url = f"{bucket_url.rstrip('/')}/smoke-{run}"
    if not settings.staging_url:
        settings = replace(settings, staging_url=f"{source_url}/staging")
    if s3_client is None:
        s3_client = ManifestStore.from_url(settings.staging_url, region=settings.region).client
    report = SmokeReport()
    out(f"redshift-smoke: source {source_url}, scratch schema {schema}")

    @contextmanager
    def step(name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        except Exception as error:  # every step runs; its failure is reported, not raised
            description = getattr(error, "description", None) or f"{type(error).__name__}: {error}"
            report.steps.append((name, str(description).splitlines()[0][:300]))
            if not isinstance(error, RedshiftError):
                out("".join(traceback.format_exception_only(error)).strip())
        else:
            report.steps.append((name, None))
        out(f"  {name}: {time.perf_counter() - started:.1f} s")

    with tempfile.TemporaryDirectory(prefix="sparkify-smoke-") as directory:
        root = Path(directory)
        with step("write the tiny source to S3"):
            upload(s3_client, write_smoke_source(root), root, source_url)
    try:
        warehouse = connect(settings, observer=report.observe)
    except Exception as error:  # the connection itself: nothing else can run
        description = getattr(error, "description", None) or str(error)
        out(f"redshift-smoke: cannot connect: {description}")
        return 1
    window = LoadWindow(SMOKE_SPEC.start, SMOKE_SPEC.start + timedelta(days=SMOKE_SPEC.days))
    params = window.sql_params()
    with step("scratch schema"), warehouse.transaction() as session:
        for name in ("create_schema", "use_schema"):
            key = f"redshift/smoke.{name}"
            session.execute_rendered(key, render_schema(statement(key), schema))
        (where,) = session.query(statement("catalog.current_location"))
        if where["schema_name"] != schema:
            raise RuntimeError(f"the session's schema is {where['schema_name']!r}, not {schema}")
    if report.steps[-1][1] is not None:
        # Without the scratch schema every later statement would reach the real tables: stop.
        warehouse.close()
        for line in report.lines():
            out(line)
        out(
            "redshift-smoke: the scratch schema could not be created and used; nothing else ran."
            " The user needs CREATE on the database (run the smoke test as the administrator, or"
            " GRANT CREATE ON DATABASE <db> TO <user> for the test)."
        )
        return 1
    try:
        with step("tables and comments"):
            warehouse.ensure_tables()
        with step("catalog queries"):
            warehouse.describe_table("songplays")
            warehouse.query(statement("catalog.current_location"))
        tree = S3SourceTree.from_url(source_url)
        tree.client = s3_client
        with step("song catalog COPY"):
            warehouse.load_song_catalog(tree, run_id=f"smoke-{run}", log=out)
        with step("event COPY (manifest), checks, quarantine"):
            warehouse.load_event_days(tree, window, run_id=f"smoke-{run}", log=out)
        for table in STAR_TABLES:
            with step(f"transform {table}"):
                warehouse.replace_rows(
                    table,
                    transform_statements(table, warehouse.engine),
                    {} if table in ("songs", "artists") else params,
                )
        with step("asset checks"):
            check_params = {
                **params,
                "loaded_rows": warehouse.row_count("staging_events", window),
                "max_quarantine_share": 1.0,
            }
            for table in WAREHOUSE_TABLES:
                if table == "load_quarantine":
                    continue
                if table == "staging_songs":
                    songs = {
                        "loaded_rows": warehouse.row_count("staging_songs", None),
                        "max_quarantine_share": 1.0,
                    }
                    run_table_checks(warehouse, table, songs)
                else:
                    run_table_checks(warehouse, table, check_params)
        with step("row counts"):
            for table in WAREHOUSE_TABLES:
                warehouse.row_count(table, window if table != "load_quarantine" else None)
        with step("analytics queries"):
            for question in ANALYTICS:
                warehouse.query(statement(question.statement_key))
        with step("ANALYZE and VACUUM DELETE ONLY"):
            for name in ("analyze_table", "vacuum_delete_only"):
                key = f"redshift/upkeep.{name}"
                text = render_table(statement(key), "staging_events")
                if name == "vacuum_delete_only":
                    warehouse.run_vacuum(key, text)
                else:
                    with warehouse.transaction() as session:
                        session.execute_rendered(key, text)
    finally:
        if not keep_schema:
            with step("drop the scratch schema"), warehouse.transaction() as session:
                key = "redshift/smoke.drop_schema"
                session.execute_rendered(key, render_schema(statement(key), schema))
        warehouse.close()
    for line in report.lines():
        out(line)
    return 0 if report.succeeded else 1


def settings_from_environment(environ: Mapping[str, str]) -> WarehouseSettings:
    """The warehouse settings the assets read, from the same environment variables."""

    def seconds(name: str, default: int) -> int:
        value = environ.get(name, "").strip()
        if not value:
            return default
        if not value.isascii() or not value.isdigit():
            raise ValueError(f"{name} must be a whole number of seconds, not {value!r}")
        return int(value)

    return WarehouseSettings(
        url=environ.get("SPARKIFY_WAREHOUSE_URL", ""),
        password=environ.get("SPARKIFY_WAREHOUSE_PASSWORD", ""),
        iam_role_arn=environ.get("SPARKIFY_REDSHIFT_IAM_ROLE_ARN", ""),
        region=environ.get("AWS_REGION", ""),
        staging_url=environ.get("SPARKIFY_REDSHIFT_STAGING_URL", ""),
        connect_timeout_seconds=seconds("SPARKIFY_REDSHIFT_CONNECT_TIMEOUT_SECONDS", 30),
        statement_timeout_seconds=seconds("SPARKIFY_REDSHIFT_STATEMENT_TIMEOUT_SECONDS", 10_800),
    )
