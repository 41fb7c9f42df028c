"""Redshift failures as the project reports them: one message, retried only when it can heal."""

from __future__ import annotations

import socket
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import dagster as dg

from sparkify_assets.settings.connection_secrets import scrub
from sparkify_assets.settings.problems import (
    PASSWORD_SETTING,
    WAREHOUSE_SETTING,
    SettingProblem,
)
from sparkify_assets.warehouse.sqlstate_retries import sqlstate_can_heal

if TYPE_CHECKING:
    pass


# Driver-side failures a retry can heal: the network refused, reset or timed out. Anything else
# without a SQLSTATE (SSL refused, IAM set-up, a protocol error) is a configuration problem.
_HEALING_OS_ERRORS = (ConnectionError, TimeoutError, socket.timeout, socket.gaierror)


class RedshiftError(dg.Failure):
    """A Redshift statement (or the connection) failed. The description names the statement and
    gives the server's SQLSTATE and message; it never holds SQL text or the password. Errors a
    retry may fix (connection, serialization, resources) respect the asset's retry policy."""

    def __init__(
        self,
        description: str,
        *,
        statement_key: str,
        sqlstate: str,
        server_message: str,
        retryable: bool,
        metadata: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(
            description=description,
            metadata={"statement": statement_key, "sqlstate": sqlstate, **(metadata or {})},
            allow_retries=retryable,
        )
        self.statement_key = statement_key
        self.sqlstate = sqlstate
        self.server_message = server_message
        self.retryable = retryable


@dataclass(frozen=True)
class CopyRejection:
    """One line a COPY rejected, as the load-error log records it."""

    source_file: str  # key relative to the source tree
    line_number: int | None
    column_name: str
    error_code: int | None
    error_reason: str
    raw_field_value: str
    raw_line: str

    @property
    def reason(self) -> str:
        column = f", column {self.column_name}" if self.column_name else ""
        return f"rejected by Redshift COPY: {self.error_reason} (error {self.error_code}{column})"

    def as_metadata(self) -> dict[str, object]:
        return {
            "file": self.source_file,
            "line": self.line_number,
            "column": self.column_name,
            "error_code": self.error_code,
            "reason": self.error_reason,
            "value": self.raw_field_value[:200],
            "raw_line": self.raw_line[:500],
        }


class RedshiftLoadRejected(RedshiftError):
    """A COPY failed; ``rejections`` are the lines Redshift rejected (also in the metadata)."""

    def __init__(self, error: RedshiftError, rejections: Sequence[CopyRejection]) -> None:
        super().__init__(
            f"{error.description}; Redshift rejected {len(rejections)} line(s), first: "
            + (rejections[0].reason if rejections else "(none recorded)"),
            statement_key=error.statement_key,
            sqlstate=error.sqlstate,
            server_message=error.server_message,
            retryable=False,  # the same files give the same rejections
            metadata={
                "rejected_lines": len(rejections),
                "rejections": dg.MetadataValue.json([r.as_metadata() for r in rejections[:100]]),
            },
        )
        self.rejections = list(rejections)


def error_from_driver(
    key: str, error: Exception, secrets: Sequence[str], *, action: str = "failed"
) -> RedshiftError:
    """A RedshiftError for a redshift_connector exception raised by statement ``key``."""
    fields = error.args[0] if error.args and isinstance(error.args[0], dict) else None
    if fields is not None:
        sqlstate = str(fields.get("C", ""))
        message = str(fields.get("M", ""))
        detail = str(fields.get("D", ""))
        if detail:
            message = f"{message} ({detail})"
    else:  # a driver-side error: the network, the protocol, authentication set-up
        sqlstate = ""
        message = f"{type(error).__name__}: {error}"
    message = scrub(message, secrets)
    if sqlstate:
        # Redshift reports its serializable isolation violation (error 1023) as XX000.
        retryable = (
            sqlstate_can_heal(sqlstate) or "serializable isolation violation" in message.lower()
        )
    else:
        retryable = _network_failure(error)
    return RedshiftError(
        f"Redshift statement {key} {action}: [{sqlstate or 'no SQLSTATE'}] {message}",
        statement_key=key,
        sqlstate=sqlstate,
        server_message=message,
        retryable=retryable,
    )


def connect_problem(error: RedshiftError, target: object) -> SettingProblem:
    """The SettingProblem of a failed connection: a refused login or a missing database fails at
    once; a network fault or a cluster that is starting may heal, so the retry policy applies."""
    state, message = error.sqlstate, error.server_message
    if state.startswith("28") or "authentication" in message.lower():
        return SettingProblem(
            f"{PASSWORD_SETTING}: Redshift at {target} refused the login ({message}). Set"
            f" {PASSWORD_SETTING} (unset: IAM authentication with your AWS credentials), or fix"
            f" the user in {WAREHOUSE_SETTING}.",
            setting=PASSWORD_SETTING,
        )
    if state == "3D000":
        return SettingProblem(
            f"{WAREHOUSE_SETTING}: {message} on Redshift at {target}. Name an existing"
            f" database in {WAREHOUSE_SETTING}.",
            setting=WAREHOUSE_SETTING,
        )
    return SettingProblem(
        f"{WAREHOUSE_SETTING}: cannot reach Redshift at {target} ({message}). Check that the"
        f" cluster is available (redshift_cluster_status) and the host and port in"
        f" {WAREHOUSE_SETTING}.",
        setting=WAREHOUSE_SETTING,
        can_heal=error.retryable,
    )


def _network_failure(error: BaseException) -> bool:
    """Whether ``error`` (a driver error without SQLSTATE, or an OSError) comes from the network
    refusing, resetting or timing out a connection: the failures a retry can heal. The driver wraps
    socket errors as ``InterfaceError("communication error", <OSError>)`` and a connect timeout as
    ``OperationalError("connection time out", <timeout>)``."""
    seen: set[int] = set()
    pending: list[BaseException] = [error]
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, _HEALING_OS_ERRORS):
            return True
        pending += [a for a in current.args if isinstance(a, BaseException)]
        pending += [e for e in (current.__cause__, current.__context__) if e is not None]
    return False
