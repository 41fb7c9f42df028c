"""Freshness checks (lag behind the source) evaluated by Dagster on a real warehouse, and the
run-failure / check-failure alerts evaluated on real runs in a real instance, delivered over HTTP
to a moto SNS server (read back through an SQS subscription) and a local webhook receiver."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3
import dagster as dg
import pytest

from sparkify_assets.alerts.delivery import Alert, deliver
from sparkify_assets.commands.build import build_warehouse
from sparkify_assets.definitions import defs
from sparkify_assets.defs.failure_alerts import (
    AlertResource,
    check_failure_alert,
    run_failure_alert,
)
from sparkify_assets.defs.freshness_checks import (
    CHECK_NAME,
    FreshnessResource,
    freshness_checks,
    freshness_checks_job,
)
from sparkify_assets.source.local_tree import LocalSourceTree
from sparkify_assets.source.log_freshness import Freshness, FreshnessLimits
from sparkify_assets.source.tree import SourceFile
from tests.conftest import SMALL_SPEC, resources_for
from tests.support.s3_server import s3_environment, s3_server_url  # noqa: F401 (fixtures)

FIRST_DAY = SMALL_SPEC.start
LAST_DAY = SMALL_SPEC.start + timedelta(days=SMALL_SPEC.days - 1)  # 6 days in the source


# -- the measure ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("loaded", "in_source", "limits", "verdict"),
    [
        (date(2018, 11, 30), date(2018, 11, 30), FreshnessLimits(), "ok"),
        (date(2018, 11, 29), date(2018, 11, 30), FreshnessLimits(), "ok"),
        (date(2018, 11, 28), date(2018, 11, 30), FreshnessLimits(), "warn"),
        (date(2018, 11, 27), date(2018, 11, 30), FreshnessLimits(), "warn"),
        (date(2018, 11, 26), date(2018, 11, 30), FreshnessLimits(), "error"),
        (None, date(2018, 11, 30), FreshnessLimits(), "error"),
        (None, None, FreshnessLimits(), "ok"),
        (date(2018, 11, 30), date(2018, 11, 30), FreshnessLimits(max_age_days=30), "error"),
        (date(2026, 11, 28), date(2026, 11, 28), FreshnessLimits(max_age_days=2), "ok"),
    ],
)
def test_lag_behind_the_source_and_optional_age(
    loaded: date | None, in_source: date | None, limits: FreshnessLimits, verdict: str
) -> None:
    measured = Freshness("staging_events", loaded, in_source, date(2026, 11, 29), limits)
    assert measured.verdict == verdict


def test_limits_must_be_ordered() -> None:
    with pytest.raises(ValueError, match="warn_lag_days <= error_lag_days"):
        FreshnessLimits(warn_lag_days=5, error_lag_days=2)


# -- through Dagster, on a real warehouse ----------------------------------------------------------


def _freshness_run(
    warehouse_url: str, source: Path, freshness: FreshnessResource, instance: dg.DagsterInstance
) -> dg.ExecuteInProcessResult:
    job_defs = dg.Definitions(
        asset_checks=freshness_checks,
        jobs=[freshness_checks_job],
        resources={**resources_for(warehouse_url, source), "freshness": freshness},
    )
    return job_defs.resolve_job_def("freshness_checks_job").execute_in_process(instance=instance)


def _by_table(result: dg.ExecuteInProcessResult) -> dict[str, dg.AssetCheckEvaluation]:
    evaluations = result.get_asset_check_evaluations()
    assert {e.check_name for e in evaluations} == {CHECK_NAME}
    return {e.asset_key.to_user_string(): e for e in evaluations}


def test_freshness_checks_warn_then_fail_then_pass(warehouse_url: str, small_source: Path) -> None:
    resources = resources_for(warehouse_url, small_source)
    three_days = [FIRST_DAY + timedelta(days=n) for n in range(3)]
    assert build_warehouse(defs, resources=resources, log_dates=three_days).succeeded

    with dg.DagsterInstance.ephemeral() as instance:
        behind = _by_table(
            _freshness_run(warehouse_url, small_source, FreshnessResource(), instance)
        )
        assert set(behind) == {"staging_events", "songplays", "time"}
        for evaluation in behind.values():  # 3 days behind: more than 1 (warn), not more than 3
            assert not evaluation.passed
            assert evaluation.severity == dg.AssetCheckSeverity.WARN
            assert evaluation.metadata["lag_days"].value == 3  # type: ignore[attr-defined]
            assert evaluation.metadata["newest_source_log_date"].value == str(LAST_DAY)  # type: ignore[attr-defined]

        strict = _by_table(
            _freshness_run(
                warehouse_url, small_source, FreshnessResource(error_lag_days=2), instance
            )
        )
        assert {e.severity for e in strict.values()} == {dg.AssetCheckSeverity.ERROR}

        # The checks show on the assets in the UI: the instance keeps their latest evaluation.
        record = instance.event_log_storage.get_latest_asset_check_execution_by_key(
            [dg.AssetCheckKey(dg.AssetKey("staging_events"), CHECK_NAME)]
        )
        assert record

    assert build_warehouse(defs, resources=resources).succeeded  # every day, freshness included
    with dg.DagsterInstance.ephemeral() as instance:
        fresh = _by_table(
            _freshness_run(warehouse_url, small_source, FreshnessResource(), instance)
        )
        assert all(e.passed for e in fresh.values())
        aged = _by_table(
            _freshness_run(
                warehouse_url, small_source, FreshnessResource(max_age_days=30), instance
            )
        )  # the sample data is from 2018: the wall-clock limit, when switched on, fails it
        assert {e.severity for e in aged.values() if not e.passed} == {dg.AssetCheckSeverity.ERROR}
        assert len([e for e in aged.values() if not e.passed]) == 3


def test_a_run_lists_the_source_once_for_its_three_checks(
    warehouse_url: str, small_source: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Listing every log file of a long history three times was a cost of every run that grew
    with the history: the checks of one run share one listing, and each run lists anew."""
    resources = resources_for(warehouse_url, small_source)
    assert build_warehouse(defs, resources=resources, log_dates=[FIRST_DAY]).succeeded
    listings: list[str] = []
    log_files = LocalSourceTree.log_files

    def counted(tree: LocalSourceTree) -> Iterator[tuple[date, SourceFile]]:
        listings.append(tree.url)
        return log_files(tree)

    monkeypatch.setattr(LocalSourceTree, "log_files", counted)
    with dg.DagsterInstance.ephemeral() as instance:
        for run in (1, 2):
            checked = _by_table(
                _freshness_run(warehouse_url, small_source, FreshnessResource(), instance)
            )
            assert len(checked) == 3
            assert len(listings) == run
            newest = {e.metadata["newest_source_log_date"].value for e in checked.values()}
            assert newest == {str(LAST_DAY)}


def test_a_full_build_reports_freshness(warehouse_url: str, small_source: Path) -> None:
    outcome = build_warehouse(defs, resources=resources_for(warehouse_url, small_source))
    fresh = [e for e in outcome.check_evaluations if e.check_name == CHECK_NAME]
    assert outcome.succeeded
    assert len(fresh) == 3 and all(e.passed for e in fresh)
    # measured once, in the run of the last range (after its tables), not in a run of its own
    # three runs: the catalog, the range of days, the analytics answers
    assert len(outcome.runs) == 3
    assert [sum(e.check_name == CHECK_NAME for e in r.check_evaluations) for r in outcome.runs] == [
        0,
        3,
        0,
    ]


# -- alerts ----------------------------------------------------------------------------------------


class WebhookReceiver:
    """A local HTTP server that records the JSON bodies POSTed to it (answering ``status``)."""

    def __init__(self, status: int = 200) -> None:
        self.bodies: list[dict[str, Any]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # quiet
                pass

            def do_POST(self) -> None:
                length = int(self.headers["Content-Length"])
                receiver.bodies.append(json.loads(self.rfile.read(length)))
                self.send_response(status)
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks/secret-token-123"

    def __enter__(self) -> WebhookReceiver:
        self.thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def webhook() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as receiver:
        yield receiver


@pytest.fixture
def sns_topic(s3_environment: str) -> Iterator[tuple[str, Any, str]]:  # noqa: F811
    """An SNS topic on the moto server, with an SQS queue subscribed to read what it received."""
    sns = boto3.client("sns", region_name="us-east-1")
    sqs = boto3.client("sqs", region_name="us-east-1")
    topic_arn = sns.create_topic(Name="sparkify-alerts")["TopicArn"]
    queue_url = sqs.create_queue(QueueName="sparkify-alerts-inbox")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)
    yield topic_arn, sqs, queue_url
    sqs.delete_queue(QueueUrl=queue_url)
    sns.delete_topic(TopicArn=topic_arn)


def _received(sqs: Any, queue_url: str) -> list[dict[str, Any]]:
    messages = sqs.receive_message(
        QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1
    ).get("Messages", [])
    return [json.loads(m["Body"]) for m in messages]


def test_a_failed_run_is_alerted_to_sns_and_the_webhook(
    warehouse_url: str,
    small_source: Path,
    sns_topic: tuple[str, Any, str],
    webhook: WebhookReceiver,
    tmp_path: Path,
) -> None:
    topic_arn, sqs, queue_url = sns_topic
    missing_day = (LAST_DAY + timedelta(days=5)).isoformat()  # no file for it in the source
    # a persistent instance (run and event storage on disk), as the daemon's
    with dg.DagsterInstance.local_temp(str(tmp_path)) as instance:
        failed = dg.materialize(
            list(defs.assets or []),  # type: ignore[arg-type]
            selection=["staging_events"],
            partition_key=missing_day,
            resources=resources_for(warehouse_url, small_source),
            instance=instance,
            raise_on_error=False,
        )
        assert not failed.success
        context = dg.build_run_status_sensor_context(
            sensor_name="run_failure_alert",
            dagster_event=failed.get_run_failure_event(),
            dagster_instance=instance,
            dagster_run=failed.dagster_run,
            resources={"alerts": AlertResource(sns_topic_arn=topic_arn, webhook_url=webhook.url)},
        ).for_run_failure()
        run_failure_alert(context)

    [notification] = _received(sqs, queue_url)
    assert notification["Subject"] == "sparkify: run of __ephemeral_asset_job__ failed"
    published = json.loads(notification["Message"])
    assert published["kind"] == "run_failure"
    assert published["run_id"] == failed.run_id
    assert published["partition"] == missing_day
    assert "staging_events" in published["text"]
    [posted] = webhook.bodies
    assert posted == published


def test_a_failed_check_in_a_successful_run_is_alerted(
    warehouse_url: str, small_source: Path, webhook: WebhookReceiver
) -> None:
    resources = resources_for(warehouse_url, small_source)
    assert build_warehouse(defs, resources=resources, log_dates=[FIRST_DAY]).succeeded
    with dg.DagsterInstance.ephemeral() as instance:
        checks_run = _freshness_run(warehouse_url, small_source, FreshnessResource(), instance)
        assert checks_run.success  # a failed check does not fail the run: the alert says it
        alerts = AlertResource(webhook_url=webhook.url)

        def evaluate() -> None:
            check_failure_alert(
                dg.build_run_status_sensor_context(
                    sensor_name="check_failure_alert",
                    dagster_event=checks_run.get_run_success_event(),
                    dagster_instance=instance,
                    dagster_run=checks_run.dagster_run,
                    resources={"alerts": alerts},
                )
            )

        evaluate()
        [posted] = webhook.bodies
        assert posted["kind"] == "check_failure"
        assert sorted(posted["failed_checks"]) == [
            f"ERROR {table}.fresh_vs_source: {table}: newest log day {FIRST_DAY}, 5 day(s)"
            f" behind the source ({LAST_DAY})"
            for table in ("songplays", "staging_events", "time")
        ]

        # A load run is behind the source until the last one: its freshness is not alerted
        # (the hourly job's is), its other checks are.
        load = dg.materialize(
            [*(defs.assets or []), *freshness_checks],  # type: ignore[list-item]
            selection=["staging_events"],
            partition_key=(FIRST_DAY + timedelta(days=1)).isoformat(),
            resources={
                **resources,
                "freshness": FreshnessResource(warn_lag_days=0, error_lag_days=0),
            },
            instance=instance,
        )
        assert [
            (e.check_name, e.passed, e.severity)
            for e in load.get_asset_check_evaluations()
            if e.check_name == CHECK_NAME
        ] == [(CHECK_NAME, False, dg.AssetCheckSeverity.ERROR)]
        webhook.bodies.clear()
        check_failure_alert(
            dg.build_run_status_sensor_context(
                sensor_name="check_failure_alert",
                dagster_event=load.get_run_success_event(),
                dagster_instance=instance,
                dagster_run=load.dagster_run,
                resources={"alerts": alerts},
            )
        )
        assert webhook.bodies == []

        # A successful run with nothing failed is not alerted.
        assert build_warehouse(defs, resources=resources).succeeded
        webhook.bodies.clear()
        checks_run = _freshness_run(warehouse_url, small_source, FreshnessResource(), instance)
        evaluate()
        assert webhook.bodies == []


def test_an_undelivered_alert_fails_the_tick_without_leaking_the_url() -> None:
    logged: list[str] = []
    with WebhookReceiver(status=500) as receiver:
        with pytest.raises(Exception, match="webhook: HTTPError") as raised:
            deliver(Alert("sparkify: test", "text"), logged.append, webhook_url=receiver.url)
        assert receiver.bodies  # it was tried
    assert "secret-token-123" not in str(raised.value)
    assert logged and logged[0].startswith("ALERT sparkify: test")
    assert not any("secret-token-123" in line for line in logged)


def test_without_a_channel_an_alert_is_only_logged() -> None:
    logged: list[str] = []
    assert deliver(Alert("sparkify: run failed", "details"), logged.append) == []
    assert logged == ["ALERT sparkify: run failed: details"]


def test_the_alert_sensors_are_registered_and_running() -> None:
    for name in ("run_failure_alert", "check_failure_alert"):
        sensor = defs.resolve_sensor_def(name)
        assert sensor.default_status == dg.DefaultSensorStatus.RUNNING
    schedule = defs.resolve_schedule_def("freshness_checks_schedule")
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING
