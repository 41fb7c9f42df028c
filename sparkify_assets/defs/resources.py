"""The resources the assets share: where the raw data is, and the warehouse."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date

import dagster as dg
from pydantic import Field, PrivateAttr

from sparkify_assets.sample_data.default_source import default_sample_source
from sparkify_assets.settings.deployment_mode import configuration_problem, deployment_mode
from sparkify_assets.settings.problems import SOURCE_SETTING, SettingProblem
from sparkify_assets.settings.project_home import sparkify_home
from sparkify_assets.source.open_tree import open_source_tree
from sparkify_assets.source.problems import source_problem
from sparkify_assets.source.tree import SourceTree
from sparkify_assets.warehouse.engine_choice import connect_warehouse
from sparkify_assets.warehouse.interface import Warehouse
from sparkify_assets.warehouse.settings import DEFAULT_SCHEMA, WarehouseSettings
from sparkify_assets.warehouse.tables import checked_schema_name


class SourceResource(dg.ConfigurableResource):
    """The raw Sparkify data: song_data/ and log_data/ under a local directory or an S3 prefix."""

    url: str = Field(
        default="",
        description=(
            "SPARKIFY_SOURCE_URL: a directory or s3://bucket/prefix; empty = the sample data."
        ),
    )
    max_quarantine_share: float = Field(
        default=0.01,
        description="Share of quarantined records above which the quarantine check fails (0..1).",
    )
    s3_endpoint_url: str = Field(
        default="",
        description=(
            "SPARKIFY_S3_ENDPOINT_URL: endpoint of an S3-compatible store (MinIO, ...); empty ="
            " AWS_ENDPOINT_URL if set, else AWS S3."
        ),
    )
    s3_region: str = Field(
        default="", description="AWS_REGION of the source bucket; empty = the AWS default chain."
    )
    s3_max_attempts: int = Field(
        default=8,
        description=(
            "Retries per S3 request after the first (botocore standard mode: exponential backoff"
            " with jitter on throttling, 5xx and connection errors)."
        ),
    )
    log_full_listing_interval_seconds: int = Field(
        default=600,
        description=(
            "How often the log_data sensor lists all of log_data/ to find late and re-uploaded"
            " files; new days are found on every tick by listing only the keys after the newest."
        ),
    )

    warehouse_url: str = Field(
        default="",
        description=(
            "SPARKIFY_WAREHOUSE_URL, as the warehouse resource has it: with a real warehouse an"
            " empty url is refused instead of meaning the sample data."
        ),
    )
    deployment_mode: str = Field(
        default="",
        description=(
            "Informational, set when the code location loads: which warehouse and source this"
            " deployment runs on (laptop = embedded PostgreSQL + generated sample data), or why"
            " it is refused. Runs and sensors decide from url and warehouse_url, not from this."
        ),
    )

    def configuration_problem(self) -> str | None:
        """Why this source cannot be used with the configured warehouse, or None."""
        return configuration_problem(self.url, self.warehouse_url)

    def mode(self) -> str:
        return deployment_mode(self.url, self.warehouse_url)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        # In a run, a refused configuration fails resource set-up, before any step (the run's
        # page shows the message). Sensors set resources up outside a run: they skip with it.
        problem = self.configuration_problem()
        if problem and context.run is not None:
            raise SettingProblem(problem, setting=SOURCE_SETTING)

    _newest_log_day: tuple[date | None] | None = PrivateAttr(default=None)

    def newest_log_day(self) -> date | None:
        """The newest log day in the source, listed once for the resource's life (one run): the
        checks of a run share it, where each listing grows with the history."""
        if self._newest_log_day is None:
            self._newest_log_day = (max((day for day, _ in self.tree().log_files()), default=None),)
        return self._newest_log_day[0]

    def tree(self) -> SourceTree:
        """The source tree; a SettingProblem when SPARKIFY_SOURCE_URL names none."""
        refused = self.configuration_problem()  # a real warehouse and no source: never the sample
        if refused:
            raise SettingProblem(refused, setting=SOURCE_SETTING)
        if not self.url:
            return open_source_tree(str(default_sample_source(sparkify_home())))
        try:
            return open_source_tree(
                self.url,
                endpoint_url=self.s3_endpoint_url or None,
                region_name=self.s3_region or None,
                max_attempts=str(self.s3_max_attempts),
            )
        except Exception as error:
            problem = source_problem(error, self.url)
            if problem is None:
                raise
            raise problem from None


class WarehouseResource(dg.ConfigurableResource):
    """The warehouse every table is materialized in: Redshift in production, else PostgreSQL."""

    url: str = Field(
        default="",
        description=(
            "SPARKIFY_WAREHOUSE_URL: postgresql://... (any libpq URL), redshift://user@host:5439/db,"
            " or empty for the embedded PostgreSQL server."
        ),
    )
    password: str = Field(
        default="",
        description=(
            "SPARKIFY_WAREHOUSE_PASSWORD: the password of the user in the URL (a URL holding a"
            " password is refused); empty = IAM (Redshift) or a libpq passfile (PostgreSQL)."
        ),
    )
    iam_role_arn: str = Field(
        default="", description="SPARKIFY_REDSHIFT_IAM_ROLE_ARN: the role Redshift COPY assumes."
    )
    region: str = Field(default="", description="AWS region of the cluster and the source bucket.")
    schema_name: str = Field(
        default=DEFAULT_SCHEMA,
        description=(
            "SPARKIFY_WAREHOUSE_SCHEMA: the schema every table is in (created if missing), so"
            " dev and prod can share one database or cluster."
        ),
    )
    redshift_staging_url: str = Field(
        default="",
        description=(
            "SPARKIFY_REDSHIFT_STAGING_URL: s3://bucket/prefix where the Redshift engine writes a"
            " COPY manifest per day's file (this process writes it, the COPY role reads it)."
        ),
    )
    redshift_connect_timeout_seconds: int = Field(
        default=30,
        description=(
            "SPARKIFY_REDSHIFT_CONNECT_TIMEOUT_SECONDS: bound on connecting and logging in to"
            " Redshift; never applies to a running statement."
        ),
    )
    redshift_statement_timeout_seconds: int = Field(
        default=10_800,
        description=(
            "SPARKIFY_REDSHIFT_STATEMENT_TIMEOUT_SECONDS: Redshift's statement_timeout for each"
            " statement of the engine's sessions (queueing included); 0 = none."
        ),
    )

    _tables_ready: bool = PrivateAttr(default=False)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        try:
            checked_schema_name(self.schema_name or DEFAULT_SCHEMA)
        except ValueError as error:  # one line from `sparkify`, exit 2; no retry in a run
            raise SettingProblem(str(error), setting="SPARKIFY_WAREHOUSE_SCHEMA") from None

    @contextmanager
    def open(self, *, make_ready: bool = True) -> Iterator[Warehouse]:
        """A connection for one step, closed at the end of the block. The first one of a run
        makes the warehouse ready (schema and tables created where missing, the schema version
        checked), so no step has to; ``make_ready=False``: as it is (``sparkify migrate``)."""
        warehouse = self._connect()
        try:
            if make_ready and not self._tables_ready:
                warehouse.ensure_tables()
                self._tables_ready = True
            yield warehouse
        finally:
            warehouse.close()

    @contextmanager
    def open_side(self, log: Callable[[str], None]) -> Iterator[Warehouse | None]:
        """A second connection beside a step's own, for read-only work that may run alongside
        (its checks), closed at the end of the block; None when one cannot be opened now (a
        server at its connection limit): the step goes on with its own, after one ``log`` line."""
        try:
            side: Warehouse | None = self._connect()
        except Exception as error:  # the step's data is written: a side connection is optional
            log(f"no side connection ({' '.join(str(error).split())}): checks one at a time")
            side = None
        try:
            yield side
        finally:
            if side is not None:
                side.close()

    def _connect(self) -> Warehouse:
        return connect_warehouse(
            WarehouseSettings(
                url=self.url,
                password=self.password,
                iam_role_arn=self.iam_role_arn,
                region=self.region,
                schema=self.schema_name or DEFAULT_SCHEMA,
                staging_url=self.redshift_staging_url,
                connect_timeout_seconds=self.redshift_connect_timeout_seconds,
                statement_timeout_seconds=self.redshift_statement_timeout_seconds,
            )
        )
