"""The SQL that creates the least-privilege ETL database user (``sql/cluster_admin/etl_user.sql``),
its identifiers checked against strict patterns before they are spliced in."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sparkify_assets.cluster.spec import RedshiftClusterSpec
from sparkify_assets.warehouse.sql_files import SqlStatement, load_file
from sparkify_assets.warehouse.tables import WAREHOUSE_TABLES

ETL_USER_SQL_FILE = "cluster_admin/etl_user"
# Run once per table, and only for tables that already exist.
PER_TABLE_STATEMENT = "take_over_table"

_IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")


@dataclass(frozen=True)
class RenderedStatement:
    """One statement of the file with its names filled in."""

    key: str
    text: str


def render_identifiers(sql: SqlStatement, names: dict[str, str]) -> str:
    """``sql`` without its leading comments, each ``{name}`` replaced by a checked identifier."""
    body = sql.body
    wanted = set(_PLACEHOLDER.findall(body))
    if not wanted <= set(names):
        raise ValueError(f"{sql.key} needs {sorted(wanted - set(names))}")

    def identifier(match: re.Match[str]) -> str:
        name, value = match.group(1), names[match.group(1)]
        if not _IDENTIFIER.fullmatch(value):
            raise ValueError(f"{sql.key}: {name} {value!r} is not a plain lower-case identifier")
        if name == "table" and value not in WAREHOUSE_TABLES:
            raise ValueError(f"{sql.key}: {value!r} is not one of the project's tables")
        return value

    return _PLACEHOLDER.sub(identifier, body)


def etl_user_statements(spec: RedshiftClusterSpec) -> list[RenderedStatement]:
    """Every statement an administrator runs once: create the user, then its grants."""
    names = {
        "etl_user": spec.etl_user,
        "schema": spec.etl_schema,
        "database": spec.database_name,
    }
    return [
        RenderedStatement(sql.key, render_identifiers(sql, names))
        for name, sql in load_file(ETL_USER_SQL_FILE).items()
        if name != PER_TABLE_STATEMENT
    ]


def table_takeover_statements(spec: RedshiftClusterSpec) -> list[RenderedStatement]:
    """For tables an earlier load created as the master user: make the ETL user their owner."""
    sql = load_file(ETL_USER_SQL_FILE)[PER_TABLE_STATEMENT]
    return [
        RenderedStatement(
            sql.key,
            render_identifiers(
                sql, {"etl_user": spec.etl_user, "schema": spec.etl_schema, "table": table}
            ),
        )
        for table in WAREHOUSE_TABLES
    ]


def administrator_script(spec: RedshiftClusterSpec) -> str:
    """The whole script as an administrator pastes it into a SQL client, as the master user."""
    create = "\n".join(f"{statement.text};" for statement in etl_user_statements(spec))
    takeover = "\n".join(f"{statement.text};" for statement in table_takeover_statements(spec))
    return (
        f"-- As the master user ({spec.master_username}) of {spec.identifier}, database"
        f" {spec.database_name}, once:\n{create}\n"
        "-- Only if the warehouse's tables already exist (loaded as the master user before):\n"
        f"{takeover}\n"
    )
