"""Reaching a Redshift cluster or Serverless workgroup: the URL, SSL, IAM, timeouts."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote, urlsplit

import redshift_connector

from sparkify_assets.settings.connection_secrets import password_in_url
from sparkify_assets.warehouse.settings import WarehouseSettings

if TYPE_CHECKING:
    pass


DEFAULT_PORT = 5439
SSL_MODES = ("verify-full", "verify-ca")
KEEPALIVE = {"tcp_keepalive_idle": 60, "tcp_keepalive_interval": 30, "tcp_keepalive_count": 5}
_LOOPBACK_NAMES = frozenset({"localhost"})
_REGION = r"(?P<region>[a-z]{2}(?:-[a-z]+)+-\d)"
_AWS_HOST = re.compile(
    r"^(?P<cluster>[a-z][a-z0-9-]*)\.[a-z0-9]+\." + _REGION + r"\.redshift\.amazonaws\.com$"
)
_SERVERLESS_HOST = re.compile(
    r"^(?P<workgroup>[a-z][a-z0-9-]*)\.(?P<account>\d{12})\."
    + _REGION
    + r"\.redshift-serverless\.amazonaws\.com$"
)
_WORKGROUP = re.compile(r"^[a-z0-9-]{3,64}$")


def _is_loopback(host: str) -> bool:
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class RedshiftTarget:
    """What ``redshift://user@host:port/database[?sslmode=...&cluster_identifier=...]`` names."""

    host: str
    port: int
    database: str
    user: str
    sslmode: str  # verify-full, verify-ca, or disable (loopback hosts only)
    cluster_identifier: str
    region: str  # from the host name when it is an AWS endpoint, else ""
    serverless: bool = False  # a Redshift Serverless workgroup (host name or ?serverless=true)
    workgroup: str = ""  # the Serverless workgroup (host name or ?workgroup=)
    account_id: str = ""  # from a Serverless host name

    @classmethod
    def from_url(cls, url: str) -> RedshiftTarget:
        parts = urlsplit(url.strip())
        if parts.scheme.lower() != "redshift":
            raise ValueError("a Redshift URL starts with redshift://")
        if password_in_url(url):  # also a URL a password holding '/' or '?' cuts wrongly
            raise ValueError(
                "put the Redshift password in SPARKIFY_WAREHOUSE_PASSWORD, not in the URL"
            )
        host = parts.hostname or ""
        user = unquote(parts.username or "")
        if not host or not user:
            raise ValueError("a Redshift URL names a user and a host: redshift://user@host:5439/db")
        options = {name: values[-1] for name, values in parse_qs(parts.query).items()}
        unknown = set(options) - {"sslmode", "cluster_identifier", "serverless", "workgroup"}
        if unknown:
            raise ValueError(f"unknown Redshift URL option(s): {', '.join(sorted(unknown))}")
        sslmode = options.get("sslmode", "verify-full")
        if sslmode == "disable":
            if not _is_loopback(host):
                raise ValueError(
                    "sslmode=disable is only for a loopback host (a local test proxy); Redshift"
                    " connections always use SSL"
                )
        elif sslmode not in SSL_MODES:
            raise ValueError(f"sslmode must be one of {', '.join(SSL_MODES)}, not {sslmode!r}")
        aws_host = _AWS_HOST.match(host.lower())
        serverless_host = _SERVERLESS_HOST.match(host.lower())
        flag = options.get("serverless", "").lower()
        if flag not in ("", "true", "false"):
            raise ValueError(f"serverless must be true or false, not {flag!r}")
        host_workgroup = serverless_host["workgroup"] if serverless_host else ""
        workgroup = options.get("workgroup", host_workgroup)
        serverless = bool(serverless_host) or flag == "true" or "workgroup" in options
        if serverless and flag == "false":
            raise ValueError("serverless=false contradicts a Serverless host or workgroup")
        if workgroup and not _WORKGROUP.fullmatch(workgroup):
            raise ValueError(f"{workgroup!r} is not a Redshift Serverless workgroup name")
        if serverless and "cluster_identifier" in options:
            raise ValueError("cluster_identifier names a provisioned cluster, not a workgroup")
        matched = serverless_host or aws_host
        return cls(
            host=host,
            port=parts.port or DEFAULT_PORT,
            database=unquote(parts.path.lstrip("/")) or "dev",
            user=user,
            sslmode=sslmode,
            cluster_identifier=""
            if serverless
            else options.get("cluster_identifier", aws_host["cluster"] if aws_host else ""),
            region=matched["region"] if matched else "",
            serverless=serverless,
            workgroup=workgroup,
            account_id=serverless_host["account"] if serverless_host else "",
        )

    @property
    def load_errors_file(self) -> str:
        """The statements that read this target's load-error log: STL_LOAD_ERRORS exists on
        provisioned main clusters only, SYS_LOAD_ERROR_DETAIL on Serverless."""
        return "serverless" if self.serverless else "provisioned"

    def __str__(self) -> str:
        return f"redshift://{self.user}@{self.host}:{self.port}/{self.database}"


def connect_arguments(target: RedshiftTarget, settings: WarehouseSettings) -> dict[str, Any]:
    """The keyword arguments for ``redshift_connector.connect``."""
    if settings.connect_timeout_seconds <= 0:
        raise ValueError("the connect timeout is a positive number of seconds")
    arguments: dict[str, Any] = {
        "host": target.host,
        "port": target.port,
        "database": target.database,
        "application_name": "sparkify_assets",
        # A socket timeout while connecting and logging in; open_connection() removes it once
        # the session is up (redshift_connector keeps it on the socket for the connection's life).
        "timeout": settings.connect_timeout_seconds,
        "tcp_keepalive": True,
        **KEEPALIVE,
    }
    if target.sslmode == "disable":
        arguments["ssl"] = False
    else:
        arguments["ssl"] = True
        arguments["sslmode"] = target.sslmode
    if settings.password:
        arguments["user"] = target.user
        arguments["password"] = settings.password
        return arguments
    region = settings.region or target.region
    if target.serverless:
        # IAM for a Serverless workgroup: redshift-serverless GetCredentials for the caller's own
        # IAM identity (the database user is IAM:<user> or IAMR:<role>, not the URL's user).
        if not target.workgroup:
            raise ValueError(
                "IAM authentication to Redshift Serverless needs the workgroup: use the"
                " <workgroup>.<account>.<region>.redshift-serverless.amazonaws.com endpoint or add"
                " ?workgroup=<name> to SPARKIFY_WAREHOUSE_URL"
            )
        arguments.update(
            iam=True,
            is_serverless=True,
            serverless_work_group=target.workgroup,
            user="",
            password="",
            **({"serverless_acct_id": target.account_id} if target.account_id else {}),
            **({"region": region} if region else {}),
        )
        return arguments
    # IAM: temporary credentials for the database user, from the AWS credential chain.
    if not target.cluster_identifier:
        raise ValueError(
            "without SPARKIFY_WAREHOUSE_PASSWORD the connection uses IAM authentication, which"
            " needs the cluster identifier: use the cluster's *.redshift.amazonaws.com endpoint or"
            " add ?cluster_identifier=<id> to SPARKIFY_WAREHOUSE_URL"
        )
    arguments.update(
        iam=True,
        db_user=target.user,
        user="",
        password="",
        cluster_identifier=target.cluster_identifier,
        **({"region": region} if region else {}),
    )
    return arguments


def open_connection(arguments: Mapping[str, Any]) -> redshift_connector.Connection:
    """``redshift_connector.connect(**arguments)``, then the socket timeout removed: the driver sets
    ``timeout`` on the socket before connecting and never resets it (core.Connection.__init__), so
    left in place it would end any statement that runs or waits in a queue longer. Long statements
    are bounded on the server instead (``statement_timeout``), and TCP keepalive keeps an idle
    connection alive through NAT and load balancers."""
    connection = redshift_connector.connect(**arguments)
    raw_socket = getattr(connection, "_usock", None)  # the driver's (SSL) socket
    if raw_socket is None:
        connection.close()
        raise RuntimeError("redshift_connector has no _usock: cannot clear the connect timeout")
    raw_socket.settimeout(None)
    return connection
