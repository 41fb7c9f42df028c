"""Failures a person fixes by changing one setting or starting a service, not by reading a stack.

A :class:`SettingProblem` is a ``dg.Failure``: inside a Dagster run the step fails with its one
message (and retries only when ``can_heal``); ``sparkify`` prints the message and exits 2. Each
message names the setting and the fix. ``source_problem`` and ``postgres_connect_problem`` turn
the errors of the source trees and of psycopg into one.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg

from sparkify_assets.lib.sqlstate_retries import sqlstate_can_heal

SOURCE_SETTING = "SPARKIFY_SOURCE_URL"
WAREHOUSE_SETTING = "SPARKIFY_WAREHOUSE_URL"
PASSWORD_SETTING = "SPARKIFY_WAREHOUSE_PASSWORD"

_CREDENTIALS_FIX = (
    "set AWS_PROFILE (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY), or run where an instance"
    " role applies"
)


class SettingProblem(dg.Failure):
    """A configuration or connectivity failure: ``message`` says what is wrong, which setting
    to change and how. ``can_heal``: a retry may succeed (a server restarting), so a run's retry
    policy applies; otherwise the step fails at once."""

    def __init__(self, message: str, *, setting: str, can_heal: bool = False) -> None:
        super().__init__(
            description=message,
            metadata={"setting": setting},
            allow_retries=can_heal,
        )
        self.message = message
        self.setting = setting
        self.can_heal = can_heal

    def __str__(self) -> str:
        return self.message


def source_problem(error: Exception, source: str) -> SettingProblem | None:
    """The SettingProblem of an error met while opening or listing the source ``source``, or
    None when the error is not about the setting (a bad file, a network fault)."""
    from botocore.exceptions import (
        EndpointConnectionError,
        NoCredentialsError,
        NoRegionError,
        PartialCredentialsError,
    )

    from sparkify_assets.lib.s3_source_tree import SourceAccessDenied, SourceBucketMissing
    from sparkify_assets.lib.source_tree import SourceDirectoryMissing

    if isinstance(error, SourceDirectoryMissing):
        return SettingProblem(
            f"{SOURCE_SETTING}: {error}. Set it to a directory holding song_data/ and log_data/"
            " or to s3://bucket/prefix, or unset it to use the generated sample data.",
            setting=SOURCE_SETTING,
        )
    if isinstance(error, SourceBucketMissing):
        return SettingProblem(
            f"{SOURCE_SETTING}: {error}. Fix the bucket name in {SOURCE_SETTING}.",
            setting=SOURCE_SETTING,
        )
    if isinstance(error, SourceAccessDenied):
        return SettingProblem(
            f"{SOURCE_SETTING}: {error}.", setting=SOURCE_SETTING
        )  # the message already says what to check
    if isinstance(error, NoCredentialsError | PartialCredentialsError):
        return SettingProblem(
            f"{SOURCE_SETTING}: no AWS credentials to read {source}: {_CREDENTIALS_FIX}.",
            setting="AWS_PROFILE",
        )
    if isinstance(error, NoRegionError):
        return SettingProblem(
            f"{SOURCE_SETTING}: no AWS region for {source}: set AWS_REGION.",
            setting="AWS_REGION",
        )
    if isinstance(error, EndpointConnectionError):
        return SettingProblem(
            f"{SOURCE_SETTING}: cannot reach the S3 endpoint for {source} ({error}). Check the"
            " network, SPARKIFY_S3_ENDPOINT_URL and AWS_ENDPOINT_URL.",
            setting="SPARKIFY_S3_ENDPOINT_URL",
            can_heal=True,
        )
    if isinstance(error, ValueError) and "source URL" in str(error):
        return SettingProblem(f"{SOURCE_SETTING}: {error}.", setting=SOURCE_SETTING)
    return None


@contextmanager
def reported_source_problems(source: str) -> Iterator[None]:
    """Turns an error about the source setting raised in the block (a missing bucket, denied
    access, no credentials) into its SettingProblem; other errors pass unchanged."""
    try:
        yield
    except SettingProblem:
        raise
    except Exception as error:
        problem = source_problem(error, source)
        if problem is None:
            raise
        raise problem from None


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
