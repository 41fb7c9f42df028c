"""Statements that cannot take bind parameters (COPY, UNLOAD, LOCK, SET), from checked literals."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING

from sparkify_assets.warehouse.sql_files import SqlStatement, statement
from sparkify_assets.warehouse.tables import (
    checked_schema_name,
    checked_table_name,
)

if TYPE_CHECKING:
    pass


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
_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")
_TABLE_NAME = re.compile(r"^[a-z_]+$")
_SCHEMA_NAME = re.compile(r"^sparkify_smoke_[a-z0-9]{6,32}$")


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
