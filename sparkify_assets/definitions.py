"""The code location: every asset, check, job, sensor and resource of sparkify_assets."""

import warnings

import dagster as dg

from sparkify_assets.defs import analytics_assets, backup_assets, staging_assets, star_assets
from sparkify_assets.defs.backup_resource import BackupResource
from sparkify_assets.defs.failure_alerts import (
    alert_resource_from_environment,
    check_failure_alert,
    run_failure_alert,
)
from sparkify_assets.defs.freshness_checks import (
    freshness_checks,
    freshness_checks_job,
    freshness_checks_schedule,
    freshness_resource_from_environment,
)
from sparkify_assets.defs.redshift_cluster_jobs import (
    redshift_cluster_jobs,
    redshift_cluster_resources,
)
from sparkify_assets.defs.resources import SourceResource, WarehouseResource
from sparkify_assets.defs.restore_job import warehouse_restore
from sparkify_assets.defs.source_sensors import log_data_sensor, song_data_sensor
from sparkify_assets.defs.star_schema_automation import star_schema_automation_sensor
from sparkify_assets.settings.environment import (
    deployment_mode_at_load,
    env_int_setting,
    env_setting,
)

with warnings.catch_warnings():  # code references are a beta API; they work as documented
    warnings.simplefilter("ignore", dg.BetaWarning)
    assets = dg.with_source_code_references(
        [
            *dg.load_assets_from_modules(
                [staging_assets, star_assets, analytics_assets, backup_assets]
            )
        ]
    )

defs = dg.Definitions(
    assets=assets,
    # Every step waits on the warehouse (SQL, COPY): running steps in the run's own process saves a
    # process start per step, the bulk of a small run's time, and loses no parallelism that matters.
    executor=dg.in_process_executor,
    asset_checks=freshness_checks,
    jobs=[*redshift_cluster_jobs, warehouse_restore, freshness_checks_job],
    schedules=[freshness_checks_schedule],
    resources={
        **redshift_cluster_resources,
        "source": SourceResource(
            url=env_setting("SPARKIFY_SOURCE_URL"),
            warehouse_url=env_setting("SPARKIFY_WAREHOUSE_URL"),
            deployment_mode=deployment_mode_at_load(),
            s3_endpoint_url=env_setting("SPARKIFY_S3_ENDPOINT_URL"),
            s3_region=env_setting("AWS_REGION"),
            log_full_listing_interval_seconds=env_int_setting(
                "SPARKIFY_LOG_FULL_LISTING_INTERVAL_SECONDS", 600
            ),
        ),
        "warehouse": WarehouseResource(
            url=env_setting("SPARKIFY_WAREHOUSE_URL"),
            password=env_setting("SPARKIFY_WAREHOUSE_PASSWORD"),
            iam_role_arn=env_setting("SPARKIFY_REDSHIFT_IAM_ROLE_ARN"),
            region=env_setting("AWS_REGION"),
            schema_name=env_setting("SPARKIFY_WAREHOUSE_SCHEMA", "public"),
            redshift_staging_url=env_setting("SPARKIFY_REDSHIFT_STAGING_URL"),
            redshift_connect_timeout_seconds=env_int_setting(
                "SPARKIFY_REDSHIFT_CONNECT_TIMEOUT_SECONDS", 30
            ),
            redshift_statement_timeout_seconds=env_int_setting(
                "SPARKIFY_REDSHIFT_STATEMENT_TIMEOUT_SECONDS", 10_800
            ),
        ),
        "backup": BackupResource(
            url=env_setting("SPARKIFY_BACKUP_URL"),
            kms_key_id=env_setting("SPARKIFY_BACKUP_KMS_KEY_ID"),
            snapshot_retention=env_int_setting("SPARKIFY_BACKUP_SNAPSHOT_RETENTION", 7),
            s3_endpoint_url=env_setting("SPARKIFY_S3_ENDPOINT_URL"),
            s3_region=env_setting("AWS_REGION"),
        ),
        "freshness": freshness_resource_from_environment(),
        "alerts": alert_resource_from_environment(),
    },
    sensors=[
        log_data_sensor,
        song_data_sensor,
        star_schema_automation_sensor,
        run_failure_alert,
        check_failure_alert,
    ],
)
