"""What psycopg's failure to connect to a PostgreSQL warehouse means for whoever set it up."""

from __future__ import annotations

import re

from sparkify_assets.settings.problems import PASSWORD_SETTING, WAREHOUSE_SETTING, SettingProblem
from sparkify_assets.warehouse.sqlstate_retries import sqlstate_can_heal

# libpq's wording when nothing answers at the address, or the server is starting or stopping.
_UNREACHABLE = re.compile(
    r"connection refused|could not connect|no such file or directory|timeout expired"
    r"|could not translate host name|name or service not known|network is unreachable"
    r"|no route to host|the database system is (starting up|shutting down|in recovery mode)"
    r"|server closed the connection",
    re.IGNORECASE,
)
_AUTHENTICATION = re.compile(
    r"password authentication failed|no password supplied|authentication failed"
    r"|no pg_hba.conf entry|role \"[^\"]*\" does not exist",
    re.IGNORECASE,
)
_MISSING_DATABASE = re.compile(r"database \"([^\"]*)\" does not exist", re.IGNORECASE)


def postgres_connect_problem(error: Exception, where: str) -> SettingProblem:
    """The SettingProblem of psycopg's failure to connect to the PostgreSQL warehouse ``where``
    (a URL without password)."""
    text = "; ".join(" ".join(line.split()) for line in str(error).splitlines() if line.strip())
    sqlstate = getattr(error, "sqlstate", None) or ""
    if sqlstate.startswith("28") or _AUTHENTICATION.search(text):
        return SettingProblem(
            f"{PASSWORD_SETTING}: the warehouse at {where} refused the login"
            f" ({_last_server_line(text)}). Set {PASSWORD_SETTING}, or fix the user in"
            f" {WAREHOUSE_SETTING}.",
            setting=PASSWORD_SETTING,
        )
    missing = _MISSING_DATABASE.search(text)
    if sqlstate == "3D000" or missing:
        name = missing.group(1) if missing else "named"
        return SettingProblem(
            f"{WAREHOUSE_SETTING}: database {name!r} does not exist on {where}. Create it"
            f" (CREATE DATABASE) or name an existing one in {WAREHOUSE_SETTING}.",
            setting=WAREHOUSE_SETTING,
        )
    return SettingProblem(
        f"{WAREHOUSE_SETTING}: cannot reach the warehouse at {where}"
        f" ({_last_server_line(text)}). Start the server, or fix {WAREHOUSE_SETTING}"
        " (unset: the embedded PostgreSQL).",
        setting=WAREHOUSE_SETTING,
        can_heal=bool(_UNREACHABLE.search(text)) or sqlstate_can_heal(sqlstate),
    )


def _last_server_line(text: str) -> str:
    """The useful tail of libpq's message: what the last address tried answered."""
    parts = [part.strip() for part in re.split(r"connection to server .*?failed:", text)]
    tail = next((part for part in reversed(parts) if part), text)
    return tail.rstrip(".")[:200]
