"""The Redshift engine: COPY from S3 into temporary tables, checked and converted in SQL, rejected
lines quarantined from the load-error log; transforms and checks are the shared sql/ files.
Why each choice: docs/redshift.md and docs/redshift_first_run.md."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, NamedTuple

import dagster as dg
import redshift_connector

from sparkify_assets.records.quarantine import RAW_TEXT_LIMIT
from sparkify_assets.settings.problems import (
    WAREHOUSE_SETTING,
    SettingProblem,
)
from sparkify_assets.source.layout import SONG_PREFIX
from sparkify_assets.source.tree import SourceTree
from sparkify_assets.warehouse.interface import (
    FileLoad,
    LoadReport,
    Log,
    Warehouse,
    ddl_statements,
    record_first_version,
    schema_version_statements,
)
from sparkify_assets.warehouse.load_window import LoadWindow
from sparkify_assets.warehouse.query_rows import Row, RowCount, int_value, optional_int_value
from sparkify_assets.warehouse.redshift.connection import (
    RedshiftTarget,
    connect_arguments,
    open_connection,
)
from sparkify_assets.warehouse.redshift.copy_manifests import (
    STAGING_SETTING,
    ManifestStore,
    manifest_body,
)
from sparkify_assets.warehouse.redshift.errors import (
    CopyRejection,
    RedshiftError,
    RedshiftLoadRejected,
    connect_problem,
    error_from_driver,
)
from sparkify_assets.warehouse.redshift.session import (
    LoadErrorCursor,
    RedshiftSession,
    StatementObserver,
)
from sparkify_assets.warehouse.redshift.statement_rendering import (
    render_copy,
    render_schema_statement,
    render_statement_timeout,
    render_table,
    render_unload,
)
from sparkify_assets.warehouse.redshift.upkeep import upkeep_plan
from sparkify_assets.warehouse.schema_versions import VERSION_TABLE
from sparkify_assets.warehouse.settings import WarehouseSettings
from sparkify_assets.warehouse.sql_files import SqlStatement, statement
from sparkify_assets.warehouse.tables import (
    WAREHOUSE_TABLES,
    checked_schema_name,
)

if TYPE_CHECKING:
    from sparkify_assets.warehouse.backup.datasets import BackupPart
    from sparkify_assets.warehouse.backup.location import BackupLocation
    from sparkify_assets.warehouse.backup.restore_plan import RestorePlan


ENGINE = "redshift"
JSONPATHS_KEY = "log_json_path.json"  # the layout's JSONPaths file, at the source tree's root
REJECTIONS_LOGGED = 20  # rejected lines written to the run log per COPY (all are quarantined)
BACKUP_RESTORE_FOLDER = "_restore"  # COPY manifests of a running restore, deleted after it


class RedshiftWarehouse(Warehouse):
    """An Amazon Redshift database (a provisioned cluster or a Serverless workgroup)."""

    engine = ENGINE

    def __init__(
        self,
        connection: redshift_connector.Connection,
        *,
        target: RedshiftTarget,
        iam_role_arn: str = "",
        region: str = "",
        secrets: Sequence[str] = (),
        manifests: ManifestStore | None = None,
        observer: StatementObserver | None = None,
        schema: str = "public",
    ) -> None:
        self._connection = connection
        self.schema = checked_schema_name(schema)
        self.target = target
        self.iam_role_arn = iam_role_arn
        self.region = region or target.region
        self._secrets = tuple(s for s in secrets if s)
        self.manifests = manifests
        self.observer = observer

    @classmethod
    def connect(
        cls, settings: WarehouseSettings, *, observer: StatementObserver | None = None
    ) -> RedshiftWarehouse:
        try:
            target = RedshiftTarget.from_url(settings.url)
            arguments = connect_arguments(target, settings)
            timeout = render_statement_timeout(settings.statement_timeout_seconds)
            manifests = (
                ManifestStore.from_url(settings.staging_url, region=settings.region)
                if settings.staging_url
                else None
            )
        except ValueError as error:  # a configuration mistake: retrying cannot fix it
            raise SettingProblem(
                f"Redshift settings: {error}.", setting=WAREHOUSE_SETTING
            ) from None
        secrets = (settings.password,)
        try:
            connection = open_connection(arguments)
        except (redshift_connector.Error, OSError) as error:
            raise connect_problem(
                error_from_driver(
                    f"connect to {target}", error, secrets, action="could not be opened"
                ),
                target,
            ) from None
        connection.autocommit = False
        warehouse = cls(
            connection,
            target=target,
            iam_role_arn=settings.iam_role_arn,
            region=settings.region,
            secrets=secrets,
            schema=settings.schema,
            manifests=manifests,
            observer=observer,
        )
        try:
            with warehouse.transaction() as session:  # committed: SET lasts for the session
                session.execute_rendered("redshift/session.set_statement_timeout", timeout)
                session.execute_rendered(
                    "redshift/catalog.set_search_path",
                    render_schema_statement("redshift/catalog.set_search_path", warehouse.schema),
                )
        except BaseException:
            warehouse.close()
            raise
        return warehouse

    def close(self) -> None:
        with contextlib.suppress(redshift_connector.Error, OSError):  # gone already
            self._connection.close()

    def _end(self, key: str, commit: bool) -> None:
        try:
            if commit:
                self._connection.commit()
            else:
                self._connection.rollback()
        except (redshift_connector.Error, OSError) as error:
            raise error_from_driver(key, error, self._secrets) from None

    @contextmanager
    def transaction(self) -> Iterator[RedshiftSession]:
        try:
            yield RedshiftSession(self._connection, self._secrets, self.observer)
        except BaseException:
            with contextlib.suppress(RedshiftError):  # keep the original error
                self._end("rollback", commit=False)
            raise
        self._end("commit", commit=True)

    # -- tables ------------------------------------------------------------------------------------

    def ensure_schema(self) -> None:
        (row,) = self.query(statement("catalog.schema_exists"), {"schema_name": self.schema})
        if not row["found"]:
            with self.transaction() as session:
                session.execute_rendered(
                    "redshift/catalog.create_schema",
                    render_schema_statement("redshift/catalog.create_schema", self.schema),
                )

    def create_missing_tables(self) -> None:
        existing = {
            str(r["table_name"]) for r in self.query(statement("redshift/catalog.existing_tables"))
        }
        missing = [table for table in WAREHOUSE_TABLES if table not in existing]
        if not missing and VERSION_TABLE in existing:
            return
        # CREATE TABLE IF NOT EXISTS: a concurrent first run that wins the race makes this one fail
        # with a retryable error, and the retry finds the tables.
        with self.transaction() as session:
            for table in missing:
                for sql in ddl_statements(ENGINE, table):
                    session.execute(sql)
            for sql in schema_version_statements():
                session.execute(sql)
            record_first_version(session)

    def replace_rows(
        self, table: str, statements: Sequence[SqlStatement], params: Mapping[str, object]
    ) -> None:
        """The shared delete-then-insert under the table's lock, then the upkeep it calls for."""
        deleted = inserted = 0
        with self.transaction() as session:
            session.lock_for_write(table)
            for sql in statements:
                count = max(session.execute(sql, params), 0)
                if sql.name.startswith("delete"):
                    deleted += count
                else:
                    inserted += count
        self.upkeep(table, deleted=deleted, inserted=inserted)

    # -- upkeep ------------------------------------------------------------------------------------

    def upkeep(
        self, table: str, *, deleted: int, inserted: int, log: Log | None = None
    ) -> list[str]:
        """ANALYZE and/or VACUUM DELETE ONLY ``table`` when ``redshift_upkeep.upkeep_plan`` asks
        for it after a replacement; returns the statements run. The data is committed already, so
        a failed upkeep statement is logged, not raised (Redshift's automatic analyze and vacuum
        catch up)."""
        if deleted == 0 and inserted == 0:
            return []
        with self.transaction() as session:
            (counted,) = session.query_rendered(
                "redshift/upkeep.table_rows",
                render_table(statement("redshift/upkeep.table_rows"), table),
            )
        plan = upkeep_plan(
            rows_after=RowCount.from_row(counted).row_count,
            deleted=deleted,
            inserted=inserted,
        )
        done = []
        for name in plan.statements:
            key = f"redshift/upkeep.{name}"
            text = render_table(statement(key), table)
            try:
                if name == "vacuum_delete_only":
                    self.run_vacuum(key, text)
                else:
                    with self.transaction() as session:
                        session.execute_rendered(key, text)
            except RedshiftError as error:
                if log is not None:
                    log(f"{table}: {error.description} (left to Redshift's automatic upkeep)")
                continue
            done.append(name)
            if log is not None:
                log(f"{table}: {name} after deleting {deleted} and inserting {inserted} rows")
        return done

    def run_vacuum(self, key: str, text: str) -> None:
        """Runs a VACUUM, which Redshift refuses inside a transaction block: in autocommit mode.
        (The offline tests replace this, and only this, since PostgreSQL has no DELETE ONLY.)"""
        self._connection.autocommit = True
        try:
            RedshiftSession(self._connection, self._secrets, self.observer).execute_rendered(
                key, text
            )
        finally:
            self._connection.autocommit = False

    # -- staging -----------------------------------------------------------------------------------

    def _source_base(self, tree: SourceTree) -> str:
        """The tree's s3:// URL without a trailing slash; fails clearly for a local tree."""
        url = tree.url.rstrip("/")
        if not url.startswith("s3://"):
            raise dg.Failure(
                description=(
                    "The Redshift engine stages with COPY from S3: set SPARKIFY_SOURCE_URL to the"
                    f" s3://bucket/prefix holding log_data/ and song_data/ (the source is {url!r})."
                ),
                allow_retries=False,
            )
        return url

    def _copy_literals(self) -> dict[str, str]:
        if not self.iam_role_arn:
            raise dg.Failure(
                description=(
                    "Redshift COPY needs an IAM role that can read the source bucket: set"
                    " SPARKIFY_REDSHIFT_IAM_ROLE_ARN (the redshift_cluster_up job reports it)."
                ),
                allow_retries=False,
            )
        if not self.region:
            raise dg.Failure(
                description="Redshift COPY needs the source bucket's region: set AWS_REGION.",
                allow_retries=False,
            )
        return {"iam_role": self.iam_role_arn, "region": self.region}

    def _manifest_store(self) -> ManifestStore:
        if self.manifests is None:
            raise dg.Failure(
                description=(
                    "Redshift loads each day's file through a COPY manifest (COPY FROM a key would"
                    f" also load every object that key prefixes): set {STAGING_SETTING} to an"
                    " s3://bucket/prefix this process may write and the COPY role may read."
                ),
                allow_retries=False,
            )
        return self.manifests

    def run_copy(self, session: RedshiftSession, key: str, text: str) -> None:
        """Runs one rendered COPY. (The offline tests replace this, and only this, with rows
        inserted the way COPY inserts them: no Redshift is reachable there.)"""
        session.execute_rendered(key, text)

    def _load_error_cursor(self, session: RedshiftSession) -> LoadErrorCursor:
        """Where the session's load-error log stands, read before the first COPY of a load."""
        (now,) = session.query(statement("redshift/session.server_time"))
        (mark,) = session.query(
            statement(f"redshift/load_errors.{self.target.load_errors_file}_watermark")
        )
        started = now["now"]
        if not isinstance(started, datetime):
            raise TypeError(f"server_time returned {started!r}")
        return LoadErrorCursor(
            started_after=started - timedelta(seconds=1),
            after_query=int_value(mark, "last_query"),
        )

    def _copy(
        self,
        session: RedshiftSession,
        sql: SqlStatement,
        text: str,
        base: str,
        log: Log,
        errors: LoadErrorCursor,
    ) -> tuple[int, list[CopyRejection]]:
        """Runs a COPY; returns the rows it loaded and the lines it rejected (and moves ``errors``
        past them). When the COPY fails, raises RedshiftLoadRejected with the rejected lines."""
        try:
            self.run_copy(session, sql.key, text)
        except RedshiftError as error:
            # The failed COPY aborted the transaction; the load-error log keeps its lines.
            self._end("rollback", commit=False)
            with self.transaction() as errors_session:
                rejections = self._new_rejections(errors_session, base, errors)
            _log_rejections(log, sql.key, rejections)
            if rejections:
                raise RedshiftLoadRejected(error, rejections) from None
            raise
        (counted,) = session.query(statement("redshift/catalog.last_copy_count"))
        rejections = self._new_rejections(session, base, errors)
        _log_rejections(log, sql.key, rejections)
        return int_value(counted, "loaded"), rejections

    def _new_rejections(
        self, session: RedshiftSession, base: str, errors: LoadErrorCursor
    ) -> list[CopyRejection]:
        rows = session.query(
            statement(f"redshift/load_errors.{self.target.load_errors_file}_errors"),
            {"started_after": errors.started_after, "after_query": errors.after_query},
        )
        prefix = base + "/"
        for r in rows:
            errors.after_query = max(errors.after_query, int_value(r, "query_id"))
        return [
            CopyRejection(
                source_file=_text(r["file_name"]).removeprefix(prefix),
                line_number=optional_int_value(r, "line_number"),
                column_name=_text(r["column_name"]),
                error_code=optional_int_value(r, "error_code"),
                error_reason=_text(r["error_reason"]),
                raw_field_value=_text(r["raw_field_value"]),
                raw_line=_text(r["raw_line"]),
            )
            for r in rows
        ]

    def _quarantine_rejections(
        self,
        session: RedshiftSession,
        rejections: Sequence[CopyRejection],
        *,
        source_kind: str,
        log_dates: Mapping[str, date],
        rejected_at: datetime,
        run_id: str,
    ) -> None:
        if not rejections:
            return
        session.insert_rows(
            statement("redshift/staging.insert_copy_rejections"),
            [
                {
                    "source_kind": source_kind,
                    "log_date": log_dates.get(rejection.source_file),
                    "source_file": rejection.source_file,
                    "line_number": rejection.line_number,
                    "reason": rejection.reason[:1024],
                    "raw_text": rejection.raw_line[:RAW_TEXT_LIMIT] or None,
                    "rejected_at": rejected_at,
                    "run_id": run_id,
                }
                for rejection in rejections
            ],
        )

    def load_event_days(
        self, tree: SourceTree, window: LoadWindow, *, run_id: str, log: Log
    ) -> LoadReport:
        base = self._source_base(tree)
        literals = self._copy_literals()
        manifests = self._manifest_store()
        files = [(day, tree.log_file(day)) for day in window.days()]  # fails before any change
        copy_sql = statement("redshift/staging.copy_log_file")
        jsonpaths = f"{base}/{JSONPATHS_KEY}"
        rejections: list[CopyRejection] = []
        log_dates = {file.key: day for day, file in files}

        # 1. COPY each day's file into a temporary table (it outlives this transaction, not the
        #    session), then check and convert there. No lock is held while S3 is read. Each COPY
        #    reads a manifest naming exactly that day's object.
        with self.transaction() as session:
            errors = self._load_error_cursor(session)
            session.execute(statement("redshift/staging.drop_staged_events"))
            session.execute(statement("redshift/staging.create_staged_events"))
            for day, file in files:
                manifest = manifests.write(run_id, f"{day:%Y-%m-%d}", [f"{base}/{file.key}"])
                text = render_copy(copy_sql, source=manifest, jsonpaths=jsonpaths, **literals)
                copied, rejected = self._copy(session, copy_sql, text, base, log, errors)
                session.execute(
                    statement("redshift/staging.tag_log_file"),
                    {"log_date": day, "source_file": file.key},
                )
                for rejection in rejected:
                    log_dates.setdefault(rejection.source_file, day)
                rejections += rejected
                log(f"{file.key}: COPY loaded {copied} lines, rejected {len(rejected)}")
            session.execute(statement("redshift/staging.drop_checked_events"))
            session.execute(statement("redshift/staging.create_checked_events"))
            counts = {
                row["log_date"]: _CheckedCounts.from_row(row)
                for row in session.query(statement("redshift/staging.checked_event_counts"))
            }

        # 2. Replace the window in one transaction holding staging_events' lock.
        rejected_at = datetime.now(UTC).replace(tzinfo=None)
        with self.transaction() as session:
            session.lock_for_write("staging_events")
            deleted = session.execute(
                statement("staging/staging_events.delete_window"), window.sql_params()
            )
            session.execute(
                statement("staging/staging_events.delete_window_quarantine"), window.sql_params()
            )
            inserted = session.execute(statement("redshift/staging.insert_staging_events"))
            session.execute(
                statement("redshift/staging.insert_event_quarantine"),
                {"rejected_at": rejected_at, "run_id": run_id},
            )
            self._quarantine_rejections(
                session,
                rejections,
                source_kind="event",
                log_dates=log_dates,
                rejected_at=rejected_at,
                run_id=run_id,
            )
        self.upkeep("staging_events", deleted=max(deleted, 0), inserted=max(inserted, 0), log=log)

        report = LoadReport()
        for day, file in files:
            accepted, refused = counts.get(day, _CheckedCounts(0, 0))
            refused += sum(1 for r in rejections if log_dates.get(r.source_file) == day)
            report.files.append(FileLoad(file.key, accepted, refused, file.version))
            log(f"{file.key}: {accepted} events loaded, {refused} quarantined")
        return report

    def load_song_catalog(self, tree: SourceTree, *, run_id: str, log: Log) -> LoadReport:
        base = self._source_base(tree)
        literals = self._copy_literals()
        copy_sql = statement("redshift/staging.copy_song_files")
        text = render_copy(copy_sql, source=f"{base}/{SONG_PREFIX}", **literals)

        with self.transaction() as session:
            errors = self._load_error_cursor(session)
            session.execute(statement("redshift/staging.drop_staged_songs"))
            session.execute(statement("redshift/staging.create_staged_songs"))
            copied, rejections = self._copy(session, copy_sql, text, base, log, errors)
            log(f"{SONG_PREFIX}: COPY loaded {copied} song objects, rejected {len(rejections)}")
            session.execute(statement("redshift/staging.drop_checked_songs"))
            session.execute(statement("redshift/staging.create_checked_songs"))
            (counted,) = session.query(statement("redshift/staging.checked_song_counts"))
            counts = _CheckedCounts.from_row(counted)

        rejected_at = datetime.now(UTC).replace(tzinfo=None)
        with self.transaction() as session:
            session.lock_for_write("staging_songs")
            deleted = session.execute(statement("staging/staging_songs.delete_all"))
            session.execute(statement("staging/staging_songs.delete_all_quarantine"))
            inserted = session.execute(
                statement("redshift/staging.insert_staging_songs"), {"source_file": SONG_PREFIX}
            )
            session.execute(
                statement("redshift/staging.insert_song_quarantine"),
                {"source_file": SONG_PREFIX, "rejected_at": rejected_at, "run_id": run_id},
            )
            self._quarantine_rejections(
                session,
                rejections,
                source_kind="song",
                log_dates={},
                rejected_at=rejected_at,
                run_id=run_id,
            )
        self.upkeep("staging_songs", deleted=max(deleted, 0), inserted=max(inserted, 0), log=log)
        accepted = counts.accepted
        refused = counts.refused + len(rejections)
        log(f"{SONG_PREFIX}: {accepted} song files loaded, {refused} quarantined")
        return LoadReport([FileLoad(SONG_PREFIX, accepted, refused)])

    # -- backups -----------------------------------------------------------------------------------

    def _iam_role(self, purpose: str) -> str:
        if not self.iam_role_arn:
            raise dg.Failure(
                description=(
                    f"Redshift {purpose} needs an IAM role that can reach the backup prefix: set"
                    " SPARKIFY_REDSHIFT_IAM_ROLE_ARN (see infra/policies/"
                    "redshift_s3_backup_write_policy.json for what it must allow)."
                ),
                allow_retries=False,
            )
        return self.iam_role_arn

    def run_unload(self, session: RedshiftSession, key: str, text: str) -> None:
        """Runs one rendered UNLOAD. (Offline tests replace this, and only this: no Redshift.)"""
        session.execute_rendered(key, text)

    def export_backup(
        self,
        parts: Sequence[BackupPart],
        location: BackupLocation,
        *,
        file_prefix: str,
        log: Log,
    ) -> dict[str, int]:
        literals = {"iam_role": self._iam_role("UNLOAD"), **self._copy_literals()}
        kms_key_id = location.kms_key_id
        unload = statement(
            "redshift/backup.unload_sse_kms" if kms_key_id else "redshift/backup.unload_sse_s3"
        )
        if kms_key_id:
            literals["kms_key_id"] = kms_key_id
        counts: dict[str, int] = {}
        # One transaction: every UNLOAD and count reads the same snapshot (serializable isolation).
        with self.transaction() as session:
            for part in parts:
                params = part.sql_params()
                (counted,) = session.query(part.dataset.count, params)
                counts[part.folder] = RowCount.from_row(counted).row_count
                text = render_unload(
                    unload,
                    query=part.dataset.export,
                    params=params,
                    target=location.s3_url(f"{part.folder}/{file_prefix}"),
                    **literals,
                )
                self.run_unload(session, unload.key, text)
                log(f"{part.folder}: UNLOAD of {counts[part.folder]} rows")
        return counts

    def restore_backup(
        self, plan: RestorePlan, location: BackupLocation, *, log: Log
    ) -> dict[str, int]:
        iam_role = self._iam_role("COPY from a backup")
        folder = f"{BACKUP_RESTORE_FOLDER}/{uuid.uuid4().hex}"
        manifests: dict[str, str] = {}
        try:
            # 1. A COPY manifest per table (COPY from Parquet wants each file's content_length).
            for table in plan.tables:
                files = [
                    stored
                    for part in plan.parts
                    if part.part.dataset.table == table
                    for stored in part.files
                ]
                if files:
                    key = f"{folder}/{table}.manifest"
                    body = manifest_body(
                        [location.s3_url(stored.key) for stored in files],
                        sizes=[stored.size for stored in files],
                    )
                    location.put_bytes(key, body)
                    manifests[table] = location.s3_url(key)
            # 2. COPY into temporary copies of the tables: no lock is held while S3 is read.
            with self.transaction() as session:
                for table in plan.tables:
                    session.execute(statement(f"redshift/backup.drop_restored_{table}"))
                    session.execute(statement(f"redshift/backup.create_restored_{table}"))
                    if table in manifests:
                        copy = statement(f"redshift/backup.copy_restored_{table}")
                        text = render_copy(copy, manifest=manifests[table], iam_role=iam_role)
                        self.run_copy(session, copy.key, text)
                        log(f"{table}: COPY of the backup's Parquet files")
            # 3. Replace the rows in one transaction holding the tables' locks.
            restored: dict[str, int] = {}
            with self.transaction() as session:
                plan.clear(session)
                for table in plan.tables:
                    restored[table] = session.execute(
                        statement(f"redshift/backup.insert_restored_{table}")
                    )
                plan.check_restored(restored)
            return restored
        finally:
            location.delete([stored.key for stored in location.list(f"{folder}/")])


class _CheckedCounts(NamedTuple):
    """A checked_*_counts row: lines accepted and refused by the checks in SQL (NULL: none)."""

    accepted: int
    refused: int

    @classmethod
    def from_row(cls, row: Row) -> _CheckedCounts:
        return cls(
            optional_int_value(row, "accepted") or 0, optional_int_value(row, "refused") or 0
        )


def _text(value: object) -> str:
    return "" if value is None else str(value).strip()


def _log_rejections(log: Log, key: str, rejections: Sequence[CopyRejection]) -> None:
    for rejection in rejections[:REJECTIONS_LOGGED]:
        line = "?" if rejection.line_number is None else rejection.line_number
        log(f"{key}: {rejection.source_file} line {line} {rejection.reason}")
    if len(rejections) > REJECTIONS_LOGGED:
        log(f"{key}: ... and {len(rejections) - REJECTIONS_LOGGED} more rejected lines")
