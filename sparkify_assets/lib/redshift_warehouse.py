"""The Redshift engine: production, reached with ``redshift_connector`` over SSL.

Staging runs Redshift's own ``COPY`` from S3 into a temporary table (one COPY per log file, one
for the whole song catalog), checks and converts the rows there with plain SQL
(``sql/redshift/staging.sql``), and replaces the window's rows in one short transaction that holds
the table's lock. Lines COPY rejects (``MAXERROR``) are read back from ``stl_load_errors`` and
quarantined with Redshift's reason. Transforms, checks and row counts are the shared ``sql/`` files.

Nothing here logs SQL text or puts it in an error: logs and errors name the statement
(``SqlStatement.key``), and messages are scrubbed of the password. COPY authenticates with
``IAM_ROLE`` only, so no SQL ever holds an access key.

Connection URL: ``redshift://user@host:5439/database``, with the password in
``SPARKIFY_WAREHOUSE_PASSWORD`` or, when there is none, IAM authentication (temporary database
credentials for ``user`` from the AWS credential chain; the cluster identifier is the first label of
a ``*.redshift.amazonaws.com`` host, or ``?cluster_identifier=...``). SSL is always on with
certificate checks: ``sslmode`` is ``verify-full`` unless the URL says ``?sslmode=verify-ca``.
``?sslmode=disable`` is honoured for a loopback host only (127.0.0.1, ::1, localhost): it is how
the tests reach PostgreSQL through a local proxy, and it can never switch SSL off for a real
cluster.
"""

from __future__ import annotations

import contextlib
import ipaddress
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import dagster as dg
import redshift_connector

from sparkify_assets.lib.load_window import LoadWindow
from sparkify_assets.lib.quarantine import RAW_TEXT_LIMIT
from sparkify_assets.lib.source_layout import SONG_PREFIX
from sparkify_assets.lib.source_tree import SourceTree
from sparkify_assets.lib.sql_files import SqlStatement, statement
from sparkify_assets.lib.warehouse import (
    WAREHOUSE_TABLES,
    FileLoad,
    LoadReport,
    Log,
    Warehouse,
    checked_table_name,
    ddl_statements,
)
from sparkify_assets.lib.warehouse_connection import WarehouseSettings

ENGINE = "redshift"
DEFAULT_PORT = 5439
SSL_MODES = ("verify-full", "verify-ca")
JSONPATHS_KEY = "log_json_path.json"  # the layout's JSONPaths file, at the source tree's root
REJECTIONS_LOGGED = 20  # rejected lines written to the run log per COPY (all are quarantined)

_LOOPBACK_NAMES = frozenset({"localhost"})
_AWS_HOST = re.compile(
    r"^(?P<cluster>[a-z][a-z0-9-]*)\.[a-z0-9]+\.(?P<region>[a-z]{2}(?:-[a-z]+)+-\d)"
    r"\.redshift(?:-serverless)?\.amazonaws\.com$"
)
# What may be spliced into a COPY as a quoted literal: no quote, backslash or whitespace can pass.
_LITERAL_PATTERNS = {
    "source": re.compile(r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/[A-Za-z0-9!_.*()=+,@/-]*)?$"),
    "jsonpaths": re.compile(r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/[A-Za-z0-9!_.*()=+,@/-]*)?$"),
    "iam_role": re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[A-Za-z0-9+=,.@_/-]{1,512}$"),
    "region": re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$"),
}
_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")
_TABLE_NAME = re.compile(r"^[a-z_]+$")
# SQLSTATE classes a retry can fix: connection, transaction rollback (serialization), resources,
# operator intervention, system errors.
_RETRYABLE_CLASSES = ("08", "40", "53", "57", "58")


# -- errors ----------------------------------------------------------------------------------------


class RedshiftError(dg.Failure):
    """A Redshift statement (or the connection) failed. The description names the statement and
    gives the server's SQLSTATE and message; it never holds SQL text or the password. Errors a
    retry may fix (connection, serialization, resources) respect the asset's retry policy."""

    def __init__(
        self,
        description: str,
        *,
        statement_key: str,
        sqlstate: str,
        server_message: str,
        retryable: bool,
        metadata: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(
            description=description,
            metadata={"statement": statement_key, "sqlstate": sqlstate, **(metadata or {})},
            allow_retries=retryable,
        )
        self.statement_key = statement_key
        self.sqlstate = sqlstate
        self.server_message = server_message
        self.retryable = retryable


@dataclass(frozen=True)
class CopyRejection:
    """One line a COPY rejected, as ``stl_load_errors`` records it."""

    source_file: str  # key relative to the source tree
    line_number: int | None
    column_name: str
    error_code: int | None
    error_reason: str
    raw_field_value: str
    raw_line: str

    @property
    def reason(self) -> str:
        column = f", column {self.column_name}" if self.column_name else ""
        return f"rejected by Redshift COPY: {self.error_reason} (error {self.error_code}{column})"

    def as_metadata(self) -> dict[str, object]:
        return {
            "file": self.source_file,
            "line": self.line_number,
            "column": self.column_name,
            "error_code": self.error_code,
            "reason": self.error_reason,
            "value": self.raw_field_value[:200],
            "raw_line": self.raw_line[:500],
        }


class RedshiftLoadRejected(RedshiftError):
    """A COPY failed; ``rejections`` are the lines Redshift rejected (also in the metadata)."""

    def __init__(self, error: RedshiftError, rejections: Sequence[CopyRejection]) -> None:
        super().__init__(
            f"{error.description}; Redshift rejected {len(rejections)} line(s), first: "
            + (rejections[0].reason if rejections else "(none recorded)"),
            statement_key=error.statement_key,
            sqlstate=error.sqlstate,
            server_message=error.server_message,
            retryable=False,  # the same files give the same rejections
            metadata={
                "rejected_lines": len(rejections),
                "rejections": dg.MetadataValue.json([r.as_metadata() for r in rejections[:100]]),
            },
        )
        self.rejections = list(rejections)


def _scrub(text: str, secrets: Sequence[str]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


def _error_from_driver(
    key: str, error: Exception, secrets: Sequence[str], *, action: str = "failed"
) -> RedshiftError:
    """A RedshiftError for a redshift_connector exception raised by statement ``key``."""
    fields = error.args[0] if error.args and isinstance(error.args[0], dict) else None
    if fields is not None:
        sqlstate = str(fields.get("C", ""))
        message = str(fields.get("M", ""))
        detail = str(fields.get("D", ""))
        if detail:
            message = f"{message} ({detail})"
    else:  # a driver-side error: the network, the protocol, authentication set-up
        sqlstate = ""
        message = f"{type(error).__name__}: {error}"
    message = _scrub(message, secrets)
    retryable = (
        sqlstate[:2] in _RETRYABLE_CLASSES
        or "serializable isolation violation" in message.lower()
        or (not sqlstate and isinstance(error, redshift_connector.InterfaceError | OSError))
        or (not sqlstate and isinstance(error, redshift_connector.OperationalError))
    )
    return RedshiftError(
        f"Redshift statement {key} {action}: [{sqlstate or 'no SQLSTATE'}] {message}",
        statement_key=key,
        sqlstate=sqlstate,
        server_message=message,
        retryable=retryable,
    )


# -- connection settings ---------------------------------------------------------------------------


def _is_loopback(host: str) -> bool:
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class RedshiftTarget:
    """What ``redshift://user@host:port/database[?sslmode=...&cluster_identifier=...]`` names."""

    host: str
    port: int
    database: str
    user: str
    sslmode: str  # verify-full, verify-ca, or disable (loopback hosts only)
    cluster_identifier: str
    region: str  # from the host name when it is an AWS endpoint, else ""

    @classmethod
    def from_url(cls, url: str) -> RedshiftTarget:
        parts = urlsplit(url.strip())
        if parts.scheme.lower() != "redshift":
            raise ValueError("a Redshift URL starts with redshift://")
        if parts.password is not None:
            raise ValueError(
                "put the Redshift password in SPARKIFY_WAREHOUSE_PASSWORD, not in the URL"
            )
        host = parts.hostname or ""
        user = unquote(parts.username or "")
        if not host or not user:
            raise ValueError("a Redshift URL names a user and a host: redshift://user@host:5439/db")
        options = {name: values[-1] for name, values in parse_qs(parts.query).items()}
        unknown = set(options) - {"sslmode", "cluster_identifier"}
        if unknown:
            raise ValueError(f"unknown Redshift URL option(s): {', '.join(sorted(unknown))}")
        sslmode = options.get("sslmode", "verify-full")
        if sslmode == "disable":
            if not _is_loopback(host):
                raise ValueError(
                    "sslmode=disable is only for a loopback host (a local test proxy); Redshift"
                    " connections always use SSL"
                )
        elif sslmode not in SSL_MODES:
            raise ValueError(f"sslmode must be one of {', '.join(SSL_MODES)}, not {sslmode!r}")
        aws_host = _AWS_HOST.match(host.lower())
        return cls(
            host=host,
            port=parts.port or DEFAULT_PORT,
            database=unquote(parts.path.lstrip("/")) or "dev",
            user=user,
            sslmode=sslmode,
            cluster_identifier=options.get(
                "cluster_identifier", aws_host["cluster"] if aws_host else ""
            ),
            region=aws_host["region"] if aws_host else "",
        )

    def __str__(self) -> str:
        return f"redshift://{self.user}@{self.host}:{self.port}/{self.database}"


def connect_arguments(target: RedshiftTarget, settings: WarehouseSettings) -> dict[str, Any]:
    """The keyword arguments for ``redshift_connector.connect``."""
    arguments: dict[str, Any] = {
        "host": target.host,
        "port": target.port,
        "database": target.database,
        "application_name": "sparkify_assets",
        "timeout": 60,
    }
    if target.sslmode == "disable":
        arguments["ssl"] = False
    else:
        arguments["ssl"] = True
        arguments["sslmode"] = target.sslmode
    if settings.password:
        arguments["user"] = target.user
        arguments["password"] = settings.password
        return arguments
    # IAM: temporary credentials for the database user, from the AWS credential chain.
    if not target.cluster_identifier:
        raise ValueError(
            "without SPARKIFY_WAREHOUSE_PASSWORD the connection uses IAM authentication, which"
            " needs the cluster identifier: use the cluster's *.redshift.amazonaws.com endpoint or"
            " add ?cluster_identifier=<id> to SPARKIFY_WAREHOUSE_URL"
        )
    region = settings.region or target.region
    arguments.update(
        iam=True,
        db_user=target.user,
        user="",
        password="",
        cluster_identifier=target.cluster_identifier,
        **({"region": region} if region else {}),
    )
    return arguments


# -- rendering the two kinds of statement that cannot take bind parameters -------------------------


def render_copy(sql: SqlStatement, **values: str) -> str:
    """The COPY ``sql`` with each ``{placeholder}`` replaced by a quoted literal of ``values``.

    Redshift's COPY takes no bind parameters; every value must match its strict pattern
    (``_LITERAL_PATTERNS``), which no quote, backslash or whitespace can pass."""
    body = _without_doc(sql)
    names = set(_PLACEHOLDER.findall(body))
    if names != set(values):
        raise ValueError(f"{sql.key} takes {sorted(names)}, got {sorted(values)}")

    def literal(match: re.Match[str]) -> str:
        name = match.group(1)
        value = values[name]
        pattern = _LITERAL_PATTERNS.get(name)
        if pattern is None or not pattern.fullmatch(value):
            raise ValueError(f"{sql.key}: {name} is not a valid value for COPY")
        return f"'{value}'"

    return _PLACEHOLDER.sub(literal, body)


def render_lock(table: str) -> str:
    """``LOCK <table>`` for one of the project's tables."""
    name = checked_table_name(table)
    if not _TABLE_NAME.fullmatch(name):
        raise ValueError(f"{table!r} cannot be spliced into SQL")
    return _without_doc(statement("redshift/catalog.lock_table_for_write")).replace("{table}", name)


def _without_doc(sql: SqlStatement) -> str:
    """The statement without its leading comment lines (which may mention placeholders)."""
    lines = sql.text.splitlines()
    while lines and lines[0].lstrip().startswith("--"):
        lines.pop(0)
    return "\n".join(lines)


# -- sessions and the warehouse --------------------------------------------------------------------


class RedshiftSession:
    """A transaction on a redshift_connector connection (autocommit off: the driver begins one
    with the first statement; the warehouse commits or rolls it back)."""

    def __init__(self, connection: redshift_connector.Connection, secrets: Sequence[str]) -> None:
        self.connection = connection
        self._secrets = secrets

    def _run(
        self, key: str, text: str, params: Mapping[str, object] | None
    ) -> redshift_connector.Cursor:
        cursor = self.connection.cursor()
        cursor.paramstyle = "pyformat"
        try:
            if params:
                cursor.execute(text, dict(params))
            else:
                cursor.execute(text)
        except (redshift_connector.Error, OSError) as error:
            raise _error_from_driver(key, error, self._secrets) from None
        return cursor

    def _affected(self, key: str, text: str, params: Mapping[str, object] | None) -> int:
        cursor = self._run(key, text, params)
        try:
            return int(cursor.rowcount)
        finally:
            cursor.close()

    def execute(self, sql: SqlStatement, params: Mapping[str, object] | None = None) -> int:
        return self._affected(sql.key, sql.text, params)

    def query(
        self, sql: SqlStatement, params: Mapping[str, object] | None = None
    ) -> list[dict[str, object]]:
        cursor = self._run(sql.key, sql.text, params)
        try:
            names = [column[0] for column in cursor.description or ()]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
        finally:
            cursor.close()

    def execute_rendered(self, key: str, text: str) -> int:
        """Runs SQL text rendered from statement ``key`` (a COPY, a LOCK), without parameters."""
        return self._affected(key, text, None)

    def lock_for_write(self, table: str) -> None:
        self.execute_rendered("redshift/catalog.lock_table_for_write", render_lock(table))


class RedshiftWarehouse(Warehouse):
    """An Amazon Redshift database."""

    engine = ENGINE

    def __init__(
        self,
        connection: redshift_connector.Connection,
        *,
        target: RedshiftTarget,
        iam_role_arn: str = "",
        region: str = "",
        secrets: Sequence[str] = (),
    ) -> None:
        self._connection = connection
        self.target = target
        self.iam_role_arn = iam_role_arn
        self.region = region or target.region
        self._secrets = tuple(s for s in secrets if s)

    @classmethod
    def connect(cls, settings: WarehouseSettings) -> RedshiftWarehouse:
        try:
            target = RedshiftTarget.from_url(settings.url)
            arguments = connect_arguments(target, settings)
        except ValueError as error:  # a configuration mistake: retrying cannot fix it
            raise dg.Failure(
                description=f"SPARKIFY_WAREHOUSE_URL: {error}", allow_retries=False
            ) from None
        secrets = (settings.password,)
        try:
            connection = redshift_connector.connect(**arguments)
        except (redshift_connector.Error, OSError) as error:
            raise _error_from_driver(
                f"connect to {target}", error, secrets, action="could not be opened"
            ) from None
        connection.autocommit = False
        return cls(
            connection,
            target=target,
            iam_role_arn=settings.iam_role_arn,
            region=settings.region,
            secrets=secrets,
        )

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
            raise _error_from_driver(key, error, self._secrets) from None

    @contextmanager
    def transaction(self) -> Iterator[RedshiftSession]:
        try:
            yield RedshiftSession(self._connection, self._secrets)
        except BaseException:
            with contextlib.suppress(RedshiftError):  # keep the original error
                self._end("rollback", commit=False)
            raise
        self._end("commit", commit=True)

    # -- tables ------------------------------------------------------------------------------------

    def ensure_tables(self) -> None:
        existing = {
            str(r["table_name"]) for r in self.query(statement("redshift/catalog.existing_tables"))
        }
        missing = [table for table in WAREHOUSE_TABLES if table not in existing]
        if not missing:
            return
        # CREATE TABLE IF NOT EXISTS: a concurrent first run that wins the race makes this one fail
        # with a retryable error, and the retry finds the tables.
        with self.transaction() as session:
            for table in missing:
                for sql in ddl_statements(ENGINE, table):
                    session.execute(sql)

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

    def run_copy(self, session: RedshiftSession, key: str, text: str) -> None:
        """Runs one rendered COPY. (The offline tests replace this, and only this, with rows
        inserted the way COPY inserts them: no Redshift is reachable there.)"""
        session.execute_rendered(key, text)

    def _copy(
        self, session: RedshiftSession, sql: SqlStatement, text: str, base: str, log: Log
    ) -> tuple[int, list[CopyRejection]]:
        """Runs a COPY; returns the rows it loaded and the lines it rejected. When the COPY fails,
        raises RedshiftLoadRejected with the rejected lines (logged too)."""
        try:
            self.run_copy(session, sql.key, text)
        except RedshiftError as error:
            # The failed COPY aborted the transaction; stl_load_errors keeps its lines regardless.
            self._end("rollback", commit=False)
            with self.transaction() as errors_session:
                rejections = self._last_copy_rejections(errors_session, base)
            _log_rejections(log, sql.key, rejections)
            if rejections:
                raise RedshiftLoadRejected(error, rejections) from None
            raise
        (counted,) = session.query(statement("redshift/catalog.last_copy_count"))
        rejections = self._last_copy_rejections(session, base)
        _log_rejections(log, sql.key, rejections)
        return int(counted["loaded"]), rejections  # type: ignore[call-overload]

    def _last_copy_rejections(self, session: RedshiftSession, base: str) -> list[CopyRejection]:
        rows = session.query(statement("redshift/catalog.last_copy_errors"))
        prefix = base + "/"
        return [
            CopyRejection(
                source_file=_text(r["file_name"]).removeprefix(prefix),
                line_number=None if r["line_number"] is None else int(r["line_number"]),  # type: ignore[call-overload]
                column_name=_text(r["column_name"]),
                error_code=None if r["error_code"] is None else int(r["error_code"]),  # type: ignore[call-overload]
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
        for rejection in rejections:
            session.execute(
                statement("redshift/staging.insert_copy_rejection"),
                {
                    "source_kind": source_kind,
                    "log_date": log_dates.get(rejection.source_file),
                    "source_file": rejection.source_file,
                    "line_number": rejection.line_number,
                    "reason": rejection.reason[:1024],
                    "raw_text": rejection.raw_line[:RAW_TEXT_LIMIT] or None,
                    "rejected_at": rejected_at,
                    "run_id": run_id,
                },
            )

    def load_event_days(
        self, tree: SourceTree, window: LoadWindow, *, run_id: str, log: Log
    ) -> LoadReport:
        base = self._source_base(tree)
        literals = self._copy_literals()
        files = [(day, tree.log_file(day)) for day in window.days()]  # fails before any change
        copy_sql = statement("redshift/staging.copy_log_file")
        jsonpaths = f"{base}/{JSONPATHS_KEY}"
        rejections: list[CopyRejection] = []
        log_dates = {file.key: day for day, file in files}

        # 1. COPY each day's file into a temporary table (it outlives this transaction, not the
        #    session), then check and convert there. No lock is held while S3 is read.
        with self.transaction() as session:
            session.execute(statement("redshift/staging.drop_staged_events"))
            session.execute(statement("redshift/staging.create_staged_events"))
            for day, file in files:
                text = render_copy(
                    copy_sql, source=f"{base}/{file.key}", jsonpaths=jsonpaths, **literals
                )
                copied, rejected = self._copy(session, copy_sql, text, base, log)
                session.execute(
                    statement("redshift/staging.tag_log_file"),
                    {"log_date": day, "source_file": file.key},
                )
                # A rejected line belongs to the file COPY read; a prefix may match more keys.
                for rejection in rejected:
                    log_dates.setdefault(rejection.source_file, day)
                rejections += rejected
                log(f"{file.key}: COPY loaded {copied} lines, rejected {len(rejected)}")
            session.execute(statement("redshift/staging.drop_checked_events"))
            session.execute(statement("redshift/staging.create_checked_events"))
            counts = {
                row["log_date"]: row
                for row in session.query(statement("redshift/staging.checked_event_counts"))
            }

        # 2. Replace the window in one transaction holding staging_events' lock.
        rejected_at = datetime.now(UTC).replace(tzinfo=None)
        with self.transaction() as session:
            session.lock_for_write("staging_events")
            session.execute(statement("staging/staging_events.delete_window"), window.sql_params())
            session.execute(
                statement("staging/staging_events.delete_window_quarantine"), window.sql_params()
            )
            session.execute(statement("redshift/staging.insert_staging_events"))
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

        report = LoadReport()
        for day, file in files:
            row = counts.get(day, {})
            accepted = int(row.get("accepted") or 0)  # type: ignore[call-overload]
            refused = int(row.get("refused") or 0)  # type: ignore[call-overload]
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
            session.execute(statement("redshift/staging.drop_staged_songs"))
            session.execute(statement("redshift/staging.create_staged_songs"))
            copied, rejections = self._copy(session, copy_sql, text, base, log)
            log(f"{SONG_PREFIX}: COPY loaded {copied} song objects, rejected {len(rejections)}")
            session.execute(statement("redshift/staging.drop_checked_songs"))
            session.execute(statement("redshift/staging.create_checked_songs"))
            (counts,) = session.query(statement("redshift/staging.checked_song_counts"))

        rejected_at = datetime.now(UTC).replace(tzinfo=None)
        with self.transaction() as session:
            session.lock_for_write("staging_songs")
            session.execute(statement("staging/staging_songs.delete_all"))
            session.execute(statement("staging/staging_songs.delete_all_quarantine"))
            session.execute(
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
        accepted = int(counts["accepted"] or 0)  # type: ignore[call-overload]
        refused = int(counts["refused"] or 0) + len(rejections)  # type: ignore[call-overload]
        log(f"{SONG_PREFIX}: {accepted} song files loaded, {refused} quarantined")
        return LoadReport([FileLoad(SONG_PREFIX, accepted, refused)])


def _text(value: object) -> str:
    return "" if value is None else str(value).strip()


def _log_rejections(log: Log, key: str, rejections: Sequence[CopyRejection]) -> None:
    for rejection in rejections[:REJECTIONS_LOGGED]:
        line = "?" if rejection.line_number is None else rejection.line_number
        log(f"{key}: {rejection.source_file} line {line} {rejection.reason}")
    if len(rejections) > REJECTIONS_LOGGED:
        log(f"{key}: ... and {len(rejections) - REJECTIONS_LOGGED} more rejected lines")
