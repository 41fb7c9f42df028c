"""No credential set in the environment appears in any output, event record, run storage or error
message of a full build and of failing runs."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

PASSWORD = f"warehouse-pw-{uuid.uuid4().hex}"
AWS_SECRET = f"aws-secret-{uuid.uuid4().hex}"
AWS_KEY_ID = "AKIA" + uuid.uuid4().hex[:16].upper()


def _run(args: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=600, check=False)
    return done.stdout + done.stderr


def _everything_written(root: Path) -> bytes:
    return b"".join(p.read_bytes() for p in root.rglob("*") if p.is_file())


def test_credentials_never_leak(warehouse_url: str, small_source: Path, tmp_path: Path) -> None:
    home = tmp_path / "dagster_home"
    home.mkdir()
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "SPARKIFY_WAREHOUSE_URL": warehouse_url,
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
