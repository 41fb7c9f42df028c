"""The Redshift engine's backup and restore path, run for real against PostgreSQL through
redshift_connector (see test_redshift_warehouse.py for the wire proxy), with the backup in a moto
S3 bucket over HTTP.

Stood in for, and nothing else: UNLOAD (``run_unload``: the rendered UNLOAD's query is run on the
server and its rows written as Redshift documents, one ``<prefix>0000_part_00.parquet`` file with the
types of AWS's Redshift/Spectrum type correspondence) and COPY ``FORMAT AS PARQUET MANIFEST``
(``run_copy``: the manifest is read from the bucket and each listed file's rows inserted by
position). Everything else is the engine's own code: the counts and UNLOADs in one transaction,
the COPY manifests it writes, the temporary tables, the delete-and-insert transaction.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import sqlglot
from psycopg import sql as pgsql
from sqlglot import exp

from sparkify_assets.warehouse.backup.backup_and_restore import back_up, plan_restore, restore
from sparkify_assets.warehouse.backup.location import open_backup_location
from sparkify_assets.warehouse.redshift.engine import RedshiftWarehouse
from sparkify_assets.warehouse.redshift.session import RedshiftSession
from sparkify_assets.warehouse.tables import WAREHOUSE_TABLES
from tests.support.redshift_copy_emulation import (
    Database,
    EmulatedCopyWarehouse,
    S3UrlTree,
    adhoc,
    emulated,
)
from tests.support.s3_server import (
    S3Bucket,
)
from tests.test_redshift_sql import unload_problems
from tests.test_redshift_warehouse import WINDOW, run_pipeline, sample_root  # noqa: F401

_UNLOAD = re.compile(r"^UNLOAD \('(?P<query>(?:[^']|'')*)'\)\s+TO '(?P<target>[^']*)'", re.S)
# The Parquet type UNLOAD writes for each column type (the documented correspondence).
_UNLOADED_TYPES = {
    "character varying": pa.string(),
    "character": pa.string(),
    "integer": pa.int32(),
    "bigint": pa.int64(),
    "double precision": pa.float64(),
    "date": pa.date32(),
    "timestamp without time zone": pa.timestamp("us"),
}


class EmulatedUnloadWarehouse(EmulatedCopyWarehouse):
    bucket: S3Bucket
    unloads: list[str]

    def run_unload(self, session: RedshiftSession, key: str, text: str) -> None:
        self.unloads.append(text)
        match = _UNLOAD.match(text)
        assert match, text
        query = match["query"].replace("''", "'")
        rows = session.query(adhoc(query))
        table = sqlglot.parse_one(query, read="redshift").find(exp.Table).name  # type: ignore[union-attr]
        columns = session.query(
            adhoc(
                "SELECT column_name, data_type FROM information_schema.columns"
                " WHERE table_name = %(t)s ORDER BY ordinal_position"
            ),
            {"t": table},
        )
        schema = pa.schema(
            [(str(c["column_name"]), _UNLOADED_TYPES[str(c["data_type"])]) for c in columns]
        )
        if not rows:
            return  # what an empty UNLOAD writes is not documented: the backup copes with none
        buffer = io.BytesIO()
        pq.write_table(pa.Table.from_pylist(rows, schema=schema), buffer)
        bucket, _, prefix = match["target"].removeprefix("s3://").partition("/")
        self.bucket.client.put_object(
            Bucket=bucket, Key=f"{prefix}0000_part_00.parquet", Body=buffer.getvalue()
        )

    def run_copy(self, session: RedshiftSession, key: str, text: str) -> None:
        if "FORMAT AS PARQUET" not in text:
            super().run_copy(session, key, text)
            return
        copy = sqlglot.parse_one(text, read="redshift")
        assert isinstance(copy, exp.Copy)
        manifest_url = copy.args["files"][0].this
        bucket, _, manifest_key = manifest_url.removeprefix("s3://").partition("/")
        manifest = json.loads(
            self.bucket.client.get_object(Bucket=bucket, Key=manifest_key)["Body"].read()
        )
        target = copy.this.name
        for entry in manifest["entries"]:
            assert entry["mandatory"] is True and entry["meta"]["content_length"] > 0
            file_bucket, _, file_key = entry["url"].removeprefix("s3://").partition("/")
            body = self.bucket.client.get_object(Bucket=file_bucket, Key=file_key)["Body"].read()
            assert len(body) == entry["meta"]["content_length"]
            for row in pq.read_table(io.BytesIO(body)).to_pylist():  # by position, as COPY does
                values = list(row.values())
                marks = ", ".join(f"%(v{i})s" for i in range(len(values)))
                session.execute(
                    adhoc(f"INSERT INTO {target} VALUES ({marks})"),
                    {f"v{i}": v for i, v in enumerate(values)},
                )


@pytest.fixture
def redshift(
    database: Database,
    sample_root: Path,  # noqa: F811
    s3_bucket: S3Bucket,
    postgres_shaped_ddl: None,
) -> Iterator[EmulatedUnloadWarehouse]:
    connected = RedshiftWarehouse.connect(database.settings())
    warehouse = emulated(connected, database.admin_url, sample_root, EmulatedUnloadWarehouse)
    warehouse.bucket = s3_bucket
    warehouse.unloads = []
    with warehouse:
        yield warehouse


def all_rows(url: str) -> dict[str, list[tuple[Any, ...]]]:
    with psycopg.connect(url) as connection:
        return {
            table: sorted(
                connection.execute(
                    pgsql.SQL("SELECT * FROM {}").format(pgsql.Identifier(table))
                ).fetchall(),
                key=repr,
            )
            for table in WAREHOUSE_TABLES
        }


def test_redshift_backup_and_restore_round_trip(
    redshift: EmulatedUnloadWarehouse,
    database: Database,
    sample_root: Path,  # noqa: F811
    s3_bucket: S3Bucket,
) -> None:
    logged: list[str] = []
    run_pipeline(redshift, S3UrlTree(sample_root), WINDOW, logged.append)
    original = all_rows(database.admin_url)
    location = open_backup_location(s3_bucket.url("redshift-backup"))

    report = back_up(
        redshift,
        location,
        WINDOW.days(),
        snapshot_date=WINDOW.first_day,
        snapshot_retention=3,
        log=logged.append,
    )

    assert not report.mismatches()
    assert report.per_dataset()["songplays"]["rows"] == len(original["songplays"])
    assert len(redshift.unloads) == 4 * len(WINDOW.days()) + 5
    for text in redshift.unloads:  # what was sent is what the offline checks accept
        assert not unload_problems(text), unload_problems(text)
        assert "ENCRYPTED" not in text  # SSE-S3, UNLOAD's default
    keys = [o.key for o in location.list("songplays/")]
    assert keys and all(
        re.search(r"/part-\d{8}T\d{6}-[0-9a-f]{8}-0000_part_00\.parquet$", k) for k in keys
    )

    with psycopg.connect(database.admin_url, autocommit=True) as admin:
        for table in WAREHOUSE_TABLES:
            admin.execute(pgsql.SQL("DROP TABLE {}").format(pgsql.Identifier(table)))
    plan = plan_restore(
        location, first_day=None, last_day=None, snapshot_date=None, restore_snapshot=True
    )
    restored = restore(redshift, location, plan, log=logged.append)

    assert restored == {table: len(rows) for table, rows in original.items()}
    assert all_rows(database.admin_url) == original
    assert not location.list("_restore/")  # the COPY manifests are removed afterwards
