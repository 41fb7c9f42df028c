"""The project's tables and schema: the only identifiers allowed into SQL text."""

from __future__ import annotations

import re

# Every table the project creates, in creation order. Identifiers that reach SQL text (LOCK) must be
# one of these.
WAREHOUSE_TABLES = (
    "staging_events",
    "staging_songs",
    "load_quarantine",
    "users",
    "songs",
    "artists",
    "songplays",
    "time",
)

# What SPARKIFY_WAREHOUSE_SCHEMA may be: a plain lower-case identifier (quoted where it reaches SQL
# text, so a reserved word is fine), never anything that could change the statement.
_SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def checked_schema_name(schema: str) -> str:
    """``schema`` if it is a plain lower-case identifier; raises ValueError otherwise."""
    if not _SCHEMA_NAME.fullmatch(schema):
        raise ValueError(
            f"SPARKIFY_WAREHOUSE_SCHEMA must be a lower-case identifier (letters, digits, _),"
            f" not {schema!r}"
        )
    return schema


def checked_table_name(table: str) -> str:
    """``table`` if it is one of the project's tables; raises otherwise."""
    if table not in WAREHOUSE_TABLES:
        raise ValueError(f"{table!r} is not a warehouse table")
    return table
