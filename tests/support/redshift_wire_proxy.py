"""A loopback proxy that lets ``redshift_connector`` talk to a stock PostgreSQL server in tests.

Why it is needed. redshift_connector (2.2.0) speaks the PostgreSQL v3 wire protocol, but cannot open
a session with stock PostgreSQL:

* with ``ssl=True`` (its default) it sends an SSLRequest and raises
  ``InterfaceError("Server refuses SSL")`` unless the answer is ``S``: it never falls back to
  plaintext, whatever ``sslmode`` says;
* its StartupMessage carries Redshift-only parameters (``REDSHIFT_ONLY_STARTUP_PARAMETERS``), which
  PostgreSQL takes for configuration settings and rejects with
  ``FATAL 42704 unrecognized configuration parameter``;
* its SCRAM code cannot log in (see "Authentication").

What the proxy alters, on each connection, and nothing else:

1. An SSLRequest (or GSSENCRequest) is answered ``N`` by the proxy itself and never reaches
   PostgreSQL. The driver must therefore be called with ``ssl=False`` (it refuses the ``N``
   otherwise); ``sslmode`` is ignored by the driver when ``ssl=False``.
2. The StartupMessage loses exactly the parameters in ``REDSHIFT_ONLY_STARTUP_PARAMETERS``; the others
   (``user``, ``database``, ``application_name``) keep their order and bytes, and the length field
   is recomputed. A CancelRequest is forwarded unchanged.

From then on every byte in both directions (the authentication exchange, ParameterStatus, Parse/Bind/
Execute, rows, errors, notices, Terminate) is copied unchanged until either side closes: nothing
after the StartupMessage is parsed, buffered or rewritten.

One consequence: PostgreSQL never sees ``client_protocol_version``, so it never reports
``server_protocol_version`` and the driver falls back to ``ClientProtocolVersion.BASE_SERVER``
(text result format); against Redshift it negotiates ``BINARY``. Rows are then decoded by the
driver's text decoders instead of its binary ones (same Python types), which these tests never run.

Authentication, as redshift_connector handles each PostgreSQL method (observed through this proxy on
PostgreSQL 18; see tests/test_redshift_wire_proxy.py):

* ``trust``: AuthenticationOk straight away; the password is never sent, so a wrong one connects.
* ``md5`` (AuthenticationMD5Password): works. A wrong password gives FATAL 28P01, raised as
  ``redshift_connector.ProgrammingError`` (the driver maps only SQLSTATE 28000 to InterfaceError).
* ``password`` (AuthenticationCleartextPassword): works; the same failure for a wrong password.
* ``scram-sha-256`` (AuthenticationSASL): broken. The driver splits the mechanism list with
  ``data[4:-1].split(b"\\0")``, which leaves an empty trailing name, and ``scramp.ScramClient``
  rejects it: ``scramp.ScramException("The mechanism name is not supported ...")`` (not a
  redshift_connector error) before anything is sent. Redshift's password logins use md5 or its own
  SHA-256 digest request (code 13, unknown to PostgreSQL), so tests use md5: ``require_password_logins`` creates roles with md5-hashed
  passwords and makes the embedded server ask them for one. PostgreSQL 18 deprecates md5 passwords
  (a WARNING when one is set) but still accepts them.
"""

from __future__ import annotations

import contextlib
import re
import selectors
import socket
import struct
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Literal, Self

import psycopg
from psycopg import sql as pgsql

# The Redshift-only StartupMessage parameters of redshift_connector 2.2.0 (core.Connection.__init__
# and set_idc_plugins_params). PostgreSQL treats every startup parameter other than user, database,
# options and replication as a configuration setting, and ends the connection for an unknown one.
# application_name is a real PostgreSQL setting and is kept.
REDSHIFT_ONLY_STARTUP_PARAMETERS: frozenset[str] = frozenset(
    {
        # Sent on every connection.
        "client_protocol_version",
        "driver_version",
        "os_version",
        "driver_discovery_version",
        # Sent only with a credentials_provider (identity-provider plugins).
        "plugin_name",
        "idp_type",
        "provider_name",
        "identity_namespace",
        "token_type",
        "idc_client_display_name",
    }
)

# Codes that take the place of the protocol version in the first message of a connection.
_SSL_REQUEST = 80877103
_GSSENC_REQUEST = 80877104
_CANCEL_REQUEST = 80877102
# PostgreSQL refuses longer startup packets (MAX_STARTUP_PACKET_LENGTH); so does the proxy.
_MAX_STARTUP_LENGTH = 10_000
_CHUNK = 65_536


def rewrite_startup_message(message: bytes) -> bytes:
    """A protocol-3 StartupMessage (length, version, ``name\\0value\\0`` pairs, ``\\0``) without the
    parameters in ``REDSHIFT_ONLY_STARTUP_PARAMETERS``: the others keep their order and bytes, and
    the length is recomputed. Raises ``ValueError`` for a malformed message."""
    if len(message) < 9 or struct.unpack("!i", message[:4])[0] != len(message):
        raise ValueError("StartupMessage length does not match its content")
    version, pairs = message[4:8], message[8:]
    if not pairs.endswith(b"\0"):
        raise ValueError("StartupMessage parameters are not terminated")
    # "a\0b\0c\0d\0\0" -> ["a", "b", "c", "d"]
    fields = pairs[:-1].split(b"\0")[:-1]
    if len(fields) % 2:
        raise ValueError("StartupMessage has a parameter without a value")
    kept = bytearray(version)
    for name, value in zip(fields[0::2], fields[1::2], strict=True):
        if name.decode("ascii", "replace") not in REDSHIFT_ONLY_STARTUP_PARAMETERS:
            kept += name + b"\0" + value + b"\0"
    kept += b"\0"
    return struct.pack("!i", len(kept) + 4) + bytes(kept)


class RedshiftWireProxy:
    """Listens on ``127.0.0.1:<port>`` and relays each connection to PostgreSQL at
    ``upstream_host``/``upstream_port``: a host name, or (as in libpq) a unix-socket directory,
    ``/dir`` with port 5432 meaning the socket file ``/dir/.s.PGSQL.5432``.

    Use it as a context manager; give ``port`` to ``redshift_connector.connect(host="127.0.0.1",
    port=..., ssl=False)``. One thread accepts, one thread relays each connection; ``close()`` ends
    every connection and joins every thread.
    """

    def __init__(self, upstream_host: str, upstream_port: int = 5432) -> None:
        self.upstream_host = upstream_host
        self.upstream_port = upstream_port
        self._listener: socket.socket | None = None
        self._accept_thread: threading.Thread | None = None
        # Closing the write end wakes the accept loop: the read end becomes readable (EOF).
        self._wake: tuple[socket.socket, socket.socket] | None = None
        self._lock = threading.Lock()
        self._closing = False
        self._live_sockets: set[socket.socket] = set()
        self._sessions: set[threading.Thread] = set()

    @classmethod
    def for_url(cls, url: str) -> RedshiftWireProxy:
        """A proxy to the server of a libpq URL or conninfo string, e.g. the embedded server's
        ``postgresql://postgres:@/postgres?host=/tmp/pgdata`` (port 5432 unless given)."""
        info = psycopg.conninfo.conninfo_to_dict(url)
        return cls(str(info.get("host") or "localhost"), int(str(info.get("port") or 5432)))

    @property
    def port(self) -> int:
        """The TCP port the proxy listens on, at 127.0.0.1."""
        if self._listener is None:
            raise RuntimeError("the proxy is not started")
        return int(self._listener.getsockname()[1])

    @property
    def upstream_address(self) -> str | tuple[str, int]:
        """The unix-socket path (``<dir>/.s.PGSQL.<port>``) or ``(host, port)`` of PostgreSQL."""
        if self.upstream_host.startswith("/"):
            return str(Path(self.upstream_host) / f".s.PGSQL.{self.upstream_port}")
        return (self.upstream_host, self.upstream_port)

    @property
    def active_sessions(self) -> int:
        """How many client connections are being relayed now."""
        with self._lock:
            return len(self._sessions)

    def start(self) -> Self:
        if self._listener is not None:
            raise RuntimeError("the proxy is already started")
        self._listener = socket.create_server(("127.0.0.1", 0), backlog=128)
        self._listener.setblocking(False)
        self._wake = socket.socketpair()
        self._accept_thread = threading.Thread(
            target=self._accept_loop, name=f"redshift-wire-proxy:{self.port}", daemon=True
        )
        self._accept_thread.start()
        return self

    def close(self) -> None:
        """Stops accepting, ends every relayed connection and waits for all threads."""
        with self._lock:
            if self._closing:
                return
            self._closing = True
        if self._wake is None:
            return  # never started
        self._wake[1].close()
        assert self._accept_thread is not None
        self._accept_thread.join()
        # No session starts any more and none opens a new socket (see _connect_upstream).
        with self._lock:
            live = list(self._live_sockets)
            sessions = list(self._sessions)
        for sock in live:
            # Shutting a socket down wakes the thread waiting on it (recv returns b"").
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        for session in sessions:
            session.join()
        assert self._listener is not None
        self._listener.close()
        self._wake[0].close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _accept_loop(self) -> None:
        assert self._listener is not None and self._wake is not None
        with selectors.DefaultSelector() as selector:
            selector.register(self._listener, selectors.EVENT_READ)
            selector.register(self._wake[0], selectors.EVENT_READ)
            while True:
                selector.select()
                if self._closing:
                    return
                try:
                    client, _ = self._listener.accept()
                except BlockingIOError:
                    continue  # the client gave up between select and accept
                client.setblocking(True)
                session = threading.Thread(
                    target=self._serve,
                    args=(client,),
                    name=f"redshift-wire-proxy:{self.port}:session",
                    daemon=True,
                )
                with self._lock:
                    self._sessions.add(session)
                    self._live_sockets.add(client)
                session.start()

    def _serve(self, client: socket.socket) -> None:
        """One client connection: the startup phase, then a byte-for-byte relay."""
        upstream: socket.socket | None = None
        try:
            client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            first_message = self._negotiate(client)
            if first_message is not None:
                upstream = self._connect_upstream()
                upstream.sendall(first_message)
                _relay(client, upstream)
        except (OSError, ValueError):
            pass  # a peer went away or sent a malformed startup packet: the connection ends
        finally:
            with self._lock:
                for sock in (client, upstream):
                    if sock is not None:
                        self._live_sockets.discard(sock)
                        sock.close()
                self._sessions.discard(threading.current_thread())

    def _negotiate(self, client: socket.socket) -> bytes | None:
        """Declines SSL/GSS encryption requests and returns the first message for PostgreSQL: the
        rewritten StartupMessage, or a CancelRequest as is. None ends the connection."""
        while True:
            header = _recv_exact(client, 8)
            if header is None:
                return None
            length, code = struct.unpack("!ii", header)
            if not 8 <= length <= _MAX_STARTUP_LENGTH:
                return None
            rest = _recv_exact(client, length - 8)
            if rest is None:
                return None
            if code in (_SSL_REQUEST, _GSSENC_REQUEST):
                client.sendall(b"N")  # the client may go on unencrypted; redshift_connector won't
                continue
            if code == _CANCEL_REQUEST:
                return header + rest
            if code >> 16 == 3:  # protocol 3.x
                return rewrite_startup_message(header + rest)
            return None

    def _connect_upstream(self) -> socket.socket:
        address = self.upstream_address
        family = socket.AF_UNIX if isinstance(address, str) else socket.AF_INET
        upstream = socket.socket(family, socket.SOCK_STREAM)
        with self._lock:
            if self._closing:
                upstream.close()
                raise ConnectionAbortedError("the proxy is closing")
            self._live_sockets.add(upstream)
        upstream.connect(address)
        if family == socket.AF_INET:
            upstream.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return upstream


def _relay(client: socket.socket, upstream: socket.socket) -> None:
    """Copies bytes both ways, unchanged, until either side closes."""
    with selectors.DefaultSelector() as selector:
        selector.register(client, selectors.EVENT_READ, upstream)
        selector.register(upstream, selectors.EVENT_READ, client)
        while True:
            for key, _ in selector.select():
                source: socket.socket = key.fileobj  # type: ignore[assignment]
                data = source.recv(_CHUNK)
                if not data:
                    return
                key.data.sendall(data)


def _recv_exact(sock: socket.socket, size: int) -> bytes | None:
    """Exactly ``size`` bytes, or None if the peer closed first."""
    chunks: list[bytes] = []
    while size:
        chunk = sock.recv(size)
        if not chunk:
            return None
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


# -- password logins on the embedded server --------------------------------------------------------

PasswordMethod = Literal["md5", "password", "scram-sha-256"]
_CREATE_ROLE = pgsql.SQL("CREATE ROLE {} LOGIN PASSWORD {}")
_ALTER_ROLE = pgsql.SQL("ALTER ROLE {} LOGIN PASSWORD {}")


@dataclass(frozen=True)
class PasswordLogin:
    """A role that must log in with a password, checked by ``method`` (a pg_hba.conf method)."""

    user: str
    password: str
    method: PasswordMethod = "md5"


def require_password_logins(
    admin_url: str, logins: Iterable[PasswordLogin], *, timeout: float = 5.0
) -> None:
    """Creates (or re-passwords) each role and makes the server ask it for its password.

    The password is stored md5-hashed, or as a SCRAM verifier for ``scram-sha-256``. For each role
    ``local``, ``host 127.0.0.1/32`` and ``host ::1/128`` lines with its method are put first in
    pg_hba.conf (the first matching line wins, so other roles, the admin included, keep their trust
    lines), the configuration is reloaded, and the call returns once new connections see it.
    ``admin_url`` must be a superuser's, of a server on this machine (the file is edited directly).
    """
    logins = list(logins)
    for login in logins:
        if not re.fullmatch(r"[a-z_][a-z0-9_]*", login.user):
            raise ValueError(f"use a plain lower-case role name, not {login.user!r}")
    with psycopg.connect(admin_url, autocommit=True) as admin:
        for login in logins:
            encryption = "scram-sha-256" if login.method == "scram-sha-256" else "md5"
            admin.execute(
                pgsql.SQL("SET password_encryption = {}").format(pgsql.Literal(encryption))
            )
            found = admin.execute(
                "SELECT count(*) FROM pg_roles WHERE rolname = %s", (login.user,)
            ).fetchone()
            statement = _ALTER_ROLE if found == (1,) else _CREATE_ROLE
            admin.execute(
                statement.format(pgsql.Identifier(login.user), pgsql.Literal(login.password))
            )
        hba_row = admin.execute("SHOW hba_file").fetchone()
        loaded_row = admin.execute("SELECT pg_conf_load_time()").fetchone()
        assert hba_row is not None and loaded_row is not None
        hba_file, loaded_before = Path(hba_row[0]), loaded_row[0]
        rules = []
        for login in logins:
            rules += [
                f"local all {login.user} {login.method}",
                f"host all {login.user} 127.0.0.1/32 {login.method}",
                f"host all {login.user} ::1/128 {login.method}",
            ]
        hba_file.write_text("\n".join(rules) + "\n" + hba_file.read_text())
        admin.execute("SELECT pg_reload_conf()")
    # The postmaster reloads on SIGHUP, asynchronously; a new backend reports its load time.
    deadline = time.monotonic() + timeout
    while True:
        with psycopg.connect(admin_url) as probe:
            row = probe.execute("SELECT pg_conf_load_time()").fetchone()
        if row is not None and row[0] > loaded_before:
            return
        if time.monotonic() > deadline:
            raise TimeoutError("PostgreSQL did not reload pg_hba.conf")
        time.sleep(0.01)
