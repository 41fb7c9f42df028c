"""The project's own Dagster instance (``$SPARKIFY_HOME/dagster_home``, storage on PostgreSQL):
``prepare_instance()`` makes its database reachable and writes ``dagster.yaml`` and
``workspace.yaml`` from the settings (docs/instance_and_performance.md)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

import yaml

from sparkify_assets.settings.project_home import sparkify_home

STORAGE_URL_SETTING = "SPARKIFY_DAGSTER_STORAGE_URL"
STORAGE_PASSWORD_SETTING = "SPARKIFY_DAGSTER_STORAGE_PASSWORD"
EMBEDDED_DATABASE = "dagster"
EMBEDDED_USER = "postgres"
# SQLAlchemy 2.1 picks psycopg 3 for a plain postgresql:// URL, on which dagster-postgres fails
# (`NOTIFY run_events, $1`); psycopg2 comes with dagster-postgres and is what it is tested with.
STORAGE_SCHEME = "postgresql+psycopg2"
WAREHOUSE_POOL = "sparkify_warehouse"
CODE_LOCATION = "sparkify_assets"
CODE_MODULE = "sparkify_assets.definitions"


class InstanceSettingError(ValueError):
    """A setting of the instance's storage that cannot be used as given."""


@dataclass(frozen=True)
class StorageTarget:
    """Where the instance's PostgreSQL is: ``host`` is a host name or, for a unix socket, the
    socket's directory. ``password_env`` names the environment variable holding the password
    (None: no password)."""

    host: str
    port: int
    user: str
    database: str
    params: dict[str, str] = field(default_factory=dict)
    password_env: str | None = None

    def postgres_db_config(self) -> dict[str, object]:
        """The ``postgres_db`` block of dagster-postgres' storage config."""
        params = dict(self.params)
        if self.host.startswith("/"):  # a socket directory goes where libpq expects it
            params["host"] = self.host
            hostname = ""
        else:
            hostname = self.host
        config: dict[str, object] = {
            "scheme": STORAGE_SCHEME,
            "username": self.user,
            "hostname": hostname,
            "port": self.port,
            "db_name": self.database,
        }
        if params:
            config["params"] = params
        if self.password_env:
            config["password"] = {"env": self.password_env}
        return config


def instance_home() -> Path:
    """The directory ``DAGSTER_HOME`` names for the project: ``<sparkify home>/dagster_home``."""
    return sparkify_home() / "dagster_home"


def storage_target_from_url(url: str) -> StorageTarget:
    """A ``StorageTarget`` from a ``postgresql://user@host:port/database?params`` URL."""
    parts = urlsplit(url)
    if parts.scheme not in ("postgresql", "postgres", STORAGE_SCHEME):
        raise InstanceSettingError(
            f"{STORAGE_URL_SETTING} must be a postgresql:// URL (got scheme {parts.scheme!r})"
        )
    if parts.password:
        raise InstanceSettingError(
            f"{STORAGE_URL_SETTING} must not hold a password: set {STORAGE_PASSWORD_SETTING}"
            " instead (dagster.yaml refers to that variable, it never holds the password)"
        )
    params = dict(parse_qsl(parts.query))
    host = params.pop("host", None) or unquote(parts.hostname or "")
    database = unquote(parts.path.lstrip("/"))
    if not host or not database or not parts.username:
        raise InstanceSettingError(
            f"{STORAGE_URL_SETTING} needs a user, a host and a database:"
            " postgresql://user@host:5432/database"
        )
    return StorageTarget(
        host=host,
        port=parts.port or 5432,
        user=unquote(parts.username),
        database=database,
        params=params,
        password_env=STORAGE_PASSWORD_SETTING if os.environ.get(STORAGE_PASSWORD_SETTING) else None,
    )


def instance_storage_target() -> StorageTarget:
    """Where the instance's storage lives now: ``SPARKIFY_DAGSTER_STORAGE_URL`` if set, else the
    database ``dagster`` on the embedded server (started, and the database created, if needed).
    For the embedded server, ``SPARKIFY_DAGSTER_STORAGE_PASSWORD`` is set in this process's
    environment from the server's 0600 password file (children inherit it; ``dagster.yaml`` only
    names the variable)."""
    configured = os.environ.get(STORAGE_URL_SETTING)
    if configured:
        return storage_target_from_url(configured)
    from sparkify_assets.warehouse.postgres.embedded_server import EmbeddedPostgres

    server = EmbeddedPostgres.for_home(sparkify_home())
    server.ensure_database(EMBEDDED_DATABASE)
    embedded = urlsplit(server.url(EMBEDDED_DATABASE))
    socket_dir = dict(parse_qsl(embedded.query)).get("host")
    if not socket_dir:
        raise RuntimeError(f"the embedded server gave no socket directory: {embedded.geturl()}")
    os.environ.setdefault(STORAGE_PASSWORD_SETTING, server.password)
    return StorageTarget(
        host=socket_dir,
        port=int(dict(parse_qsl(embedded.query)).get("port") or 5432),
        user=unquote(embedded.username or EMBEDDED_USER),
        database=EMBEDDED_DATABASE,
        password_env=STORAGE_PASSWORD_SETTING,
    )


STORAGE_CLASSES = (
    ("run_storage", "sparkify_assets.instance.storage_connection_pool", "PooledRunStorage"),
    (
        "event_log_storage",
        "sparkify_assets.instance.check_planning_event_log",
        "CheckPlanningEventLogStorage",
    ),
    (
        "schedule_storage",
        "sparkify_assets.instance.storage_connection_pool",
        "PooledScheduleStorage",
    ),
)


def instance_config(target: StorageTarget) -> dict[str, object]:
    """The content of the project's ``dagster.yaml``."""
    postgres_db = target.postgres_db_config()
    return {
        "instance_class": {
            "module": "sparkify_assets.instance.batched_event_instance",
            "class": "BatchedEventInstance",
        },
        # Dagster's `storage: postgres:` shorthand, spelled out to name the event log's class.
        **{
            kind: {"module": module, "class": name, "config": {"postgres_db": postgres_db}}
            for kind, module, name in STORAGE_CLASSES
        },
        "telemetry": {"enabled": False},
        "concurrency": {"pools": {"granularity": "run", "default_limit": 1}},
    }


def workspace_config() -> dict[str, object]:
    """The instance's ``workspace.yaml``: the code location, named as in the repository's."""
    return {
        "load_from": [
            {"python_module": {"module_name": CODE_MODULE, "location_name": CODE_LOCATION}}
        ]
    }


_HEADER = (
    "# Written by sparkify (sparkify_assets/instance/project_instance.py) before each\n"
    "# command that uses this instance: change the settings (SPARKIFY_DAGSTER_STORAGE_URL...),\n"
    "# not this file.\n"
)


def _write_if_changed(path: Path, content: dict[str, object]) -> None:
    text = _HEADER + yaml.safe_dump(content, sort_keys=False)
    if path.is_file() and path.read_text(encoding="utf-8") == text:
        return
    partial = path.with_name(f".{path.name}.{os.getpid()}")
    partial.write_text(text, encoding="utf-8")
    partial.replace(path)  # atomic: a process starting meanwhile reads the old or the new file


def prepare_instance() -> Path:
    """Makes the instance ready to use and returns its directory (what ``DAGSTER_HOME`` names)."""
    home = instance_home()
    home.mkdir(parents=True, exist_ok=True)
    _write_if_changed(home / "dagster.yaml", instance_config(instance_storage_target()))
    _write_if_changed(home / "workspace.yaml", workspace_config())
    return home


def instance_environment(home: Path) -> dict[str, str]:
    """The environment of a Dagster process on the instance at ``home``."""
    from sparkify_assets.instance.batched_event_instance import EVENT_WRITE_SETTINGS

    return {
        **EVENT_WRITE_SETTINGS,
        **os.environ,
        "DAGSTER_HOME": str(home),
    }
