"""The Dagster UI in a real browser: the webserver on loopback, driven by headless Chromium.

What an analyst does on a fresh deployment: open the asset graph (every table and every analytics
asset is there), materialize the analytics group from the UI, wait for the run to succeed, open a
chart. Screenshots go to ``$SPARKIFY_UI_SCREENSHOTS`` (``docs/screenshots`` refreshes the README's)
or to the test's temporary directory.

Chromium comes from Debian (``bash scripts/install_chromium.sh``); Playwright drives it through
``executable_path`` (Playwright's own browser download is not used). This test never skips: without
Chromium it fails and says how to install it.
"""

from __future__ import annotations

import base64
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg
import pytest

from sparkify_assets.commands.build import build_warehouse
from sparkify_assets.definitions import defs
from tests.conftest import resources_for

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path(os.environ.get("SPARKIFY_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ANALYTICS_ASSETS = (
    "most_active_users",
    "plays_by_hour",
    "top_songs_by_month",
    "top_artists_by_month",
    "free_vs_paid_plays",
)
LOCATION = "sparkify_assets"  # workspace.yaml's location_name
# The run coordinator that launches a run from the webserver itself (no daemon), and no sensors:
# the only runs are the ones this test starts.
DAGSTER_YAML = """\
run_coordinator:
  module: dagster.core.run_coordinator
  class: DefaultRunCoordinator
telemetry:
  enabled: false
nux:
  enabled: false
"""
# Tall enough for the whole asset graph, groups expanded: the graph renders only nodes in view.
VIEWPORT = {"width": 1920, "height": 1800}
ASSET_NODE_NAME = '[class*="AssetNode_assetName"]'
MS = 1000


@dataclass
class Timings:
    """How long each phase took, printed at the end (seen with ``pytest -s``)."""

    start: float = field(default_factory=time.monotonic)
    phases: list[tuple[str, float]] = field(default_factory=list)
    _last: float = field(default_factory=time.monotonic)

    def lap(self, phase: str) -> None:
        now = time.monotonic()
        self.phases.append((phase, now - self._last))
        self._last = now

    def report(self) -> str:
        lines = [f"{phase:<48} {seconds:6.1f} s" for phase, seconds in self.phases]
        lines.append(f"{'total':<48} {time.monotonic() - self.start:6.1f} s")
        return "\n".join(lines)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _require_chromium() -> None:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(
            f"Chromium is not installed at {CHROMIUM}. Install it with"
            " `bash scripts/install_chromium.sh` (Debian's chromium package; scripts/run_tests.sh"
            " does this), or point SPARKIFY_CHROMIUM at a Chromium binary.",
            pytrace=False,
        )


@dataclass
class Webserver:
    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def log_tail(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")[-4000:]

    def wait_until_serving(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"dagster-webserver exited early:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(f"{self.url}/server_info", timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        pytest.fail(f"dagster-webserver did not answer within {timeout:.0f} s:\n{self.log_tail()}")


@pytest.fixture
def dagster_home(tmp_path: Path) -> Path:
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text(DAGSTER_YAML, encoding="utf-8")
    # Create the SQLite storages now: two processes creating them at once race on their schema.
    with dg.DagsterInstance.from_config(str(home)) as instance:
        instance.get_run_records(limit=1)
        instance.get_latest_materialization_event(dg.AssetKey("songs"))
        instance.all_instigator_state()
    return home


@pytest.fixture
def webserver(
    tmp_path: Path, dagster_home: Path, warehouse_url: str, small_source: Path
) -> Iterator[Webserver]:
    """``dagster-webserver`` on a free loopback port, on this repository's workspace.yaml, with
    the source and the warehouse of this test (nothing of the developer's .sparkify/)."""
    port = _free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("SPARKIFY_", "DAGSTER_", "AWS_"))
    }
    env.update(
        DAGSTER_HOME=str(dagster_home),
        SPARKIFY_SOURCE_URL=str(small_source),
        SPARKIFY_WAREHOUSE_URL=warehouse_url,
        SPARKIFY_HOME=str(tmp_path / "sparkify_home"),
        PYTHONWARNINGS="ignore",
    )
    executable = Path(sys.executable).parent / "dagster-webserver"
    log = tmp_path / "webserver.log"
    with log.open("wb") as log_file:
        process = subprocess.Popen(
            [str(executable), "-h", "127.0.0.1", "-p", str(port), "-w", "workspace.yaml"],
            cwd=ROOT,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: the code server goes with it
        )
    server = Webserver(url=f"http://127.0.0.1:{port}", process=process, log=log)
    try:
        yield server
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def _screenshot_dir(tmp_path: Path) -> Path:
    configured = os.environ.get("SPARKIFY_UI_SCREENSHOTS")
    directory = (ROOT / configured) if configured else tmp_path / "screenshots"
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def _new_run_ids(instance: dg.DagsterInstance, known: set[str]) -> list[str]:
    return [
        r.dagster_run.run_id
        for r in instance.get_run_records()
        if r.dagster_run.run_id not in known
    ]


def _wait_for_run_end(instance: dg.DagsterInstance, run_id: str, timeout: float) -> dg.DagsterRun:
    deadline = time.monotonic() + timeout
    while True:
        run = instance.get_run_by_id(run_id)
        assert run is not None
        if run.is_finished:
            return run
        assert time.monotonic() < deadline, f"run {run_id} still {run.status} after {timeout} s"
        time.sleep(0.5)


def test_analyst_materializes_analytics_from_the_ui(
    tmp_path: Path,
    dagster_home: Path,
    webserver: Webserver,
    warehouse_url: str,
    small_source: Path,
) -> None:
    _require_chromium()
    from playwright.sync_api import expect, sync_playwright

    timings = Timings()
    screenshots = _screenshot_dir(tmp_path)

    # The tables, built the way `sparkify build` builds them, recorded in the webserver's instance
    # (while the webserver starts).
    with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
        outcome = build_warehouse(
            defs, instance=instance, resources=resources_for(warehouse_url, small_source)
        )
        assert outcome.succeeded
        timings.lap("build the seven tables (in-process)")
        webserver.wait_until_serving(timeout=90)
        timings.lap("webserver answering")
        known_runs = {r.dagster_run.run_id for r in instance.get_run_records()}

        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS, headless=True
            )
            try:
                page = browser.new_page(viewport=VIEWPORT)  # type: ignore[arg-type]
                page.set_default_timeout(60 * MS)
                expect.set_options(timeout=30 * MS)

                # 1. The asset graph lists every table and every analytics asset.
                page.goto(f"{webserver.url}/asset-groups")
                expect(page.get_by_text("star_schema").first).to_be_visible()
                for group in ("staging", "star_schema", "analytics", "backup"):
                    expect(page.get_by_text(group, exact=True).first).to_be_visible()
                page.mouse.click(VIEWPORT["width"] * 0.6, VIEWPORT["height"] - 60, button="right")
                page.get_by_role("menuitem", name="Expand all groups").click()
                expected_nodes = sorted(
                    key.to_user_string() for key in defs.resolve_asset_graph().get_all_asset_keys()
                )
                expect(page.locator(ASSET_NODE_NAME)).to_have_count(len(expected_nodes))
                assert sorted(page.locator(ASSET_NODE_NAME).all_inner_texts()) == expected_nodes
                timings.lap("asset graph checked")

                # 2. Materialize the analytics group from its page, as an analyst would.
                page.goto(f"{webserver.url}/locations/{LOCATION}/asset-groups/analytics")
                for name in ANALYTICS_ASSETS:
                    expect(page.locator(ASSET_NODE_NAME, has_text=name)).to_have_count(1)
                # (the build materialized them once already: the analyst refreshes them)
                page.get_by_role("button", name="Materialize all").click()
                deadline = time.monotonic() + 30
                while not (launched := _new_run_ids(instance, known_runs)):
                    assert time.monotonic() < deadline, "no run was launched from the UI"
                    page.wait_for_timeout(250)
                [run_id] = launched
                timings.lap("run launched from the UI")

                # 3. Wait for the run (from the instance: a browser rendering the live run page
                # would slow the run down on a small machine), then see its success in the UI.
                run = _wait_for_run_end(instance, run_id, timeout=180)
                assert run.status == dg.DagsterRunStatus.SUCCESS, webserver.log_tail()
                assert run.asset_selection == {dg.AssetKey(n) for n in ANALYTICS_ASSETS}
                timings.lap("run finished")
                page.goto(f"{webserver.url}/runs/{run_id}")
                expect(page.get_by_text("Success", exact=True).first).to_be_visible()
                # One step computes the five answers (a multi-asset): one step succeeded.
                expect(page.get_by_text("Succeeded (1)")).to_be_visible()
                expect(page.get_by_text("Loading run logs")).to_have_count(0)
                page.screenshot(path=str(screenshots / "analytics_run.png"))
                timings.lap("run page shows success")

                # 4. Every analytics asset shows its answer and its chart.
                for name in ANALYTICS_ASSETS:
                    page.goto(f"{webserver.url}/assets/{name}")
                    expect(page.get_by_text("Latest materialization", exact=True)).to_be_visible()
                    chart_row = page.get_by_role("row").filter(
                        has=page.get_by_role("cell", name="chart", exact=True)
                    )
                    expect(page.get_by_role("cell", name="answer", exact=True)).to_be_visible()
                    chart_row.get_by_text("[Show Markdown]").click()
                    image = page.get_by_role("dialog").locator("img")
                    expect(image).to_be_visible()
                    size = image.evaluate("i => [i.complete, i.naturalWidth, i.naturalHeight]")
                    assert size[0] and size[1] == 800 and size[2] > 100, (name, size)
                    src = image.get_attribute("src") or ""
                    assert src.startswith("data:image/png;base64,")
                    assert base64.b64decode(src.split(",", 1)[1])[:4] == b"\x89PNG"
                    if name == "plays_by_hour":
                        page.screenshot(path=str(screenshots / "analytics_chart.png"))
                    page.get_by_role("button", name="Close").click()
                    if name == "top_songs_by_month":
                        page.get_by_role(
                            "cell", name="answer", exact=True
                        ).scroll_into_view_if_needed()
                        page.screenshot(path=str(screenshots / "analytics_answer.png"))
                timings.lap("answers and charts shown for all five")

                # 5. The whole graph again, everything materialized (groups stay expanded).
                page.goto(f"{webserver.url}/asset-groups")
                expect(page.locator(ASSET_NODE_NAME)).to_have_count(len(expected_nodes))
                expect(page.get_by_text("Loading...", exact=True)).to_have_count(0)
                expect(page.get_by_text("Never materialized")).to_have_count(0)
                expect(page.get_by_text("Materialized", exact=True)).to_have_count(
                    len(ANALYTICS_ASSETS) + 3  # and the catalog: staging_songs, songs, artists
                )
                page.wait_for_timeout(1 * MS)  # let the edges settle
                page.screenshot(path=str(screenshots / "asset_graph.png"))
                timings.lap("asset graph screenshot")
            finally:
                browser.close()

        for name in ANALYTICS_ASSETS:
            event = instance.get_latest_materialization_event(dg.AssetKey(name))
            assert event is not None and event.run_id == run_id, name

    report = timings.report()
    (tmp_path / "ui_test_timings.txt").write_text(report + "\n", encoding="utf-8")
    print(f"\nUI test phases:\n{report}")
    for shot in ("asset_graph.png", "analytics_run.png", "analytics_chart.png"):
        assert (screenshots / shot).stat().st_size > 10_000, shot
