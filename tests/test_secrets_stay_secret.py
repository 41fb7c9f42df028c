"""No credential set in the environment appears in any output, event record, run storage or error
message of a full build and of failing runs."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from psycopg import sql as pgsql

PASSWORD = f"warehouse-pw-{uuid.uuid4().hex}"  # the real password of the role etl_url logs in as
WRONG_PASSWORD = f"wrong-pw-{uuid.uuid4().hex}"
AWS_SECRET = f"aws-secret-{uuid.uuid4().hex}"
AWS_KEY_ID = "AKIA" + uuid.uuid4().hex[:16].upper()


@pytest.fixture
def etl_url(postgres_admin_url: str, warehouse_url: str) -> Iterator[str]:
    """``warehouse_url`` for a login role whose password is PASSWORD (scram-sha-256), owner of
    the test database; the URL holds no password (SPARKIFY_WAREHOUSE_PASSWORD gives it)."""
    role = f"etl_{uuid.uuid4().hex[:12]}"
    database = urlsplit(warehouse_url).path.lstrip("/")
    with psycopg.connect(postgres_admin_url, autocommit=True) as admin:
        admin.execute(
            pgsql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
                pgsql.Identifier(role), pgsql.Literal(PASSWORD)
            )
        )
        admin.execute(
            pgsql.SQL("ALTER DATABASE {} OWNER TO {}").format(
                pgsql.Identifier(database), pgsql.Identifier(role)
            )
        )
    parts = urlsplit(warehouse_url)
    host_part = parts.netloc.rpartition("@")[2]
    yield urlunsplit(parts._replace(netloc=f"{role}@{host_part}"))
    with psycopg.connect(postgres_admin_url, autocommit=True) as admin:
        # The role owns the database and its tables: drop them first (warehouse_url's own
        # teardown then finds nothing to drop).
        admin.execute(
            pgsql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(pgsql.Identifier(database))
        )
        admin.execute(pgsql.SQL("DROP ROLE {}").format(pgsql.Identifier(role)))


def _run(args: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=600, check=False)
    return done.stdout + done.stderr


def _everything_written(root: Path) -> bytes:
    return b"".join(p.read_bytes() for p in root.rglob("*") if p.is_file())


def test_credentials_never_leak(etl_url: str, small_source: Path, tmp_path: Path) -> None:
    home = tmp_path / "dagster_home"
    home.mkdir()
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "SPARKIFY_WAREHOUSE_URL": etl_url,
        "SPARKIFY_SOURCE_URL": str(small_source),
        "SPARKIFY_WAREHOUSE_PASSWORD": PASSWORD,
        "AWS_SECRET_ACCESS_KEY": AWS_SECRET,
        "AWS_ACCESS_KEY_ID": AWS_KEY_ID,
    }
    bin_dir = Path(sys.executable).parent
    outputs = [
        _run([str(bin_dir / "sparkify"), "build"], env),
        # A failing run: a day with no log file.
        _run(
            [
                str(bin_dir / "dagster"),
                "asset",
                "materialize",
                "-m",
                "sparkify_assets.definitions",
                "--select",
                "staging_events",
                "--partition",
                "2019-06-01",
            ],
            env,
        ),
        # A failing connection: the server is not where the URL says.
        _run(
            [
                str(bin_dir / "dagster"),
                "asset",
                "materialize",
                "-m",
                "sparkify_assets.definitions",
                "--select",
                "staging_songs",
            ],
            {
                **env,
                "SPARKIFY_WAREHOUSE_URL": f"postgresql://etl@/nowhere?host={tmp_path}/no-server",
            },
        ),
    ]

    assert "Sparkify warehouse built" in outputs[0]
    assert "no log file for 2019-06-01" in outputs[1]
    assert "no-server" in outputs[2]  # the connection error is reported...
    stored = _everything_written(home)
    assert len(stored) > 10_000  # the runs' event logs are there to search
    for secret in (PASSWORD, AWS_SECRET):
        assert all(secret not in output for output in outputs)  # ...without the credentials
        assert secret.encode() not in stored


def _materialize(env: dict[str, str], asset: str = "staging_songs", *extra: str) -> str:
    bin_dir = Path(sys.executable).parent
    command = [
        str(bin_dir / "dagster"),
        "asset",
        "materialize",
        "-m",
        "sparkify_assets.definitions",
    ]
    return _run([*command, "--select", asset, *extra], env)


def test_failing_runs_of_every_kind_leak_no_secret(
    postgres_admin_url: str, etl_url: str, small_source: Path, tmp_path: Path
) -> None:
    """Finding 4: a password in a postgresql:// URL came back through libpq's error text into the
    console, the compute logs and the run storage. Every kind of failing run here; the password
    (and the embedded server's generated one) must appear in none of the outputs, nothing the
    Dagster instance stored, nor the embedded server's log."""
    from sparkify_assets.warehouse.postgres.embedded_server import EmbeddedPostgres
    from tests.conftest import new_database

    dagster_home = tmp_path / "dagster_home"
    dagster_home.mkdir()
    sparkify_home = tmp_path / "sparkify_home"
    sparkify_home.mkdir()
    base = {
        **os.environ,
        "DAGSTER_HOME": str(dagster_home),
        "SPARKIFY_HOME": str(sparkify_home),
        "SPARKIFY_SOURCE_URL": str(small_source),
        "SPARKIFY_WAREHOUSE_PASSWORD": PASSWORD,
        "AWS_SECRET_ACCESS_KEY": AWS_SECRET,
        "AWS_ACCESS_KEY_ID": AWS_KEY_ID,
    }
    user, _, host = urlsplit(etl_url).netloc.rpartition("@")
    with_password = urlunsplit(urlsplit(etl_url)._replace(netloc=f"{user}:{PASSWORD}@{host}"))
    refused_urls = {
        "password in the URL": with_password,
        "password as a URL option": f"{etl_url}&password={PASSWORD}",
        "password that breaks URL parsing": f"postgresql://etl:{PASSWORD}/x@nohost.invalid/db",
        "password in a Redshift URL": f"redshift://etl:{PASSWORD}@127.0.0.1:1/dev?sslmode=disable",
    }
    outputs: dict[str, str] = {}
    for kind, url in refused_urls.items():
        outputs[kind] = _materialize({**base, "SPARKIFY_WAREHOUSE_URL": url})
        assert "must not contain a password: put it in SPARKIFY_WAREHOUSE_PASSWORD" in outputs[
            kind
        ] or ("put the Redshift password in SPARKIFY_WAREHOUSE_PASSWORD" in outputs[kind]), kind

    outputs["wrong password"] = _materialize(
        {**base, "SPARKIFY_WAREHOUSE_URL": etl_url, "SPARKIFY_WAREHOUSE_PASSWORD": WRONG_PASSWORD}
    )
    assert "password authentication failed" in outputs["wrong password"]
    outputs["unreachable PostgreSQL"] = _materialize(
        {**base, "SPARKIFY_WAREHOUSE_URL": "postgresql://etl@127.0.0.1:1/db"}
    )
    assert "Connection refused" in outputs["unreachable PostgreSQL"]
    outputs["unreachable Redshift"] = _materialize(
        {**base, "SPARKIFY_WAREHOUSE_URL": "redshift://etl@127.0.0.1:1/dev?sslmode=disable"}
    )
    assert "cannot reach Redshift" in outputs["unreachable Redshift"]

    with new_database(postgres_admin_url) as broken_url:
        import psycopg

        with psycopg.connect(broken_url, autocommit=True) as connection:
            connection.execute("CREATE TABLE staging_songs (not_a_song_column integer)")
        passwordless = {k: v for k, v in base.items() if k != "SPARKIFY_WAREHOUSE_PASSWORD"}
        outputs["bad SQL"] = _materialize({**passwordless, "SPARKIFY_WAREHOUSE_URL": broken_url})
    assert "not_a_song_column" in outputs["bad SQL"] or "staging_songs" in outputs["bad SQL"]
    assert "RUN_FAILURE" in outputs["bad SQL"]

    # The embedded server (empty URL), with its generated password, and a day with no file.
    embedded = EmbeddedPostgres.for_home(sparkify_home)
    try:
        outputs["embedded server, missing day"] = _materialize(
            {**base, "SPARKIFY_WAREHOUSE_URL": ""}, "staging_events", "--partition", "2019-06-01"
        )
        assert "no log file for 2019-06-01" in outputs["embedded server, missing day"]
        embedded_password = embedded.password
        server_log = embedded.log_file.read_bytes()
    finally:
        embedded.remove()

    stored = _everything_written(dagster_home)
    assert len(stored) > 10_000  # the runs' event logs are there to search
    for secret in (PASSWORD, WRONG_PASSWORD, AWS_SECRET, embedded_password):
        for kind, output in outputs.items():
            assert secret not in output, kind
        assert secret.encode() not in stored
        assert secret.encode() not in server_log
