"""The Redshift engine against PostgreSQL: databases reached through redshift_connector and the wire
proxy, and the one thing only Redshift has, stood in for.

redshift_connector cannot talk to stock PostgreSQL by itself (it insists on SSL, sends startup
parameters PostgreSQL rejects, and its SCRAM is broken); tests.support.redshift_wire_proxy declines
SSL and drops those parameters, and the test role logs in with md5. Everything after the startup
message is the real driver against a real server.

Stood in for, and nothing else:

* the tables are created from the Redshift DDL with its distribution, sort-key and ENCODE clauses
  removed (sqlglot), since PostgreSQL has no such clauses (``postgres_shaped_ddl``);
* ``COPY ... FROM 's3://...'`` is replaced (``EmulatedCopyWarehouse.run_copy``) by inserting the
  rows the COPY would load into its temporary table. Like COPY, a source without ``MANIFEST`` is a
  key prefix (every object whose key starts with it is read, ``...events.json.bak`` included); with
  ``MANIFEST`` exactly the manifest's entries are read and a missing mandatory one fails the COPY.
  Objects are read from the local tree for the fake ``BUCKET_URL``, and from the S3 test server
  (moto) for every other bucket (the manifests, the smoke test's data).
* COPY's bookkeeping: ``stl_load_errors`` and ``sys_load_error_detail`` (with Redshift's columns),
  ``pg_last_copy_id()``, ``pg_last_copy_count()`` and ``getdate()`` are created in each test
  database's ``pg_catalog``, where Redshift keeps them (so they resolve whatever the search_path),
  and written on a separate connection as Redshift writes its system logs outside the transaction.
  As on Redshift, a COPY that fails does not update ``pg_last_copy_id()``.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit

import boto3
import psycopg
import pytest
import sqlglot
from psycopg import sql as pgsql
from sqlglot import exp

from sparkify_assets.records import songs as song_records
from sparkify_assets.source.local_tree import LocalSourceTree
from sparkify_assets.warehouse.redshift import engine as redshift_warehouse
from sparkify_assets.warehouse.redshift.engine import RedshiftWarehouse
from sparkify_assets.warehouse.redshift.errors import RedshiftError
from sparkify_assets.warehouse.redshift.session import RedshiftSession
from sparkify_assets.warehouse.settings import WarehouseSettings
from sparkify_assets.warehouse.sql_files import SqlStatement
from tests.conftest import new_database
from tests.support.redshift_wire_proxy import (
    PasswordLogin,
    RedshiftWireProxy,
    require_password_logins,
)
from tests.support.s3_server import S3Bucket

ETL = PasswordLogin("sparkify_etl", "Etl-secret 'quoted' p@ss", "md5")
BUCKET_URL = "s3://sparkify-test-source/raw"
IAM_ROLE = "arn:aws:iam::123456789012:role/sparkify-redshift-copy"
REGION = "us-west-2"


@pytest.fixture(scope="module")
def etl_login(postgres_admin_url: str) -> str:
    """The admin URL, after making the ETL role log in with an md5 password (other roles keep
    their own pg_hba.conf lines)."""
    require_password_logins(postgres_admin_url, [ETL])
    return postgres_admin_url


@pytest.fixture(scope="module")
def proxy(etl_login: str) -> Iterator[RedshiftWireProxy]:
    with RedshiftWireProxy.for_url(etl_login) as running:
        yield running


# The Redshift system objects the engine reads after a COPY, as PostgreSQL objects in pg_catalog.
EMULATED_SYSTEM_OBJECTS = [
    "SET allow_system_table_mods = on",
    """CREATE TABLE pg_catalog.stl_load_errors (
        userid INTEGER, slice INTEGER, tbl INTEGER, starttime TIMESTAMP, session INTEGER,
        query INTEGER, filename CHAR(256), line_number BIGINT, colname CHAR(127), type CHAR(10),
        col_length CHAR(10), position INTEGER, raw_line CHAR(1024), raw_field_value CHAR(1024),
        err_code INTEGER, err_reason CHAR(100))""",
    """CREATE TABLE pg_catalog.sys_load_error_detail (
        user_id INTEGER, query_id BIGINT, transaction_id BIGINT, session_id INTEGER,
        database_name CHAR(64), table_id INTEGER, start_time TIMESTAMP, file_name CHAR(256),
        line_number BIGINT, column_name CHAR(127), column_type CHAR(10), column_length CHAR(10),
        position INTEGER, error_code INTEGER, error_message CHAR(512))""",
    "CREATE TABLE pg_catalog.emulated_copies (query INTEGER, pid INTEGER, loaded BIGINT)",
    "CREATE SEQUENCE pg_catalog.emulated_query_ids START 1001",
    """CREATE FUNCTION pg_catalog.pg_last_copy_id() RETURNS INTEGER LANGUAGE sql STABLE AS
        'SELECT COALESCE(MAX(query), -1) FROM pg_catalog.emulated_copies
         WHERE pid = pg_backend_pid()'""",
    """CREATE FUNCTION pg_catalog.pg_last_copy_count() RETURNS BIGINT LANGUAGE sql STABLE AS
        'SELECT COALESCE((SELECT loaded FROM pg_catalog.emulated_copies
                          WHERE pid = pg_backend_pid() ORDER BY query DESC LIMIT 1), 0)'""",
    """CREATE FUNCTION pg_catalog.getdate() RETURNS TIMESTAMP LANGUAGE sql STABLE AS
        'SELECT date_trunc(''second'', statement_timestamp() AT TIME ZONE ''UTC'')'""",
    """GRANT ALL ON pg_catalog.stl_load_errors, pg_catalog.sys_load_error_detail,
        pg_catalog.emulated_copies, pg_catalog.emulated_query_ids TO PUBLIC""",
]


@dataclass
class Database:
    admin_url: str  # psycopg URL of the database, as the superuser: an independent observer
    redshift_url: str  # redshift://sparkify_etl@127.0.0.1:<proxy>/<db>?sslmode=disable
    staging_url: str  # s3://<test bucket>/staging: where the engine writes COPY manifests

    def settings(self, **overrides: Any) -> WarehouseSettings:
        values: dict[str, Any] = {
            "url": self.redshift_url,
            "password": ETL.password,
            "iam_role_arn": IAM_ROLE,
            "region": REGION,
            "staging_url": self.staging_url,
        }
        values.update(overrides)
        return WarehouseSettings(**values)

    def rows(self, query: str) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.admin_url) as connection:
            return connection.execute(query).fetchall()


@pytest.fixture
def database(etl_login: str, proxy: RedshiftWireProxy, s3_bucket: S3Bucket) -> Iterator[Database]:
    with new_database(etl_login) as url:
        name = urlsplit(url).path.lstrip("/")
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute(
                pgsql.SQL("ALTER DATABASE {} OWNER TO {}").format(
                    pgsql.Identifier(name), pgsql.Identifier(ETL.user)
                )
            )
            admin.execute(
                pgsql.SQL("ALTER SCHEMA public OWNER TO {}").format(pgsql.Identifier(ETL.user))
            )
            for ddl in EMULATED_SYSTEM_OBJECTS:
                admin.execute(ddl)
        yield Database(
            url,
            f"redshift://{ETL.user}@127.0.0.1:{proxy.port}/{name}?sslmode=disable",
            s3_bucket.url("staging"),
        )


def postgres_shape(sql: SqlStatement) -> SqlStatement:
    """A Redshift CREATE TABLE without its DISTSTYLE/DISTKEY/SORTKEY and ENCODE clauses, as
    PostgreSQL SQL; other statements (COMMENT ON) unchanged."""
    create = sqlglot.parse_one(sql.text, read="redshift")
    if not isinstance(create, exp.Create):
        return sql
    properties = create.args.get("properties")
    if properties is not None:
        for prop in list(properties.expressions):
            if isinstance(prop, exp.DistKeyProperty | exp.DistStyleProperty | exp.SortKeyProperty):
                prop.pop()
        if not properties.expressions:
            properties.pop()
    for constraint in list(create.find_all(exp.ColumnConstraint)):
        if isinstance(constraint.kind, exp.EncodeColumnConstraint):
            constraint.pop()
    return SqlStatement(key=sql.key, text=create.sql("postgres"), path=sql.path)


@pytest.fixture
def postgres_shaped_ddl(monkeypatch: pytest.MonkeyPatch) -> None:
    """ensure_tables runs the Redshift DDL with only the PostgreSQL-unknown clauses removed."""
    original = redshift_warehouse.ddl_statements

    def shaped(engine: str, table: str) -> Iterator[SqlStatement]:
        assert engine == "redshift"
        for sql in original(engine, table):
            yield postgres_shape(sql)

    monkeypatch.setattr(redshift_warehouse, "ddl_statements", shaped)


class S3UrlTree(LocalSourceTree):
    """A local source tree that says it is ``BUCKET_URL``: what the Redshift engine asks of it is
    the URL and the keys; the emulated COPY reads the files locally."""

    @property
    def url(self) -> str:
        return BUCKET_URL


def adhoc(text: str) -> SqlStatement:
    """A statement written in a test (never in the project's code)."""
    return SqlStatement(key="tests/emulated_copy", text=text, path=Path(__file__))


# The keys of a song file: what COPY ... FORMAT AS JSON 'auto' matches to staging_songs' columns.
SONG_COLUMNS = [c for c in song_records.SONG_COLUMNS if c != "source_file"]


class EmulatedCopyWarehouse(RedshiftWarehouse):
    """RedshiftWarehouse whose COPY is emulated: the rendered COPY text is parsed, its objects read
    (by prefix, or by manifest), and each line inserted into the COPY target or rejected the way
    Redshift rejects it (a malformed JSON line, a text longer than its VARCHAR, a value of the
    wrong type). Its VACUUM runs PostgreSQL's plain VACUUM (PostgreSQL has no DELETE ONLY) and is
    recorded. Everything else is the engine's own code."""

    root: Path | None = None  # the local tree standing for BUCKET_URL
    admin_url: str
    max_errors: int | None = None  # None: the COPY's own MAXERROR
    copies: list[list[str]]  # the object URLs each COPY read
    vacuums: list[str]  # the VACUUM statements the engine asked for

    # -- reading objects -----------------------------------------------------------------------

    def _s3(self) -> Any:
        return boto3.client("s3", endpoint_url=os.environ["AWS_ENDPOINT_URL"])

    def _read(self, url: str) -> bytes | None:
        if self.root is not None and url.startswith(BUCKET_URL + "/"):
            path = self.root / url.removeprefix(BUCKET_URL + "/")
            return path.read_bytes() if path.is_file() else None
        bucket, _, key = url.removeprefix("s3://").partition("/")
        try:
            return cast(bytes, self._s3().get_object(Bucket=bucket, Key=key)["Body"].read())
        except self._s3().exceptions.NoSuchKey:
            return None

    def _list(self, prefix_url: str) -> list[str]:
        """Every object whose URL starts with ``prefix_url``: COPY's reading of a key."""
        if self.root is not None and prefix_url.startswith(BUCKET_URL + "/"):
            relative = prefix_url.removeprefix(BUCKET_URL + "/")
            return sorted(
                f"{BUCKET_URL}/{p.relative_to(self.root).as_posix()}"
                for p in self.root.glob("**/*")
                if p.is_file() and p.relative_to(self.root).as_posix().startswith(relative)
            )
        bucket, _, key = prefix_url.removeprefix("s3://").partition("/")
        pages = self._s3().get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=key)
        return sorted(
            f"s3://{bucket}/{o['Key']}" for page in pages for o in page.get("Contents", [])
        )

    # -- the COPY ------------------------------------------------------------------------------

    def run_copy(self, session: RedshiftSession, key: str, text: str) -> None:
        """The emulated COPY, reported to the statement observer as the COPY statement."""
        started = time.perf_counter()
        try:
            self._emulate_copy(session, key, text)
        except RedshiftError as error:
            if self.observer is not None:
                self.observer(key, time.perf_counter() - started, error)
            raise
        if self.observer is not None:
            self.observer(key, time.perf_counter() - started, None)

    def _emulate_copy(self, session: RedshiftSession, key: str, text: str) -> None:
        copy = sqlglot.parse_one(text, read="redshift")
        assert isinstance(copy, exp.Copy)
        source = copy.args["files"][0].this
        params = {p.this.name.upper(): p.args.get("expression") for p in copy.args["params"]}
        max_errors = (
            self.max_errors if self.max_errors is not None else int(params["MAXERROR"].this)
        )
        if "MANIFEST" in params:
            manifest = self._read(source)
            if manifest is None:
                return self._fail(session, key, f"Manifest file {source} not found")
            entries = json.loads(manifest)["entries"]
            urls = [entry["url"] for entry in entries]
            for entry in entries:
                if entry.get("mandatory") and self._read(entry["url"]) is None:
                    return self._fail(session, key, f"Mandatory file {entry['url']} not found")
        else:
            urls = self._list(source)
        self.copies.append(urls)
        target = copy.this.this.name
        columns = [c.name for c in copy.this.expressions]
        auto = not columns  # FORMAT AS JSON 'auto': one object per file, keys are column names
        if auto:
            columns = SONG_COLUMNS
            jsonpaths = columns
        else:
            paths = json.loads(self._read(params["FORMAT AS JSON"].this) or b"")
            jsonpaths = [re.fullmatch(r"\$\['(.+)'\]", p)[1] for p in paths["jsonpaths"]]  # type: ignore[index]
        types = self._column_types(session, target)
        (pid,) = session.query(adhoc("SELECT pg_backend_pid() AS pid"))
        loaded, errors = 0, []
        insert = (
            f"INSERT INTO {target} ({', '.join(columns)}) VALUES"
            f" ({', '.join(f'%(v{i})s' for i in range(len(columns)))})"
        )
        for url in urls:
            body = self._read(url) or b""
            records = [body] if auto else body.splitlines()
            for number, record in enumerate(records, start=1):
                if not record.strip():
                    continue
                row, problem = convert(record, jsonpaths, [types[c] for c in columns])
                if problem is not None:
                    text = record.decode("utf-8", "replace")[:1024]
                    errors.append((url, number, *problem, text))
                    continue
                session.execute(adhoc(insert), {f"v{i}": v for i, v in enumerate(row)})
                loaded += 1
        failed = len(errors) > max_errors
        with psycopg.connect(self.admin_url, autocommit=True) as system:
            (query,) = system.execute("SELECT nextval('pg_catalog.emulated_query_ids')").fetchone()  # type: ignore[misc]
            if not failed:  # PG_LAST_COPY_ID is not updated by a COPY that is rolled back
                system.execute(
                    "INSERT INTO pg_catalog.emulated_copies VALUES (%s, %s, %s)",
                    (query, pid["pid"], loaded),
                )
            has_stl = system.execute(
                "SELECT to_regclass('pg_catalog.stl_load_errors') IS NOT NULL"
            ).fetchone()[0]  # type: ignore[index]
            for source_url, line, column, code, reason, value, raw in errors:
                if has_stl:  # provisioned clusters only
                    system.execute(
                        "INSERT INTO pg_catalog.stl_load_errors (starttime, session, query,"
                        " filename, line_number, colname, err_code, err_reason, raw_field_value,"
                        " raw_line) VALUES (clock_timestamp() AT TIME ZONE 'UTC', %s, %s, %s,"
                        " %s, %s, %s, %s, %s, %s)",
                        (pid["pid"], query, source_url, line, column, code, reason, value, raw),
                    )
                system.execute(
                    "INSERT INTO pg_catalog.sys_load_error_detail (start_time, session_id,"
                    " query_id, file_name, line_number, column_name, error_code, error_message)"
                    " VALUES (clock_timestamp() AT TIME ZONE 'UTC', %s, %s, %s, %s, %s, %s, %s)",
                    (pid["pid"], query, source_url, line, column, code, reason),
                )
        if failed:
            self._fail(
                session,
                key,
                f"Load into table '{target}' failed.  Check 'stl_load_errors' system table"
                " for details.",
            )
        return None

    @staticmethod
    def _fail(session: RedshiftSession, key: str, message: str) -> None:
        """Raises what Redshift answers to a failed COPY (SQLSTATE XX000) through the driver."""
        quoted = message.replace("'", "''")
        session.execute_rendered(
            key, f"DO $$ BEGIN RAISE EXCEPTION '{quoted}' USING ERRCODE = 'XX000'; END $$"
        )

    def run_vacuum(self, key: str, text: str) -> None:
        self.vacuums.append(text)
        table = text.removeprefix("VACUUM DELETE ONLY ").strip()
        super().run_vacuum(key, f"VACUUM {table}")

    @staticmethod
    def _column_types(session: RedshiftSession, table: str) -> dict[str, tuple[str, int | None]]:
        rows = session.query(
            adhoc(
                "SELECT column_name, data_type, character_maximum_length FROM"
                " information_schema.columns WHERE table_name = %(t)s"
            ),
            {"t": table},
        )
        return {
            str(r["column_name"]): (
                str(r["data_type"]),
                cast(int | None, r["character_maximum_length"]),
            )
            for r in rows
        }


def convert(
    raw: bytes, fields: list[str], types: list[tuple[str, int | None]]
) -> tuple[list[object], tuple[str, int, str, str] | None]:
    """The row COPY would load from one JSON record, or (column, code, reason, value) of its
    rejection."""
    try:
        record = json.loads(raw)
        if not isinstance(record, dict):
            raise ValueError
    except ValueError:
        return [], ("", 1224, "Invalid JSON object", "")
    row: list[object] = []
    for field, (kind, size) in zip(fields, types, strict=True):
        value = record.get(field)
        if value is None:
            row.append(None)
        elif kind == "character varying":
            text = value if isinstance(value, str) else json.dumps(value)
            if size is not None and len(text.encode()) > size:
                return [], (field.lower(), 1204, "String length exceeds DDL length", text[:1024])
            row.append(text)
        elif kind in ("integer", "bigint"):
            if isinstance(value, bool) or not isinstance(value, int | str):
                return [], (
                    field.lower(),
                    1207,
                    "Invalid digit, Value '.', Pos 0, Type: Integer",
                    str(value),
                )
            try:
                number = int(value)
            except ValueError:
                return [], (field.lower(), 1207, "Invalid digit", str(value))
            limit = 2**31 if kind == "integer" else 2**63
            if not -limit <= number < limit:
                return [], (field.lower(), 1216, "Overflow", str(value))
            row.append(number)
        elif kind == "double precision":
            if isinstance(value, bool) or not isinstance(value, int | float):
                return [], (field.lower(), 1213, "Missing data for not-null field", str(value))
            row.append(float(value))
        else:
            raise AssertionError(kind)
    return row, None


Emulated = TypeVar("Emulated", bound=EmulatedCopyWarehouse)


def emulated(
    warehouse: RedshiftWarehouse,
    admin_url: str,
    root: Path | None,
    kind: type[Emulated] = EmulatedCopyWarehouse,  # type: ignore[assignment]
) -> Emulated:
    """``warehouse``'s connection and settings, with the COPY emulated (by ``kind``, an
    EmulatedCopyWarehouse or a subclass emulating more)."""
    copy = kind(
        warehouse._connection,
        target=warehouse.target,
        iam_role_arn=warehouse.iam_role_arn,
        region=warehouse.region,
        secrets=warehouse._secrets,
        manifests=warehouse.manifests,
        observer=warehouse.observer,
    )
    copy.root = root
    copy.admin_url = admin_url
    copy.copies = []
    copy.vacuums = []
    return copy


def open_emulated(database: Database, root: Path | None, **overrides: Any) -> EmulatedCopyWarehouse:
    return emulated(
        RedshiftWarehouse.connect(database.settings(**overrides)), database.admin_url, root
    )
