"""Links from an asset to the SQL files that define, load and check its table."""

from __future__ import annotations

import warnings

import dagster as dg

from sparkify_assets.warehouse.sql_files import sql_root

# Dagster 1.13.27 marks the two code-reference classes beta and warns each time one is built (once
# per asset at every code load). They work as documented and the UI shows them; nothing a user can
# act on. This module is the one place the project builds them, so the filter, exact to these two
# warnings, lives here.
warnings.filterwarnings(
    "ignore",
    message=r"Class `(CodeReferencesMetadataValue|LocalFileCodeReference)` is currently in beta",
    category=dg.BetaWarning,
)


def sql_file_references(files: list[tuple[str, str]]) -> dg.CodeReferencesMetadataValue:
    """References (shown in the UI) to files under sql/, given as (path under sql/, label)."""
    root = sql_root()
    return dg.CodeReferencesMetadataValue(
        code_references=[
            dg.LocalFileCodeReference(file_path=str(root / path), label=f"{label}: sql/{path}")
            for path, label in files
            if (root / path).is_file()
        ]
    )


def sql_code_references(
    table: str, *, loaded_by: tuple[str, ...]
) -> dg.CodeReferencesMetadataValue:
    """References (shown in the UI) to the table's DDL, its loading SQL and its checks."""
    files = [
        (f"postgres/ddl/{table}.sql", "DDL (PostgreSQL)"),
        (f"redshift/ddl/{table}.sql", "DDL (Redshift)"),
        *((f"{key}.sql", "Load") for key in loaded_by),
        (f"checks/{table}.sql", "Checks"),
        (f"comments/{table}.sql", "Column documentation"),
    ]
    return sql_file_references(files)
