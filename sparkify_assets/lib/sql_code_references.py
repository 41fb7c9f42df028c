"""Links from an asset to the SQL files that define, load and check its table."""

from __future__ import annotations

import dagster as dg

from sparkify_assets.lib.sql_files import sql_root


def sql_code_references(
    table: str, *, loaded_by: tuple[str, ...]
) -> dg.CodeReferencesMetadataValue:
    """References (shown in the UI) to the table's DDL, its loading SQL and its checks."""
    root = sql_root()
    files = [
        (f"postgres/ddl/{table}.sql", "DDL (PostgreSQL)"),
        (f"redshift/ddl/{table}.sql", "DDL (Redshift)"),
        *((f"{key}.sql", "Load") for key in loaded_by),
        (f"checks/{table}.sql", "Checks"),
        (f"comments/{table}.sql", "Column documentation"),
    ]
    return dg.CodeReferencesMetadataValue(
        code_references=[
            dg.LocalFileCodeReference(file_path=str(root / path), label=f"{label}: sql/{path}")
            for path, label in files
            if (root / path).is_file()
        ]
    )
