"""The Redshift engine: production, reached with ``redshift_connector`` over SSL.

Staging runs Redshift's own ``COPY`` from S3 into a temporary table (one COPY per log file, one
for the whole song catalog), checks and converts the rows there with plain SQL
(``sql/redshift/staging.sql``), and replaces the window's rows in one short transaction that holds
the table's lock. Lines COPY rejects (``MAXERROR``) are read back from the load-error log
(``stl_load_errors`` on a provisioned cluster, ``sys_load_error_detail`` on Serverless) and
quarantined with Redshift's reason. Transforms, checks and row counts are the shared ``sql/`` files.
After each delete-and-insert the engine runs ``ANALYZE``/``VACUUM DELETE ONLY`` when the change is a
large share of the table (``redshift_upkeep``).

Nothing here logs SQL text or puts it in an error: logs and errors name the statement
(``SqlStatement.key``), and messages are scrubbed of the password. COPY authenticates with
``IAM_ROLE`` only, so no SQL ever holds an access key.

Connection URL: ``redshift://user@host:5439/database``, with the password in
``SPARKIFY_WAREHOUSE_PASSWORD`` or, when there is none, IAM authentication (temporary database
credentials for ``user`` from the AWS credential chain; the cluster identifier is the first label of
a ``*.redshift.amazonaws.com`` host, or ``?cluster_identifier=...``). Redshift Serverless is
supported: a ``<workgroup>.<account>.<region>.redshift-serverless.amazonaws.com`` host (or
``?serverless=true&workgroup=<name>`` for a custom name) connects with the workgroup's IAM
credentials when there is no password, and reads load errors from ``sys_load_error_detail``.

The connection has no socket timeout once open: ``connect_timeout_seconds`` bounds connecting and
logging in only (redshift_connector's ``timeout`` is a socket timeout set before connecting and
never reset, which would cut off any statement that runs or queues longer), TCP keepalive is on, and
the server bounds each statement (``statement_timeout``). SSL is always on with
certificate checks: ``sslmode`` is ``verify-full`` unless the URL says ``?sslmode=verify-ca``.
``?sslmode=disable`` is honoured for a loopback host only (127.0.0.1, ::1, localhost): it is how
the tests reach PostgreSQL through a local proxy, and it can never switch SSL off for a real
cluster.
"""

from __future__ import annotations

import contextlib
import ipaddress
import re
import socket
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote, urlsplit

import dagster as dg
import redshift_connector

from sparkify_assets.records.quarantine import RAW_TEXT_LIMIT
from sparkify_assets.settings.connection_secrets import password_in_url, scrub
from sparkify_assets.settings.problems import (
    PASSWORD_SETTING,
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
from sparkify_assets.warehouse.redshift.copy_manifests import (
    STAGING_SETTING,
    ManifestStore,
    manifest_body,
)
from sparkify_assets.warehouse.redshift.upkeep import upkeep_plan
from sparkify_assets.warehouse.schema_versions import VERSION_TABLE
from sparkify_assets.warehouse.settings import WarehouseSettings
from sparkify_assets.warehouse.sql_files import SqlStatement, statement
from sparkify_assets.warehouse.sqlstate_retries import sqlstate_can_heal
from sparkify_assets.warehouse.tables import (
    WAREHOUSE_TABLES,
    checked_schema_name,
    checked_table_name,
)

if TYPE_CHECKING:
    from sparkify_assets.warehouse.backup.datasets import BackupPart
    from sparkify_assets.warehouse.backup.location import BackupLocation
    from sparkify_assets.warehouse.backup.restore_plan import RestorePlan

ENGINE = "redshift"
DEFAULT_PORT = 5439
SSL_MODES = ("verify-full", "verify-ca")
JSONPATHS_KEY = "log_json_path.json"  # the layout's JSONPaths file, at the source tree's root
REJECTIONS_LOGGED = 20  # rejected lines written to the run log per COPY (all are quarantined)

REJECTION_BATCH_ROWS = 500  # rejected lines per INSERT (8 parameters each, far below the 32,767)
KEEPALIVE = {"tcp_keepalive_idle": 60, "tcp_keepalive_interval": 30, "tcp_keepalive_count": 5}

_LOOPBACK_NAMES = frozenset({"localhost"})
_REGION = r"(?P<region>[a-z]{2}(?:-[a-z]+)+-\d)"
_AWS_HOST = re.compile(
    r"^(?P<cluster>[a-z][a-z0-9-]*)\.[a-z0-9]+\." + _REGION + r"\.redshift\.amazonaws\.com$"
)
_SERVERLESS_HOST = re.compile(
    r"^(?P<workgroup>[a-z][a-z0-9-]*)\.(?P<account>\d{12})\."
    + _REGION
    + r"\.redshift-serverless\.amazonaws\.com$"
)
_WORKGROUP = re.compile(r"^[a-z0-9-]{3,64}$")
# What may be spliced into a COPY as a quoted literal: no quote, backslash or whitespace can pass.
_S3_URL = re.compile(r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/[A-Za-z0-9!_.*()=+,@/-]*)?$")
_LITERAL_PATTERNS = {
    "source": _S3_URL,
    "jsonpaths": _S3_URL,
    "iam_role": re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[A-Za-z0-9+=,.@_/-]{1,512}$"),
    "region": re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$"),
    "target": _S3_URL,
    "manifest": _S3_URL,
    "kms_key_id": re.compile(
        r"^(arn:aws[a-z-]*:kms:[a-z]{2}(-[a-z]+)+-\d:\d{12}:(key|alias)/[A-Za-z0-9/_-]{1,256}"
        r"|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|alias/[A-Za-z0-9/_-]{1,256})$"
    ),
}
# A bind parameter in a statement: %(name)s.
_PARAMETER = re.compile(r"%\((?P<name>[a-z_]+)\)s")
BACKUP_RESTORE_FOLDER = "_restore"  # COPY manifests of a running restore, deleted after it
_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")
_TABLE_NAME = re.compile(r"^[a-z_]+$")
_SCHEMA_NAME = re.compile(r"^sparkify_smoke_[a-z0-9]{6,32}$")
# Driver-side failures a retry can heal: the network refused, reset or timed out. Anything else
# without a SQLSTATE (SSL refused, IAM set-up, a protocol error) is a configuration problem.
_HEALING_OS_ERRORS = (ConnectionError, TimeoutError, socket.timeout, socket.gaierror)


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
    """One line a COPY rejected, as the load-error log records it."""

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
    message = scrub(message, secrets)
    if sqlstate:
        # Redshift reports its serializable isolation violation (error 1023) as XX000.
        retryable = (
            sqlstate_can_heal(sqlstate) or "serializable isolation violation" in message.lower()
        )
    else:
        retryable = _network_failure(error)
    return RedshiftError(
        f"Redshift statement {key} {action}: [{sqlstate or 'no SQLSTATE'}] {message}",
        statement_key=key,
        sqlstate=sqlstate,
        server_message=message,
        retryable=retryable,
    )


def _connect_problem(error: RedshiftError, target: object) -> SettingProblem:
    """The SettingProblem of a failed connection: a refused login or a missing database fails at
    once; a network fault or a cluster that is starting may heal, so the retry policy applies."""
    state, message = error.sqlstate, error.server_message
    if state.startswith("28") or "authentication" in message.lower():
        return SettingProblem(
            f"{PASSWORD_SETTING}: Redshift at {target} refused the login ({message}). Set"
            f" {PASSWORD_SETTING} (unset: IAM authentication with your AWS credentials), or fix"
            f" the user in {WAREHOUSE_SETTING}.",
            setting=PASSWORD_SETTING,
        )
    if state == "3D000":
        return SettingProblem(
            f"{WAREHOUSE_SETTING}: {message} on Redshift at {target}. Name an existing"
            f" database in {WAREHOUSE_SETTING}.",
            setting=WAREHOUSE_SETTING,
        )
    return SettingProblem(
        f"{WAREHOUSE_SETTING}: cannot reach Redshift at {target} ({message}). Check that the"
        f" cluster is available (redshift_cluster_status) and the host and port in"
        f" {WAREHOUSE_SETTING}.",
        setting=WAREHOUSE_SETTING,
        can_heal=error.retryable,
    )


def _network_failure(error: BaseException) -> bool:
    """Whether ``error`` (a driver error without SQLSTATE, or an OSError) comes from the network
    refusing, resetting or timing out a connection: the failures a retry can heal. The driver wraps
    socket errors as ``InterfaceError("communication error", <OSError>)`` and a connect timeout as
    ``OperationalError("connection time out", <timeout>)``."""
    seen: set[int] = set()
    pending: list[BaseException] = [error]
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, _HEALING_OS_ERRORS):
            return True
        pending += [a for a in current.args if isinstance(a, BaseException)]
        pending += [e for e in (current.__cause__, current.__context__) if e is not None]
    return False


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
    serverless: bool = False  # a Redshift Serverless workgroup (host name or ?serverless=true)
    workgroup: str = ""  # the Serverless workgroup (host name or ?workgroup=)
    account_id: str = ""  # from a Serverless host name

    @classmethod
    def from_url(cls, url: str) -> RedshiftTarget:
        parts = urlsplit(url.strip())
        if parts.scheme.lower() != "redshift":
            raise ValueError("a Redshift URL starts with redshift://")
        if password_in_url(url):  # also a URL a password holding '/' or '?' cuts wrongly
            raise ValueError(
                "put the Redshift password in SPARKIFY_WAREHOUSE_PASSWORD, not in the URL"
            )
        host = parts.hostname or ""
        user = unquote(parts.username or "")
        if not host or not user:
            raise ValueError("a Redshift URL names a user and a host: redshift://user@host:5439/db")
        options = {name: values[-1] for name, values in parse_qs(parts.query).items()}
        unknown = set(options) - {"sslmode", "cluster_identifier", "serverless", "workgroup"}
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
        serverless_host = _SERVERLESS_HOST.match(host.lower())
        flag = options.get("serverless", "").lower()
        if flag not in ("", "true", "false"):
            raise ValueError(f"serverless must be true or false, not {flag!r}")
        host_workgroup = serverless_host["workgroup"] if serverless_host else ""
        workgroup = options.get("workgroup", host_workgroup)
        serverless = bool(serverless_host) or flag == "true" or "workgroup" in options
        if serverless and flag == "false":
            raise ValueError("serverless=false contradicts a Serverless host or workgroup")
        if workgroup and not _WORKGROUP.fullmatch(workgroup):
            raise ValueError(f"{workgroup!r} is not a Redshift Serverless workgroup name")
        if serverless and "cluster_identifier" in options:
            raise ValueError("cluster_identifier names a provisioned cluster, not a workgroup")
        matched = serverless_host or aws_host
        return cls(
            host=host,
            port=parts.port or DEFAULT_PORT,
            database=unquote(parts.path.lstrip("/")) or "dev",
            user=user,
            sslmode=sslmode,
            cluster_identifier=""
            if serverless
            else options.get("cluster_identifier", aws_host["cluster"] if aws_host else ""),
            region=matched["region"] if matched else "",
            serverless=serverless,
            workgroup=workgroup,
            account_id=serverless_host["account"] if serverless_host else "",
        )

    @property
    def load_errors_file(self) -> str:
        """The statements that read this target's load-error log: STL_LOAD_ERRORS exists on
        provisioned main clusters only, SYS_LOAD_ERROR_DETAIL on Serverless."""
        return "serverless" if self.serverless else "provisioned"

    def __str__(self) -> str:
        return f"redshift://{self.user}@{self.host}:{self.port}/{self.database}"


def connect_arguments(target: RedshiftTarget, settings: WarehouseSettings) -> dict[str, Any]:
    """The keyword arguments for ``redshift_connector.connect``."""
    if settings.connect_timeout_seconds <= 0:
        raise ValueError("the connect timeout is a positive number of seconds")
    arguments: dict[str, Any] = {
        "host": target.host,
        "port": target.port,
        "database": target.database,
        "application_name": "sparkify_assets",
        # A socket timeout while connecting and logging in; open_connection() removes it once
        # the session is up (redshift_connector keeps it on the socket for the connection's life).
        "timeout": settings.connect_timeout_seconds,
        "tcp_keepalive": True,
        **KEEPALIVE,
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
    region = settings.region or target.region
    if target.serverless:
        # IAM for a Serverless workgroup: redshift-serverless GetCredentials for the caller's own
        # IAM identity (the database user is IAM:<user> or IAMR:<role>, not the URL's user).
        if not target.workgroup:
            raise ValueError(
                "IAM authentication to Redshift Serverless needs the workgroup: use the"
                " <workgroup>.<account>.<region>.redshift-serverless.amazonaws.com endpoint or add"
                " ?workgroup=<name> to SPARKIFY_WAREHOUSE_URL"
            )
        arguments.update(
            iam=True,
            is_serverless=True,
            serverless_work_group=target.workgroup,
            user="",
            password="",
            **({"serverless_acct_id": target.account_id} if target.account_id else {}),
            **({"region": region} if region else {}),
        )
        return arguments
    # IAM: temporary credentials for the database user, from the AWS credential chain.
    if not target.cluster_identifier:
        raise ValueError(
            "without SPARKIFY_WAREHOUSE_PASSWORD the connection uses IAM authentication, which"
            " needs the cluster identifier: use the cluster's *.redshift.amazonaws.com endpoint or"
            " add ?cluster_identifier=<id> to SPARKIFY_WAREHOUSE_URL"
        )
    arguments.update(
        iam=True,
        db_user=target.user,
        user="",
        password="",
        cluster_identifier=target.cluster_identifier,
        **({"region": region} if region else {}),
    )
    return arguments


def open_connection(arguments: Mapping[str, Any]) -> redshift_connector.Connection:
    """``redshift_connector.connect(**arguments)``, then the socket timeout removed: the driver sets
    ``timeout`` on the socket before connecting and never resets it (core.Connection.__init__), so
    left in place it would end any statement that runs or waits in a queue longer. Long statements
    are bounded on the server instead (``statement_timeout``), and TCP keepalive keeps an idle
    connection alive through NAT and load balancers."""
    connection = redshift_connector.connect(**arguments)
    raw_socket = getattr(connection, "_usock", None)  # the driver's (SSL) socket
    if raw_socket is None:
        connection.close()
        raise RuntimeError("redshift_connector has no _usock: cannot clear the connect timeout")
    raw_socket.settimeout(None)
    return connection


# -- rendering the kinds of statement that cannot take bind parameters ----------------------------


def render_copy(sql: SqlStatement, **values: str) -> str:
    """The COPY ``sql`` with each ``{placeholder}`` replaced by a quoted literal of ``values``.

    Redshift's COPY takes no bind parameters; every value must match its strict pattern
    (``_LITERAL_PATTERNS``), which no quote, backslash or whitespace can pass."""
    return _render(sql, values, {})


def render_unload(
    sql: SqlStatement, *, query: SqlStatement, params: Mapping[str, object], **values: str
) -> str:
    """The UNLOAD ``sql``: ``{query}`` becomes ``query`` as one string literal (its ``%(name)s``
    parameters written as DATE / TIMESTAMP literals, its quotes doubled), every other placeholder a
    quoted literal of ``values`` as in :func:`render_copy`."""
    return _render(sql, values, {"query": unload_query_literal(query, params)})


def unload_query_literal(query: SqlStatement, params: Mapping[str, object]) -> str:
    """``query`` as the quoted literal UNLOAD takes. Only dates and timestamps may be parameters
    (the backup windows): each is written from a ``date``/``datetime`` object by this code."""
    body = query.body
    if "\\" in body or "{" in body or "--" in body:
        raise ValueError(f"{query.key} cannot be quoted for UNLOAD (a backslash, brace or comment)")

    def literal(match: re.Match[str]) -> str:
        value = params[match["name"]]
        if isinstance(value, datetime):
            return f"TIMESTAMP '{value:%Y-%m-%d %H:%M:%S}'"
        if isinstance(value, date):
            return f"DATE '{value.isoformat()}'"
        raise ValueError(f"{query.key}: parameter {match['name']} is not a date or a timestamp")

    rendered = _PARAMETER.sub(literal, body)
    return "'" + rendered.replace("'", "''") + "'"


def _render(sql: SqlStatement, values: Mapping[str, str], rendered: Mapping[str, str]) -> str:
    body = sql.body
    names = set(_PLACEHOLDER.findall(body))
    if names != set(values) | set(rendered):
        raise ValueError(f"{sql.key} takes {sorted(names)}, got {sorted({*values, *rendered})}")

    def literal(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in rendered:
            return rendered[name]
        value = values[name]
        pattern = _LITERAL_PATTERNS.get(name)
        if pattern is None or not pattern.fullmatch(value):
            raise ValueError(f"{sql.key}: {name} is not a valid value for COPY")
        return f"'{value}'"

    return _PLACEHOLDER.sub(literal, body)


def render_table(sql: SqlStatement, table: str) -> str:
    """``sql`` with ``{table}`` replaced by one of the project's tables."""
    name = checked_table_name(table)
    if not _TABLE_NAME.fullmatch(name):
        raise ValueError(f"{table!r} cannot be spliced into SQL")
    return _splice_name(sql, "table", name)


def render_lock(table: str) -> str:
    """``LOCK <table>`` for one of the project's tables."""
    return render_table(statement("redshift/catalog.lock_table_for_write"), table)


def render_statement_timeout(seconds: int) -> str:
    """``SET statement_timeout TO <ms>`` (SET takes no bind parameters)."""
    if isinstance(seconds, bool) or not isinstance(seconds, int) or not 0 <= seconds <= 86_400 * 7:
        raise ValueError("the statement timeout is 0 (none) to 604800 seconds")
    sql = statement("redshift/session.set_statement_timeout")
    return sql.body.replace("{milliseconds}", str(seconds * 1000))


def render_schema(sql: SqlStatement, schema: str) -> str:
    """``sql`` with ``{schema}`` replaced by a smoke-test scratch schema name."""
    if not _SCHEMA_NAME.fullmatch(schema):
        raise ValueError(f"{schema!r} is not a scratch schema name")
    return _splice_name(sql, "schema", schema)


def _splice_name(sql: SqlStatement, placeholder: str, name: str) -> str:
    """``sql`` with its one kind of placeholder, ``{<placeholder>}``, replaced by ``name`` (a name
    the caller has checked)."""
    body = sql.body
    if set(_PLACEHOLDER.findall(body)) != {placeholder}:
        raise ValueError(f"{sql.key} does not take just a {placeholder}")
    return body.replace("{" + placeholder + "}", name)


def render_rows(
    sql: SqlStatement, rows: Sequence[Mapping[str, object]]
) -> tuple[str, dict[str, object]]:
    """A multi-row ``INSERT ... VALUES``: the one VALUES row of ``sql`` repeated per row of
    ``rows``, each parameter renamed ``<name>_<i>``, and the flattened parameters. Only parameter
    names are generated; values stay parameters."""
    body = sql.body
    head, marker, row = body.rpartition("VALUES")
    if not marker or not row.strip().startswith("(") or not rows:
        raise ValueError(f"{sql.key} is not a one-row INSERT ... VALUES, or there are no rows")
    names = _PARAMETER.findall(row)
    params: dict[str, object] = {}
    tuples = []
    for index, values in enumerate(rows):
        if set(values) != set(names):
            raise ValueError(f"{sql.key} takes {sorted(names)}, got {sorted(values)}")
        tuples.append(_PARAMETER.sub(rf"%(\1_{index})s", row.strip()))
        params.update({f"{name}_{index}": values[name] for name in names})
    return f"{head}VALUES\n" + ",\n".join(tuples), params


def render_schema_statement(key: str, schema: str) -> str:
    """Statement ``key`` (CREATE SCHEMA, SET search_path) for SPARKIFY_WAREHOUSE_SCHEMA: a checked
    lower-case identifier, double-quoted."""
    name = checked_schema_name(schema)
    return statement(key).body.replace("{schema}", f'"{name}"')


# -- sessions and the warehouse --------------------------------------------------------------------


StatementObserver = Callable[[str, float, "RedshiftError | None"], None]
"""Called after each statement with its key, its seconds and its error (None when it succeeded)."""


class RedshiftSession:
    """A transaction on a redshift_connector connection (autocommit off: the driver begins one
    with the first statement; the warehouse commits or rolls it back)."""

    def __init__(
        self,
        connection: redshift_connector.Connection,
        secrets: Sequence[str],
        observer: StatementObserver | None = None,
    ) -> None:
        self.connection = connection
        self._secrets = secrets
        self._observer = observer

    def _run(
        self, key: str, text: str, params: Mapping[str, object] | None
    ) -> redshift_connector.Cursor:
        cursor = self.connection.cursor()
        cursor.paramstyle = "pyformat"
        started = time.perf_counter()
        try:
            if params:
                cursor.execute(text, dict(params))
            else:
                cursor.execute(text)
        except (redshift_connector.Error, OSError) as error:
            failure = _error_from_driver(key, error, self._secrets)
            if self._observer is not None:
                self._observer(key, time.perf_counter() - started, failure)
            raise failure from None
        if self._observer is not None:
            self._observer(key, time.perf_counter() - started, None)
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
        return self.query_rendered(sql.key, sql.text, params)

    def query_rendered(
        self, key: str, text: str, params: Mapping[str, object] | None = None
    ) -> list[dict[str, object]]:
        cursor = self._run(key, text, params)
        try:
            names = [column[0] for column in cursor.description or ()]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
        finally:
            cursor.close()

    def execute_rendered(
        self, key: str, text: str, params: Mapping[str, object] | None = None
    ) -> int:
        """Runs SQL text rendered from statement ``key`` (a COPY, a LOCK, a multi-row INSERT)."""
        return self._affected(key, text, params)

    def lock_for_write(self, table: str) -> None:
        self.execute_rendered("redshift/catalog.lock_table_for_write", render_lock(table))

    def insert_rows(self, sql: SqlStatement, rows: Sequence[Mapping[str, object]]) -> int:
        """Inserts ``rows`` with the one-row INSERT ``sql``, ``REJECTION_BATCH_ROWS`` per
        statement."""
        inserted = 0
        for start in range(0, len(rows), REJECTION_BATCH_ROWS):
            text, params = render_rows(sql, rows[start : start + REJECTION_BATCH_ROWS])
            inserted += self.execute_rendered(sql.key, text, params)
        return inserted


@dataclass
class _LoadErrorCursor:
    """Where this session's load-error log was before the next COPY: rows of this session with a
    higher query id, started after ``started_after``, belong to it."""

    started_after: datetime
    after_query: int


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
            raise _connect_problem(
                _error_from_driver(
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
            raise _error_from_driver(key, error, self._secrets) from None

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
            rows_after=int(counted["row_count"]),  # type: ignore[call-overload]
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

    def _load_error_cursor(self, session: RedshiftSession) -> _LoadErrorCursor:
        """Where the session's load-error log stands, read before the first COPY of a load."""
        (now,) = session.query(statement("redshift/session.server_time"))
        (mark,) = session.query(
            statement(f"redshift/load_errors.{self.target.load_errors_file}_watermark")
        )
        started = now["now"]
        if not isinstance(started, datetime):
            raise TypeError(f"server_time returned {started!r}")
        return _LoadErrorCursor(
            started_after=started - timedelta(seconds=1),
            after_query=int(mark["last_query"]),  # type: ignore[call-overload]
        )

    def _copy(
        self,
        session: RedshiftSession,
        sql: SqlStatement,
        text: str,
        base: str,
        log: Log,
        errors: _LoadErrorCursor,
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
        return int(counted["loaded"]), rejections  # type: ignore[call-overload]

    def _new_rejections(
        self, session: RedshiftSession, base: str, errors: _LoadErrorCursor
    ) -> list[CopyRejection]:
        rows = session.query(
            statement(f"redshift/load_errors.{self.target.load_errors_file}_errors"),
            {"started_after": errors.started_after, "after_query": errors.after_query},
        )
        prefix = base + "/"
        for r in rows:
            errors.after_query = max(errors.after_query, int(r["query_id"]))  # type: ignore[call-overload]
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
                row["log_date"]: row
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
            errors = self._load_error_cursor(session)
            session.execute(statement("redshift/staging.drop_staged_songs"))
            session.execute(statement("redshift/staging.create_staged_songs"))
            copied, rejections = self._copy(session, copy_sql, text, base, log, errors)
            log(f"{SONG_PREFIX}: COPY loaded {copied} song objects, rejected {len(rejections)}")
            session.execute(statement("redshift/staging.drop_checked_songs"))
            session.execute(statement("redshift/staging.create_checked_songs"))
            (counts,) = session.query(statement("redshift/staging.checked_song_counts"))

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
        accepted = int(counts["accepted"] or 0)  # type: ignore[call-overload]
        refused = int(counts["refused"] or 0) + len(rejections)  # type: ignore[call-overload]
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
                counts[part.folder] = int(counted["row_count"])  # type: ignore[call-overload]
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


def _text(value: object) -> str:
    return "" if value is None else str(value).strip()


def _log_rejections(log: Log, key: str, rejections: Sequence[CopyRejection]) -> None:
    for rejection in rejections[:REJECTIONS_LOGGED]:
        line = "?" if rejection.line_number is None else rejection.line_number
        log(f"{key}: {rejection.source_file} line {line} {rejection.reason}")
    if len(rejections) > REJECTIONS_LOGGED:
        log(f"{key}: ... and {len(rejections) - REJECTIONS_LOGGED} more rejected lines")
