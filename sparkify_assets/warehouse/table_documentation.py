"""Each table's documented column schema, from its PostgreSQL DDL and ``COMMENT ON`` statements:
asset definition metadata, attached once per asset rather than to every partition."""

from __future__ import annotations

import functools
import re

import dagster as dg

from sparkify_assets.warehouse.sql_files import load_file
from sparkify_assets.warehouse.tables import checked_table_name

_COLUMN_LINE = re.compile(
    r"^\s{4}(?P<name>[a-z_]+)\s+(?P<type>[A-Z]+(?: PRECISION)?(?:\(\d+\))?)(?P<rest>[^\n]*)$",
    re.M,
)
_COMMENT = re.compile(
    r"COMMENT ON (?:COLUMN \w+\.(?P<column>\w+)|TABLE \w+) IS '(?P<text>(?:[^']|'')*)'", re.S
)


@functools.cache
def documented_table_schema(table: str) -> dg.TableSchema:
    """The columns of ``table`` with their types, NOT NULL constraints and descriptions."""
    ddl = load_file(f"postgres/ddl/{checked_table_name(table)}")["create_table"].text
    descriptions = {
        match["column"]: match["text"].replace("''", "'")
        for sql in load_file(f"comments/{table}").values()
        if (match := _COMMENT.search(sql.text)) and match["column"]
    }
    columns = [
        dg.TableColumn(
            name=match["name"],
            type=match["type"].lower(),
            description=descriptions.get(match["name"]),
            constraints=dg.TableColumnConstraints(nullable="NOT NULL" not in match["rest"]),
        )
        for match in _COLUMN_LINE.finditer(ddl.split("(", 1)[1])
    ]
    if not columns:
        raise ValueError(f"no columns found in the DDL of {table}")
    return dg.TableSchema(columns=columns)


def table_definition_metadata(table: str, *, loaded_by: tuple[str, ...]) -> dict[str, object]:
    """An asset's static metadata: its documented column schema and links to its SQL files."""
    from sparkify_assets.warehouse.sql_code_references import sql_code_references

    return {
        "dagster/table_name": table,  # the run's metadata adds the database and schema
        "dagster/column_schema": documented_table_schema(table),
        "dagster/code_references": sql_code_references(table, loaded_by=loaded_by),
    }
