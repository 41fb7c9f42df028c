"""Alert sensors: a run that fails, and a check that fails in a run that succeeded; a channel that
refuses the alert fails the tick and the cursor stays put (docs/operations.md, "Alerts")."""

import logging

import dagster as dg
from pydantic import Field

from sparkify_assets.alerts.delivery import Alert, AlertDeliveryFailed, deliver
from sparkify_assets.defs.freshness_checks import CHECK_NAME as FRESHNESS_CHECK
from sparkify_assets.defs.freshness_checks import freshness_checks_job
from sparkify_assets.settings.environment import env_setting

ERROR_TEXT_LIMIT = 2_000
FRESHNESS_JOB = freshness_checks_job.name


class AlertResource(dg.ConfigurableResource):
    """Where alerts go besides the log. Both empty: the log only."""

    sns_topic_arn: str = Field(
        default="", description="SPARKIFY_ALERT_SNS_TOPIC_ARN: an SNS topic to publish alerts to."
    )
    webhook_url: str = Field(
        default="",
        description=(
            "SPARKIFY_ALERT_WEBHOOK_URL: an http(s) URL alerts are POSTed to as JSON (with a"
            " `text` field, as Slack-style incoming webhooks expect). Treated as a secret."
        ),
    )
    region: str = Field(default="", description="AWS_REGION; empty = the topic ARN's region.")
    alert_on_warnings: bool = Field(
        default=False,
        description="Also alert on failed WARN-severity checks (ERROR ones always alert).",
    )

    def send(self, alert: Alert, log: logging.Logger | dg.DagsterLogManager) -> list[str]:
        write = log.warning
        return deliver(
            alert,
            write,
            sns_topic_arn=self.sns_topic_arn,
            webhook_url=self.webhook_url,
            region=self.region,
        )


def alert_resource_from_environment() -> AlertResource:
    return AlertResource(
        sns_topic_arn=env_setting("SPARKIFY_ALERT_SNS_TOPIC_ARN"),
        webhook_url=env_setting("SPARKIFY_ALERT_WEBHOOK_URL"),
        region=env_setting("AWS_REGION"),
    )


def failed_checks(
    instance: dg.DagsterInstance, run_id: str, *, include_warnings: bool
) -> list[dg.AssetCheckEvaluation]:
    """The failed check evaluations a run recorded (ERROR severity; WARN too if asked)."""
    failed = []
    for record in instance.all_logs(run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION):
        evaluation = record.get_dagster_event().event_specific_data
        if not isinstance(evaluation, dg.AssetCheckEvaluation) or evaluation.passed:
            continue
        if include_warnings or evaluation.severity == dg.AssetCheckSeverity.ERROR:
            failed.append(evaluation)
    return failed


def _check_lines(evaluations: list[dg.AssetCheckEvaluation]) -> list[str]:
    lines = []
    for e in evaluations:
        summary = e.metadata.get("summary") or e.description or ""
        text = getattr(summary, "value", summary)
        lines.append(
            f"{e.severity.value} {e.asset_key.to_user_string()}.{e.check_name}"
            + (f": {text}" if text else "")
        )
    return lines


def _run_details(run: dg.DagsterRun) -> dict[str, object]:
    return {
        "run_id": run.run_id,
        "job": run.job_name,
        "partition": run.tags.get("dagster/partition")
        or (
            f"{run.tags['dagster/asset_partition_range_start']}.."
            f"{run.tags['dagster/asset_partition_range_end']}"
            if "dagster/asset_partition_range_start" in run.tags
            else None
        ),
    }


@dg.run_failure_sensor(
    name="run_failure_alert",
    description=(
        "Alerts when a run of this code location fails: logs it, and publishes it to"
        " SPARKIFY_ALERT_SNS_TOPIC_ARN / POSTs it to SPARKIFY_ALERT_WEBHOOK_URL when set."
    ),
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=30,
)
def run_failure_alert(context: dg.RunFailureSensorContext, alerts: AlertResource) -> None:
    run = context.dagster_run
    error = context.failure_event.message or "no message"
    checks = failed_checks(context.instance, run.run_id, include_warnings=alerts.alert_on_warnings)
    details = _run_details(run)
    text = f"Run {run.run_id} of {run.job_name} failed: {error[:ERROR_TEXT_LIMIT]}"
    if checks:
        text += "\nFailed checks:\n" + "\n".join(_check_lines(checks))
    alert = Alert(
        subject=f"sparkify: run of {run.job_name} failed",
        text=text,
        details={**details, "kind": "run_failure", "failed_checks": _check_lines(checks)},
    )
    try:
        alerts.send(alert, context.log)
    except AlertDeliveryFailed as failure:
        raise dg.Failure(description=str(failure)) from None


@dg.run_status_sensor(
    name="check_failure_alert",
    run_status=dg.DagsterRunStatus.SUCCESS,
    description=(
        "Alerts when a run succeeds but one of its asset checks failed (ERROR severity, or WARN"
        " with the alerts resource's alert_on_warnings): the freshness checks' schedule, a"
        " load whose row count or uniqueness check failed without blocking."
    ),
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=30,
)
def check_failure_alert(context: dg.RunStatusSensorContext, alerts: AlertResource) -> None:
    run = context.dagster_run
    checks = [
        e
        for e in failed_checks(
            context.instance, run.run_id, include_warnings=alerts.alert_on_warnings
        )
        # Freshness is alerted from its hourly job only: a load run of an old day, or each run of
        # a catch-up, is "behind" until the last one, and would alert once per run.
        if e.check_name != FRESHNESS_CHECK or run.job_name == FRESHNESS_JOB
    ]
    if not checks:
        return
    lines = _check_lines(checks)
    alert = Alert(
        subject=f"sparkify: {len(checks)} check(s) failed in a run of {run.job_name}",
        text=f"Run {run.run_id} of {run.job_name} succeeded, but:\n" + "\n".join(lines),
        details={**_run_details(run), "kind": "check_failure", "failed_checks": lines},
    )
    try:
        alerts.send(alert, context.log)
    except AlertDeliveryFailed as failure:
        raise dg.Failure(description=str(failure)) from None
