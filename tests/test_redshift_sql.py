"""Every SQL statement the Redshift engine can issue, parsed offline with sqlglot's Redshift dialect.

No Redshift is reachable in the tests, so this is what stands between a typo and a failed production
run: DDL, COPY, the temporary-table conversion, the shared transforms, checks, comments, row counts
and catalog queries. sqlglot silently falls back to an opaque ``exp.Command`` for some input it
cannot parse (invalid SQL among it), so a statement that parses only as a Command fails the test;
the one exception is ``LOCK``, which sqlglot has no grammar for, and which is checked by pattern.
COPY commands are parsed as the engine renders them and checked against an explicit allow-list of
parameters (IAM_ROLE only for credentials).
"""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import pytest
import sqlglot
from sqlglot import exp
from sqlglot.errors import ErrorLevel
from sqlglot.optimizer.scope import traverse_scope

from sparkify_assets.records import events as event_records
from sparkify_assets.records import songs as song_records
from sparkify_assets.warehouse.backup.datasets import ALL_DATASETS, BACKED_UP_TABLES, BackupPart
from sparkify_assets.warehouse.redshift.statement_rendering import (
    render_copy,
    render_lock,
    render_schema,
    render_schema_statement,
    render_statement_timeout,
    render_table,
    render_unload,
    unload_query_literal,
)
from sparkify_assets.warehouse.sql_files import (
    SqlStatement,
    all_statement_files,
    load_file,
    sql_root,
)
from sparkify_assets.warehouse.tables import WAREHOUSE_TABLES

# The statement files the Redshift engine may run: every file but the PostgreSQL engine's own
# (sql/redshift/, and the shared staging/, transform/, checks/, comments/, row_counts, catalog, ...).
# A new shared file is checked here without being listed. sql/cluster_admin/ holds what an
# administrator runs once as the master user (the ETL user and its grants), not the engine: it is
# checked in test_redshift_cluster_jobs.py.
POSTGRES_ONLY_PREFIX = "postgres/"
NOT_RUN_BY_THE_ENGINE_PREFIXES = (POSTGRES_ONLY_PREFIX, "cluster_admin/")

# A literal of the right type for each %(name)s parameter any of those statements takes. A new
# parameter name fails test_every_parameter_has_a_sample until it is added here.
SAMPLE_PARAMETERS = {
    "first_day": "DATE '2018-11-01'",
    "end_day": "DATE '2018-11-02'",
    "window_start": "TIMESTAMP '2018-11-01 00:00:00'",
    "window_end": "TIMESTAMP '2018-11-02 00:00:00'",
    "loaded_rows": "42",
    "max_quarantine_share": "0.01",
    "table_name": "'songplays'",
    "log_date": "DATE '2018-11-01'",
    "source_file": "'log_data/2018/11/2018-11-01-events.json'",
    "source_kind": "'event'",
    "line_number": "7",
    "reason": "'rejected by Redshift COPY'",
    "raw_text": "'{}'",
    "rejected_at": "TIMESTAMP '2018-11-02 03:04:05'",
    "run_id": "'0f3c2a1e-run'",
    "schema_name": "'sparkify_dev'",
    "version": "2",
    "applied_at": "TIMESTAMP '2026-11-29 10:00:00'",
    "description": "'songplays without enforced primary key'",
    "started_after": "TIMESTAMP '2018-11-02 03:04:05'",
    "after_query": "1234",
}
_PARAMETER = re.compile(r"%\((?P<name>[a-z_]+)\)s")

SOURCE = "s3://sparkify-source/raw"
COPY_VALUES = {
    "iam_role": "arn:aws:iam::123456789012:role/sparkify-redshift-copy",
    "region": "us-west-2",
}
# Every parameter a Redshift COPY of this project may carry, and those it must carry: the JSON
# staging COPYs, and the Parquet restore COPYs (COPY from Parquet takes neither REGION nor MAXERROR:
# docs.aws.amazon.com/redshift/latest/dg/copy-usage_notes-copy-from-columnar.html).
ALLOWED_COPY_PARAMETERS = {
    "FORMAT AS JSON",
    "REGION",
    "MAXERROR",
    "COMPUPDATE",
    "STATUPDATE",
    "MANIFEST",
}
REQUIRED_COPY_PARAMETERS = {"FORMAT AS JSON", "REGION", "MAXERROR"}
# Statements with SPARKIFY_WAREHOUSE_SCHEMA spliced in (a checked identifier, double-quoted), and
# schema names they are rendered with (a reserved word among them: quoting keeps it an identifier).
SCHEMA_STATEMENTS = ("redshift/catalog.create_schema", "redshift/catalog.set_search_path")
SAMPLE_SCHEMAS = ("public", "sparkify_dev", "user")
ALLOWED_PARQUET_COPY_PARAMETERS = {"FORMAT AS PARQUET", "MANIFEST"}
REQUIRED_PARQUET_COPY_PARAMETERS = {"FORMAT AS PARQUET", "MANIFEST"}
# UNLOAD: the options a backup may use, and those it must (IAM_ROLE only for credentials; no
# ALLOWOVERWRITE or CLEANPATH: a backup never overwrites or deletes through Redshift).
ALLOWED_UNLOAD_OPTIONS = {"IAM_ROLE", "FORMAT AS PARQUET", "ENCRYPTED", "KMS_KEY_ID", "REGION"}
REQUIRED_UNLOAD_OPTIONS = {"IAM_ROLE", "FORMAT AS PARQUET", "REGION"}
BACKUP = "s3://sparkify-backups/warehouse"
KMS_KEY = "arn:aws:kms:us-west-2:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
_UNLOAD = re.compile(
    r"^UNLOAD \('(?P<query>(?:[^']|'')*)'\)\s+TO '(?P<target>[^']*)'\s+(?P<options>.*)$", re.S
)
_UNLOAD_OPTION = re.compile(
    r"\s*(?:(?P<flag>FORMAT AS PARQUET|ENCRYPTED)|(?P<name>IAM_ROLE|KMS_KEY_ID|REGION) '(?P<value>[^']*)'"
    r"|(?P<other>\S+))"
)
# LOCK and VACUUM are the statements sqlglot cannot parse; this is all they may look like.
LOCK_PATTERN = re.compile(r"^LOCK (?P<table>[a-z_]+)$")
VACUUM_PATTERN = re.compile(r"^VACUUM DELETE ONLY (?P<table>[a-z_]+)$")
UNPARSED = {"redshift/catalog.lock_table_for_write", "redshift/upkeep.vacuum_delete_only"}
MANIFEST_URL = "s3://sparkify-staging/copy/manifests/0f3c2a1e-run/2018-11-01.manifest"


def redshift_file_keys() -> list[str]:
    return [
        key for key in all_statement_files() if not key.startswith(NOT_RUN_BY_THE_ENGINE_PREFIXES)
    ]


def file_statements() -> list[SqlStatement]:
    return [sql for key in redshift_file_keys() for sql in load_file(key).values()]


def rendered_statements() -> list[tuple[str, str]]:
    """(key, SQL) of every statement as the engine sends it: COPY and LOCK rendered as in a run."""
    rendered = []
    for sql in file_statements():
        if sql.key == "redshift/staging.copy_log_file":
            text = render_copy(
                sql, source=MANIFEST_URL, jsonpaths=f"{SOURCE}/log_json_path.json", **COPY_VALUES
            )
            rendered.append((sql.key, text))
        elif sql.key.startswith("redshift/upkeep."):
            rendered += [(sql.key, render_table(sql, table)) for table in WAREHOUSE_TABLES]
        elif sql.key.startswith("redshift/smoke."):
            rendered.append((sql.key, render_schema(sql, "sparkify_smoke_0f3c2a1e")))
        elif sql.key == "redshift/session.set_statement_timeout":
            rendered += [(sql.key, render_statement_timeout(s)) for s in (0, 10_800)]
        elif sql.key == "redshift/staging.copy_song_files":
            rendered.append(
                (sql.key, render_copy(sql, source=f"{SOURCE}/song_data/", **COPY_VALUES))
            )
        elif sql.key == "redshift/catalog.lock_table_for_write":
            rendered += [(sql.key, render_lock(table)) for table in WAREHOUSE_TABLES]
        elif sql.key in SCHEMA_STATEMENTS:
            rendered += [(sql.key, render_schema_statement(sql.key, s)) for s in SAMPLE_SCHEMAS]
        elif sql.key.startswith("redshift/backup.unload_"):
            rendered += [(sql.key, unload) for unload in rendered_unloads(sql)]
        elif sql.key.startswith("redshift/backup.copy_restored_"):
            table = sql.name.removeprefix("copy_restored_")
            manifest = f"{BACKUP}/_restore/0f3c/{table}.manifest"
            rendered.append((sql.key, render_copy(sql, manifest=manifest, **RESTORE_VALUES)))
        else:
            rendered.append((sql.key, sql.text))
    return rendered


RESTORE_VALUES = {"iam_role": COPY_VALUES["iam_role"]}


def rendered_unloads(sql: SqlStatement) -> list[str]:
    """The UNLOAD ``sql`` as a backup renders it, for every data set (a day, or the snapshot)."""
    extra = {"kms_key_id": KMS_KEY} if "kms" in sql.name else {}
    unloads = []
    for dataset in ALL_DATASETS:
        part = BackupPart(dataset, date(2018, 11, 30))
        unloads.append(
            render_unload(
                sql,
                query=dataset.export,
                params=part.sql_params(),
                target=f"{BACKUP}/{part.folder}/part-20181201T000000-0f3c2a1e-",
                **COPY_VALUES,
                **extra,
            )
        )
    return unloads


def unload_problems(text: str) -> list[str]:
    """Why a rendered UNLOAD breaks the project's rules (empty when it does not): its query must
    parse strictly as one SELECT, its target be an s3:// prefix, its options the allowed ones."""
    match = _UNLOAD.fullmatch(text.strip())
    if not match:
        return ["not UNLOAD ('<query>') TO '<s3 prefix>' <options>"]
    problems = []
    query = parse_redshift(match["query"].replace("''", "'"))
    if not isinstance(query, exp.Select) or opaque_parts(query):
        problems.append("the query is not one plain SELECT")
    if not match["target"].startswith("s3://"):
        problems.append("the target is not an s3:// prefix")
    names = []
    for option in _UNLOAD_OPTION.finditer(match["options"]):
        if option["other"]:
            problems.append(f"option {option['other']} is not allowed")
        names.append(option["flag"] or option["name"])
        if option["name"] == "IAM_ROLE" and not option["value"].startswith("arn:aws"):
            problems.append("IAM_ROLE is not a role ARN")
    if len(names) != len(set(names)):
        problems.append("an option is repeated")
    missing = REQUIRED_UNLOAD_OPTIONS - set(names)
    if missing:
        problems.append(f"missing {sorted(missing)}")
    if ("KMS_KEY_ID" in names) != ("ENCRYPTED" in names):
        problems.append("KMS_KEY_ID and ENCRYPTED go together")
    return problems


def with_sample_parameters(text: str) -> str:
    return _PARAMETER.sub(lambda m: SAMPLE_PARAMETERS[m["name"]], text)


def parse_redshift(text: str) -> exp.Expr:
    """The one statement in ``text``, parsed strictly; raises if sqlglot cannot parse it."""
    parsed = sqlglot.parse(text, read="redshift", error_level=ErrorLevel.RAISE)
    statements = [e for e in parsed if e is not None]
    assert len(statements) == 1, f"expected one statement, found {len(statements)}"
    return statements[0]


def opaque_parts(expression: exp.Expr) -> list[str]:
    """The parts sqlglot could only keep as opaque commands."""
    return [node.sql("redshift") for node in expression.find_all(exp.Command)]


def copy_problems(expression: exp.Expr) -> list[str]:
    """Why a parsed COPY breaks the project's rules (empty when it does not)."""
    if not isinstance(expression, exp.Copy):
        return ["not a COPY"]
    problems = []
    credentials = expression.args.get("credentials")
    if not isinstance(credentials, exp.Credentials) or credentials.args.get("iam_role") is None:
        problems.append("no IAM_ROLE")
    else:
        extra = {k for k, v in credentials.args.items() if v is not None and k != "iam_role"}
        if extra:
            problems.append(f"credentials other than IAM_ROLE: {sorted(extra)}")
        role = credentials.args["iam_role"]
        if not (isinstance(role, exp.Literal) and role.is_string):
            problems.append("IAM_ROLE is not a quoted role ARN")
    if expression.args.get("kind") is not True:
        problems.append("not a COPY ... FROM")
    files = expression.args.get("files") or []
    if len(files) != 1 or not (
        isinstance(files[0], exp.Literal) and str(files[0].this).startswith("s3://")
    ):
        problems.append("the source is not one s3:// literal")
    names = set()
    for parameter in expression.args.get("params") or []:
        name = parameter.this.name.upper() if isinstance(parameter.this, exp.Var) else "?"
        if name == "FORMAT" and isinstance(parameter.expression, exp.Var):
            name = f"FORMAT AS {parameter.expression.name.upper()}"
        names.add(name)
    parquet = "FORMAT AS PARQUET" in names
    allowed = ALLOWED_PARQUET_COPY_PARAMETERS if parquet else ALLOWED_COPY_PARAMETERS
    for name in sorted(names - allowed):
        problems.append(f"parameter {name} is not allowed")
    missing = (REQUIRED_PARQUET_COPY_PARAMETERS if parquet else REQUIRED_COPY_PARAMETERS) - names
    if missing:
        problems.append(f"missing {sorted(missing)}")
    return problems


# -- coverage ----------------------------------------------------------------------------------------


def test_every_non_postgres_statement_file_is_checked() -> None:
    """Only sql/postgres/ is not issued by the Redshift engine; everything else is parsed here."""
    checked = set(redshift_file_keys())
    assert {f"redshift/ddl/{t}" for t in WAREHOUSE_TABLES} <= checked
    assert {"redshift/staging", "redshift/catalog", "row_counts", "catalog"} <= checked
    assert {f"{kind}/{t}" for kind in ("checks", "comments") for t in WAREHOUSE_TABLES} - {
        "checks/load_quarantine"
    } <= checked
    assert {f"transform/{t}" for t in ("users", "songs", "artists", "songplays", "time")} <= checked


def test_every_parameter_has_a_sample() -> None:
    used = {m["name"] for sql in file_statements() for m in _PARAMETER.finditer(sql.text)}
    assert used <= set(SAMPLE_PARAMETERS), sorted(used - set(SAMPLE_PARAMETERS))


def test_engine_statements_referenced_in_code_exist() -> None:
    """Every ``statement("redshift/...")`` the engine names is in the SQL files."""
    engine = Path(__file__).parents[1] / "sparkify_assets/warehouse/redshift"
    source = "".join(path.read_text() for path in sorted(engine.glob("*.py")))
    keys = set(re.findall(r'statement\("([a-z_/]+\.[a-z_]+)"\)', source))
    assert keys, "no statement keys found"
    known = {sql.key for sql in file_statements()}
    assert keys <= known, sorted(keys - known)


# -- parsing -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "text"), rendered_statements(), ids=[k for k, _ in rendered_statements()]
)
def test_statement_parses_as_redshift(key: str, text: str) -> None:
    if key in UNPARSED:
        pattern = LOCK_PATTERN if key.endswith("lock_table_for_write") else VACUUM_PATTERN
        match = pattern.fullmatch(text)
        assert match and match["table"] in WAREHOUSE_TABLES, text
        return
    if key.startswith("redshift/backup.unload_"):  # sqlglot has no UNLOAD grammar
        assert not unload_problems(text), unload_problems(text)
        return
    expression = parse_redshift(with_sample_parameters(text))
    assert not opaque_parts(expression), f"{key} parses only as an opaque command"
    if key.startswith(("redshift/staging.copy_", "redshift/backup.copy_")):
        assert not copy_problems(expression), copy_problems(expression)
    if key == "redshift/staging.copy_log_file":  # a day's file is read through its manifest only
        assert isinstance(expression, exp.Copy)
        names = {p.this.name.upper() for p in expression.args["params"]}
        assert "MANIFEST" in names
        assert expression.args["files"][0].this == MANIFEST_URL
    if key == "redshift/upkeep.analyze_table":
        assert isinstance(expression, exp.Analyze)
    if key == "redshift/session.set_statement_timeout":
        assert isinstance(expression, exp.Set)


# PostgreSQL features Redshift does not have, which sqlglot's Redshift dialect still parses.
NOT_ON_REDSHIFT_NODES = (exp.OnConflict, exp.Unnest, exp.Array, exp.ComputedColumnConstraint)
NOT_ON_REDSHIFT_FUNCTIONS = {
    "to_regclass",
    "pg_advisory_xact_lock",
    "pg_advisory_lock",
    "array_agg",
    "string_agg",
    "gen_random_uuid",
}


@pytest.mark.parametrize(
    ("key", "text"), rendered_statements(), ids=[k for k, _ in rendered_statements()]
)
def test_statement_uses_nothing_redshift_lacks(key: str, text: str) -> None:
    if key in UNPARSED:
        return
    if key.startswith("redshift/backup.unload_"):  # check the query UNLOAD runs
        match = _UNLOAD.fullmatch(text.strip())
        assert match
        text = match["query"].replace("''", "'")
    expression = parse_redshift(with_sample_parameters(text))
    found = [type(node).__name__ for node in expression.find_all(*NOT_ON_REDSHIFT_NODES)]
    found += [
        dtype.sql("redshift")
        for dtype in expression.find_all(exp.DataType)
        if dtype.is_type(
            exp.DataType.Type.ARRAY, exp.DataType.Type.SERIAL, exp.DataType.Type.BIGSERIAL
        )
    ]
    found += [
        name
        for node in expression.find_all(exp.Anonymous, exp.Func)
        if (name := (node.name if isinstance(node, exp.Anonymous) else node.sql_name()).lower())
        in NOT_ON_REDSHIFT_FUNCTIONS
    ]
    assert not found, f"{key} uses {found}"


def test_the_redshift_feature_check_catches_postgres_only_sql() -> None:
    for text in (
        "INSERT INTO users (user_id) VALUES (1) ON CONFLICT (user_id) DO NOTHING",
        "SELECT t FROM UNNEST(CAST('{a}' AS TEXT[])) AS t",
        "SELECT to_regclass('users')",
    ):
        expression = parse_redshift(text)
        assert (
            list(expression.find_all(*NOT_ON_REDSHIFT_NODES))
            or any(
                isinstance(n, exp.Anonymous) and n.name.lower() in NOT_ON_REDSHIFT_FUNCTIONS
                for n in expression.find_all(exp.Anonymous)
            )
            or any(d.is_type(exp.DataType.Type.ARRAY) for d in expression.find_all(exp.DataType))
        ), text


def test_copy_statements_are_the_only_rendered_ones() -> None:
    """{placeholders} appear only in the two COPY commands, the LOCK and the two schema statements:
    everything else takes bind parameters."""
    templated = {sql.key for sql in file_statements() if re.search(r"\{[a-z_]+\}", sql.text)}
    assert templated == {
        "redshift/staging.copy_log_file",
        "redshift/staging.copy_song_files",
        "redshift/catalog.lock_table_for_write",
        "redshift/backup.unload_sse_s3",
        "redshift/backup.unload_sse_kms",
        *(f"redshift/backup.copy_restored_{table}" for table in BACKED_UP_TABLES),
        "redshift/session.set_statement_timeout",
        "redshift/upkeep.table_rows",
        "redshift/upkeep.analyze_table",
        "redshift/upkeep.vacuum_delete_only",
        "redshift/smoke.create_schema",
        "redshift/smoke.use_schema",
        "redshift/smoke.drop_schema",
        *SCHEMA_STATEMENTS,
    }


@pytest.mark.parametrize(
    "bad",
    [
        "VACUUM staging_events",  # sqlglot keeps it as a Command
        "CREATE TABLE t (a INT) DISTKEY",  # a DISTKEY without its column
        "SELECT a FROM t WHERE",
        "SELECT * FORM staging_events",
    ],
)
def test_the_check_catches_unparseable_sql(bad: str) -> None:
    try:
        expression = parse_redshift(bad)
    except sqlglot.errors.ParseError:
        return
    assert opaque_parts(expression) or isinstance(expression, exp.Command)


@pytest.mark.parametrize(
    "bad",
    [
        f"COPY staged_events FROM '{SOURCE}/x' ACCESS_KEY_ID 'AKIA' SECRET_ACCESS_KEY 's'"
        " FORMAT AS JSON 'auto' REGION 'us-west-2' MAXERROR 1",
        f"COPY staged_events FROM '{SOURCE}/x' CREDENTIALS 'aws_access_key_id=AKIA;aws_secret_access_key=s'"
        " FORMAT AS JSON 'auto' REGION 'us-west-2' MAXERROR 1",
        f"COPY staged_events FROM '{SOURCE}/x' IAM_ROLE 'arn:aws:iam::123456789012:role/r'"
        " FORMAT AS JSON 'auto' REGION 'us-west-2' MAXERROR 1 SESSION_TOKEN 't'",
        f"COPY staged_events FROM '{SOURCE}/x' IAM_ROLE 'arn:aws:iam::123456789012:role/r'"
        " FORMAT AS JSON 'auto' REGION 'us-west-2'",  # no MAXERROR
        f"COPY staged_events FROM '{SOURCE}/x' IAM_ROLE 'arn:aws:iam::123456789012:role/r'"
        " FORMAT AS JSON 'auto' REGION 'us-west-2' MAXERROR 1 ACCEPTANYDATE",
        "COPY staged_events FROM 'https://example.com/x' IAM_ROLE 'arn:aws:iam::123456789012:role/r'"
        " FORMAT AS JSON 'auto' REGION 'us-west-2' MAXERROR 1",
    ],
)
def test_the_copy_allow_list_catches_other_copies(bad: str) -> None:
    assert copy_problems(parse_redshift(bad))


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("source", "s3://bucket/key' IAM_ROLE 'arn:aws:iam::123456789012:role/x"),
        ("source", "s3://bucket/key\\"),
        ("source", "https://bucket/key"),
        ("iam_role", "aws_access_key_id=AKIA;aws_secret_access_key=secret"),
        ("iam_role", "arn:aws:iam::123456789012:role/x' ACCESS_KEY_ID 'y"),
        ("region", "us-west-2' MAXERROR 100000 --"),
    ],
)
def test_render_copy_refuses_values_that_are_not_plain(name: str, value: str) -> None:
    sql = load_file("redshift/staging")["copy_song_files"]
    values = {"source": f"{SOURCE}/song_data/", **COPY_VALUES, name: value}
    with pytest.raises(ValueError, match=name):
        render_copy(sql, **values)


def test_render_copy_wants_exactly_its_placeholders() -> None:
    sql = load_file("redshift/staging")["copy_song_files"]
    with pytest.raises(ValueError, match="takes"):
        render_copy(sql, source=f"{SOURCE}/song_data/", **COPY_VALUES, jsonpaths="s3://b/x")


def test_render_lock_takes_project_tables_only() -> None:
    assert render_lock("staging_events") == "LOCK staging_events"
    with pytest.raises(ValueError):
        render_lock("staging_events; DROP TABLE users")


# -- DDL shape -------------------------------------------------------------------------------------


def table_columns(create: exp.Expr) -> dict[str, exp.ColumnDef]:
    assert isinstance(create, exp.Create)
    schema = create.this
    assert isinstance(schema, exp.Schema)
    return {c.name: c for c in schema.expressions if isinstance(c, exp.ColumnDef)}


def varchar_size(column: exp.ColumnDef) -> int | None:
    kind = column.args["kind"]
    if kind.this not in (exp.DataType.Type.VARCHAR, exp.DataType.Type.CHAR):
        return None
    (size,) = kind.expressions
    return int(size.this.this if isinstance(size, exp.DataTypeParam) else size.this)


def redshift_create(table: str) -> exp.Expr:
    return parse_redshift(load_file(f"redshift/ddl/{table}")["create_table"].text)


def postgres_create(table: str) -> exp.Expr:
    return sqlglot.parse_one(
        load_file(f"postgres/ddl/{table}")["create_table"].text, read="postgres"
    )


def temp_create(name: str) -> exp.Expr:
    return parse_redshift(load_file("redshift/staging")[name].text)


def _snake(field: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", field).lower()


@pytest.mark.parametrize("table", WAREHOUSE_TABLES)
def test_redshift_tables_have_the_postgres_columns(table: str) -> None:
    """Same names, order and NOT NULLs: the shared SQL then means the same on both engines."""

    def not_null(create: exp.Expr) -> list[tuple[str, bool]]:
        result = []
        for name, column in table_columns(create).items():
            flags = {type(c.kind) for c in column.constraints}
            result.append(
                (
                    name,
                    exp.NotNullColumnConstraint in flags or exp.PrimaryKeyColumnConstraint in flags,
                )
            )
        return result

    assert list(table_columns(redshift_create(table))) == list(
        table_columns(postgres_create(table))
    )
    redshift_keys = {
        c.name for c in redshift_create(table).find_all(exp.PrimaryKey) for c in c.expressions
    }
    redshift_shape = [(n, nn or n in redshift_keys) for n, nn in not_null(redshift_create(table))]
    assert redshift_shape == not_null(postgres_create(table))


def test_event_text_columns_use_the_parser_limits() -> None:
    """The Redshift VARCHAR byte sizes are exactly event_records.TEXT_LIMITS, in the permanent
    table and in the COPY target (where a longer text becomes a rejected line)."""
    staging = table_columns(redshift_create("staging_events"))
    staged = table_columns(temp_create("create_staged_events"))
    for field, limit in event_records.TEXT_LIMITS.items():
        assert varchar_size(staging[_snake(field)]) == limit, field
        assert varchar_size(staged[field.lower()]) == limit, field
    assert not {
        name
        for name, column in staging.items()
        if varchar_size(column) is not None
        and name not in {_snake(f) for f in event_records.TEXT_LIMITS}
        and name != "source_file"
    }


def test_song_text_columns_use_the_parser_limits() -> None:
    staging = table_columns(redshift_create("staging_songs"))
    staged = table_columns(temp_create("create_staged_songs"))
    for field, limit in song_records.TEXT_LIMITS.items():
        assert varchar_size(staging[field]) == limit, field
        assert varchar_size(staged[field]) == limit, field


@pytest.mark.parametrize(
    ("table", "column", "limit"),
    [
        ("users", "first_name", event_records.TEXT_LIMITS["firstName"]),
        ("users", "last_name", event_records.TEXT_LIMITS["lastName"]),
        ("users", "gender", event_records.TEXT_LIMITS["gender"]),
        ("users", "level", event_records.TEXT_LIMITS["level"]),
        ("songplays", "level", event_records.TEXT_LIMITS["level"]),
        ("songplays", "location", event_records.TEXT_LIMITS["location"]),
        ("songplays", "user_agent", event_records.TEXT_LIMITS["userAgent"]),
        ("songplays", "song_id", song_records.TEXT_LIMITS["song_id"]),
        ("songplays", "artist_id", song_records.TEXT_LIMITS["artist_id"]),
        ("songs", "song_id", song_records.TEXT_LIMITS["song_id"]),
        ("songs", "title", song_records.TEXT_LIMITS["title"]),
        ("songs", "artist_id", song_records.TEXT_LIMITS["artist_id"]),
        ("artists", "artist_id", song_records.TEXT_LIMITS["artist_id"]),
        ("artists", "name", song_records.TEXT_LIMITS["artist_name"]),
        ("artists", "location", song_records.TEXT_LIMITS["artist_location"]),
    ],
)
def test_star_text_columns_hold_their_source(table: str, column: str, limit: int) -> None:
    assert varchar_size(table_columns(redshift_create(table))[column]) == limit


def test_quarantine_raw_text_holds_the_kept_characters() -> None:
    from sparkify_assets.records.quarantine import RAW_TEXT_LIMIT

    columns = table_columns(redshift_create("load_quarantine"))
    assert varchar_size(columns["raw_text"]) == 4 * RAW_TEXT_LIMIT  # UTF-8: up to 4 bytes each


@pytest.mark.parametrize(
    ("table", "distribution", "sort_key"),
    [
        ("staging_events", "DISTKEY(user_id)", "log_date"),
        ("staging_songs", "DISTSTYLE ALL", "song_id"),
        ("load_quarantine", "DISTSTYLE EVEN", "source_kind, log_date"),
        ("users", "DISTSTYLE ALL", "user_id"),
        ("songs", "DISTSTYLE ALL", "song_id"),
        ("artists", "DISTSTYLE ALL", "artist_id"),
        ("songplays", "DISTKEY(start_time)", "start_time"),
        ("time", "DISTKEY(start_time)", "start_time"),
    ],
)
def test_distribution_and_sort_keys(table: str, distribution: str, sort_key: str) -> None:
    """The keys docs/redshift.md justifies, written at table level."""
    create = redshift_create(table)
    properties = create.args["properties"].sql("redshift")
    assert distribution in properties
    assert f"SORTKEY({sort_key})" in properties
    # Every column says how it is compressed; sort-key columns are left RAW.
    for name, column in table_columns(create).items():
        encodings = [
            c for c in column.constraints if isinstance(c.kind, exp.EncodeColumnConstraint)
        ]
        assert len(encodings) == 1, name
        if name == sort_key.split(", ")[0]:
            assert encodings[0].kind.this.name.upper() == "RAW", name


def test_jsonpaths_file_maps_the_event_fields_in_copy_order() -> None:
    shipped = json.loads((sql_root() / "redshift/log_json_path.json").read_text())
    assert shipped == {"jsonpaths": [f"$['{f}']" for f in event_records.EVENT_FIELDS]}
    copy = parse_redshift(
        render_copy(
            load_file("redshift/staging")["copy_log_file"],
            source=f"{SOURCE}/log_data/2018/11/2018-11-01-events.json",
            jsonpaths=f"{SOURCE}/log_json_path.json",
            **COPY_VALUES,
        )
    )
    assert isinstance(copy, exp.Copy)
    copied_columns = [c.name for c in copy.this.expressions]
    assert copied_columns == [f.lower() for f in event_records.EVENT_FIELDS]
    # ... and they are the first columns of the COPY target, in that order.
    assert list(table_columns(temp_create("create_staged_events")))[: len(copied_columns)] == (
        copied_columns
    )


def test_song_copy_target_columns_are_the_song_object_keys() -> None:
    """FORMAT AS JSON 'auto' matches object keys to column names."""
    staged = list(table_columns(temp_create("create_staged_songs")))
    assert staged == [c for c in song_records.SONG_COLUMNS if c != "source_file"]


# -- backups: UNLOAD and COPY FORMAT AS PARQUET ------------------------------------------------------


def test_every_backed_up_table_has_its_restore_statements() -> None:
    statements = load_file("redshift/backup")
    for table in BACKED_UP_TABLES:
        for kind in ("drop_restored", "create_restored", "copy_restored", "insert_restored"):
            assert f"{kind}_{table}" in statements, (kind, table)
    assert set(BACKED_UP_TABLES) == set(WAREHOUSE_TABLES)


@pytest.mark.parametrize(
    "bad",
    [
        f"UNLOAD ('SELECT 1') TO '{BACKUP}/x_' ACCESS_KEY_ID 'AKIA' SECRET_ACCESS_KEY 's'"
        " FORMAT AS PARQUET REGION 'us-west-2'",
        f"UNLOAD ('SELECT 1') TO '{BACKUP}/x_' IAM_ROLE 'arn:aws:iam::123456789012:role/r'"
        " FORMAT AS PARQUET REGION 'us-west-2' ALLOWOVERWRITE",
        f"UNLOAD ('SELECT 1') TO '{BACKUP}/x_' IAM_ROLE 'arn:aws:iam::123456789012:role/r'"
        " FORMAT AS PARQUET REGION 'us-west-2' CLEANPATH",
        f"UNLOAD ('SELECT 1') TO '{BACKUP}/x_' IAM_ROLE 'arn:aws:iam::123456789012:role/r'"
        " FORMAT AS CSV REGION 'us-west-2'",
        f"UNLOAD ('SELECT 1') TO '{BACKUP}/x_' IAM_ROLE 'arn:aws:iam::123456789012:role/r'"
        " FORMAT AS PARQUET REGION 'us-west-2' KMS_KEY_ID 'k'",  # without ENCRYPTED
        f"UNLOAD ('SELECT * FORM t') TO '{BACKUP}/x_' IAM_ROLE 'arn:aws:iam::123456789012:role/r'"
        " FORMAT AS PARQUET REGION 'us-west-2'",
        "UNLOAD ('SELECT 1') TO 'https://example.com/x_' IAM_ROLE 'arn:aws:iam::123456789012:role/r'"
        " FORMAT AS PARQUET REGION 'us-west-2'",
    ],
)
def test_the_unload_check_catches_other_unloads(bad: str) -> None:
    try:
        problems = unload_problems(bad)
    except sqlglot.errors.ParseError:
        return  # its query does not even parse
    assert problems


@pytest.mark.parametrize(
    "bad",
    [
        f"COPY t FROM '{BACKUP}/m' IAM_ROLE 'arn:aws:iam::123456789012:role/r' FORMAT AS PARQUET",
        f"COPY t FROM '{BACKUP}/m' IAM_ROLE 'arn:aws:iam::123456789012:role/r' FORMAT AS PARQUET"
        " MANIFEST REGION 'us-west-2'",  # COPY from Parquet takes no REGION
        f"COPY t FROM '{BACKUP}/m' IAM_ROLE 'arn:aws:iam::123456789012:role/r' FORMAT AS PARQUET"
        " MANIFEST MAXERROR 10",
    ],
)
def test_the_copy_allow_list_catches_other_parquet_copies(bad: str) -> None:
    assert copy_problems(parse_redshift(bad))


def test_unload_queries_are_the_shared_export_queries_with_literal_dates() -> None:
    dataset = next(d for d in ALL_DATASETS if d.name == "load_quarantine")
    literal = unload_query_literal(
        dataset.export, BackupPart(dataset, date(2018, 11, 5)).sql_params()
    )
    query = literal[1:-1].replace("''", "'")
    assert "DATE '2018-11-05'" in query and "DATE '2018-11-06'" in query
    assert "source_kind = 'event'" in query
    parsed = parse_redshift(query)
    assert isinstance(parsed, exp.Select)
    assert [c.alias_or_name for c in parsed.expressions] == dataset.schema.names


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("target", "s3://bucket/key' IAM_ROLE 'arn:aws:iam::123456789012:role/x"),
        ("kms_key_id", "k' ALLOWOVERWRITE --"),
        ("iam_role", "aws_access_key_id=AKIA;aws_secret_access_key=secret"),
    ],
)
def test_render_unload_refuses_values_that_are_not_plain(name: str, value: str) -> None:
    sql = load_file("redshift/backup")["unload_sse_kms"]
    dataset = ALL_DATASETS[0]
    values = {"target": f"{BACKUP}/x_", "kms_key_id": KMS_KEY, **COPY_VALUES, name: value}
    with pytest.raises(ValueError, match=name):
        render_unload(
            sql,
            query=dataset.export,
            params=BackupPart(dataset, date(2018, 11, 5)).sql_params(),
            **values,
        )


def test_unload_query_parameters_must_be_dates() -> None:
    dataset = ALL_DATASETS[0]
    params = {
        **BackupPart(dataset, date(2018, 11, 5)).sql_params(),
        "first_day": "2018-11-05' OR 1=1",
    }
    with pytest.raises(ValueError, match="not a date"):
        unload_query_literal(dataset.export, params)


# -- correlated subqueries -----------------------------------------------------------------------
#
# Redshift refuses correlated subqueries it cannot decorrelate ("This type of correlated subquery
# pattern is not supported": https://docs.aws.amazon.com/redshift/latest/dg/r_correlated_subqueries.html).
# The project allows exactly one shape, which every engine plans as a semi- or anti-join: a
# [NOT] EXISTS (or [NOT] IN) predicate whose subquery refers to its direct parent's tables only,
# AND-ed (never OR-ed, never inside CASE or a select list) into a WHERE clause.


def correlated_subquery_problems(expression: exp.Expr) -> list[str]:
    """Each correlated subquery of ``expression`` outside the allowed shape, described."""
    problems = []
    for scope in traverse_scope(expression):
        if not scope.is_correlated_subquery:
            continue
        node = scope.expression
        where = "in a " + type(node.parent).__name__ if node.parent else "at the top"
        predicate = node.parent
        if isinstance(predicate, exp.Subquery) and isinstance(predicate.parent, exp.In):
            predicate = predicate.parent
        elif not isinstance(predicate, exp.Exists):
            problems.append(f"correlated subquery {where}: {node.sql('redshift')[:80]}")
            continue
        ancestor = predicate.parent
        if isinstance(ancestor, exp.Not):
            ancestor = ancestor.parent
        while isinstance(ancestor, exp.And | exp.Paren):
            ancestor = ancestor.parent
        if not isinstance(ancestor, exp.Where):
            problems.append(
                f"correlated [NOT] EXISTS/IN under {type(ancestor).__name__}, not AND-ed into"
                f" WHERE: {node.sql('redshift')[:80]}"
            )
            continue
        parent_sources = set(scope.parent.sources) if scope.parent else set()
        if scope.parent and isinstance(scope.parent.expression, exp.Delete | exp.Update):
            parent_sources.add(scope.parent.expression.this.alias_or_name)  # the target table
        skipping = {c.table for c in scope.external_columns if c.table not in parent_sources}
        if skipping:
            problems.append(f"correlation that skips a query block ({sorted(skipping)})")
    return problems


def shared_and_redshift_statements() -> list[tuple[str, str]]:
    return [(key, text) for key, text in rendered_statements() if key not in UNPARSED]


@pytest.mark.parametrize(
    ("key", "text"),
    shared_and_redshift_statements(),
    ids=[k for k, _ in shared_and_redshift_statements()],
)
def test_no_correlated_subquery_redshift_may_refuse(key: str, text: str) -> None:
    expression = parse_redshift(with_sample_parameters(text))
    assert not correlated_subquery_problems(expression), key


# The statements as they were before issue 12: the guard must refuse them.
OLD_CATALOG_ROWS_EXIST = """
SELECT COUNT(*) AS failures
FROM songplays AS sp
WHERE sp.start_time >= TIMESTAMP '2018-11-01 00:00:00'
  AND (
      (sp.song_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM songs AS s WHERE s.song_id = sp.song_id))
      OR (sp.artist_id IS NOT NULL
          AND NOT EXISTS (SELECT 1 FROM artists AS a WHERE a.artist_id = sp.artist_id))
  )"""
OLD_LATEST_USERS = """
SELECT active.user_id,
       (SELECT MAX(s.ts) FROM staging_events AS s WHERE s.user_id = active.user_id) AS latest_ts
FROM (SELECT DISTINCT w.user_id FROM staging_events AS w WHERE w.user_id IS NOT NULL) AS active"""


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        (OLD_CATALOG_ROWS_EXIST, "under Or"),
        (OLD_LATEST_USERS, "correlated subquery in a Subquery"),
        (
            "SELECT CASE WHEN EXISTS (SELECT 1 FROM u WHERE u.id = t.id) THEN 1 END FROM t",
            "under If",  # sqlglot: a CASE branch is an If node
        ),
        (
            "SELECT 1 FROM t JOIN v ON v.id = t.id"
            " AND v.n = (SELECT MAX(u.n) FROM u WHERE u.id = v.id)",
            "correlated subquery",
        ),
        (
            "SELECT e.name FROM event AS e WHERE NOT EXISTS (SELECT 1 FROM listing AS l"
            " WHERE NOT EXISTS (SELECT 1 FROM sales AS s WHERE e.id = s.id))",
            "skips a query block",
        ),
    ],
)
def test_the_guard_catches_correlated_shapes(text: str, fragment: str) -> None:
    found = correlated_subquery_problems(parse_redshift(text))
    assert any(fragment in problem for problem in found), found


@pytest.mark.parametrize(
    "text",
    [
        "SELECT COUNT(*) FROM t AS sp WHERE sp.x = 1 AND NOT EXISTS"
        " (SELECT 1 FROM u WHERE u.id = sp.id)",
        "DELETE FROM users WHERE NOT EXISTS"
        " (SELECT 1 FROM staging_events AS e WHERE e.user_id = users.user_id)",
        "SELECT 1 FROM t WHERE t.a IN (SELECT u.a FROM u WHERE u.b = t.b) AND t.c = 2",
        "SELECT 1 FROM t WHERE t.a IN (SELECT u.a FROM u)",  # not correlated at all
    ],
)
def test_the_guard_allows_and_ed_exists_and_in(text: str) -> None:
    assert correlated_subquery_problems(parse_redshift(text)) == []


@pytest.mark.parametrize("key", SCHEMA_STATEMENTS)
def test_the_schema_is_a_quoted_identifier(key: str) -> None:
    """The schema reaches SQL text only as one double-quoted identifier that sqlglot reads back;
    anything but a plain lower-case identifier is refused before rendering."""
    text = render_schema_statement(key, "sparkify_dev")
    assert re.fullmatch(r'(CREATE SCHEMA IF NOT EXISTS|SET search_path TO) "sparkify_dev"', text)
    expression = parse_redshift(text)
    assert isinstance(expression, exp.Create | exp.Set) and not opaque_parts(expression)
    names = {n.name for n in expression.find_all(exp.Identifier, exp.Var)}
    assert "sparkify_dev" in names
    for hostile in ('dev"; DROP TABLE songs; --', "Dev", "dev schema", "", "1dev", "a" * 64):
        with pytest.raises(ValueError, match="SPARKIFY_WAREHOUSE_SCHEMA"):
            render_schema_statement(key, hostile)


# -- trailing blanks -------------------------------------------------------------------------------
#
# Redshift ignores trailing blanks when it compares VARCHARs ('NextSong ' = 'NextSong' is true;
# https://docs.aws.amazon.com/redshift/latest/dg/r_Examples_with_character_types.html), PostgreSQL
# does not. A column holding text from the source data compared with a literal must therefore also
# be measured with OCTET_LENGTH in the same statement, or the engines would disagree on such rows.
SOURCE_TEXT_COLUMNS = {"page", "level", "auth", "method", "gender", "song", "artist", "title"}


def trailing_blank_problems(expression: exp.Expr) -> list[str]:
    """The comparisons of a source-text column with a string literal whose column the statement
    never measures with OCTET_LENGTH."""
    measured = {
        (column.table, column.name)
        for call in expression.find_all(exp.Anonymous)
        if call.name.upper() == "OCTET_LENGTH"
        for column in call.find_all(exp.Column)
    }
    problems = []
    for node in expression.find_all(exp.EQ, exp.NEQ, exp.In):
        if isinstance(node, exp.In):
            column, literals = node.this, list(node.expressions)
        else:
            column, literals = node.this, [node.expression]
            if not isinstance(column, exp.Column):
                column, literals = node.expression, [node.this]
        if (
            isinstance(column, exp.Column)
            and column.name in SOURCE_TEXT_COLUMNS
            and literals
            and all(isinstance(value, exp.Literal) and value.is_string for value in literals)
            and (column.table, column.name) not in measured
        ):
            problems.append(node.sql("redshift"))
    return problems


@pytest.mark.parametrize(
    ("key", "text"),
    shared_and_redshift_statements(),
    ids=[k for k, _ in shared_and_redshift_statements()],
)
def test_source_text_compared_with_a_literal_is_measured_too(key: str, text: str) -> None:
    assert not trailing_blank_problems(parse_redshift(with_sample_parameters(text))), key


@pytest.mark.parametrize(
    ("text", "problems"),
    [
        ("SELECT 1 FROM staging_events AS e WHERE e.page = 'NextSong'", 1),
        ("SELECT 1 FROM users WHERE level NOT IN ('free', 'paid')", 1),
        ("SELECT 1 FROM staging_events AS e WHERE 'NextSong' = e.page", 1),
        ("SELECT 1 FROM e WHERE e.page = 'NextSong' AND OCTET_LENGTH(e.page) = 8", 0),
        ("SELECT 1 FROM e WHERE e.source_kind = 'event'", 0),  # written by the project
    ],
)
def test_the_trailing_blank_guard(text: str, problems: int) -> None:
    assert len(trailing_blank_problems(parse_redshift(text))) == problems
