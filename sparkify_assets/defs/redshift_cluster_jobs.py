"""The Redshift cluster's lifecycle as five idempotent Dagster jobs (up, status, pause, resume,
down) and the resource that gives them the spec and AWS clients, resolved when a run starts, never
at import (docs/redshift_cluster.md)."""

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import Any

import botocore.loaders
import botocore.session
import dagster as dg
from botocore.exceptions import BotoCoreError, ClientError
from pydantic import Field

from sparkify_assets.cluster.aws_context import ClusterAwsClients, ProgressLog, WaitSettings
from sparkify_assets.cluster.cluster_description import cluster_summary
from sparkify_assets.cluster.errors import (
    RedshiftClusterError,
    RedshiftClusterSpecError,
    error_code,
)
from sparkify_assets.cluster.etl_user import administrator_script
from sparkify_assets.cluster.lifecycle import RedshiftClusterLifecycle
from sparkify_assets.cluster.spec import RedshiftClusterSpec, load_redshift_cluster_spec
from sparkify_assets.defs.aws_client_resource import AwsClientResource

REDSHIFT_CLUSTER_RESOURCE_KEY = "redshift_cluster_aws"
MASTER_PASSWORD_ENV_VAR = "SPARKIFY_REDSHIFT_MASTER_PASSWORD"
_JOB_TAGS = {"sparkify/area": "redshift-cluster", "sparkify/team": "data-engineering"}


class RedshiftClusterAwsResource(AwsClientResource):
    """AWS clients (Redshift, IAM, EC2) for the cluster jobs, and where the cluster spec is.

    Credentials come from the standard AWS chain (environment, shared config and profiles, SSO,
    container or instance role) unless ``profile_name`` or explicit keys are configured. The
    endpoint is ``endpoint_url`` when set, else whatever botocore resolves (``AWS_ENDPOINT_URL``
    and ``AWS_ENDPOINT_URL_<SERVICE>`` included). The region is ``region_name`` when set, else
    ``AWS_REGION``, else ``AWS_DEFAULT_REGION``, else the spec's ``cluster.region``.
    """

    spec_path: str = Field(
        default="",
        description=(
            "Path of the cluster specification (TOML). Empty: $SPARKIFY_CLUSTER_SPEC, else"
            " infra/redshift_cluster.toml of the checkout or of the installed package."
        ),
    )
    wait_delay_seconds: float = Field(
        default=30.0, description="Seconds between two checks while waiting for a cluster state."
    )
    wait_max_attempts: int = Field(
        default=80,
        description="Checks before giving up on a state (timeout = delay x attempts; 40 min).",
    )
    master_password: str = Field(
        default="",
        description=(
            "Only when the spec sets manage_master_password = false: the master password, best"
            f" given as {{'env': '{MASTER_PASSWORD_ENV_VAR}'}}; empty reads that variable."
        ),
    )

    def load_spec(self) -> RedshiftClusterSpec:
        return load_redshift_cluster_spec(self.spec_path or None)

    def resolved_region(self, spec: RedshiftClusterSpec) -> str:
        for candidate in (
            self.region_name,
            os.environ.get("AWS_REGION"),
            os.environ.get("AWS_DEFAULT_REGION"),
        ):
            if candidate and candidate.strip():
                return candidate.strip()
        return spec.region

    def resolved_master_password(self) -> str:
        return self.master_password or os.environ.get(MASTER_PASSWORD_ENV_VAR, "")

    def wait_settings(self) -> WaitSettings:
        return WaitSettings(
            delay_seconds=self.wait_delay_seconds, max_attempts=max(1, self.wait_max_attempts)
        )

    def clients(self, spec: RedshiftClusterSpec) -> ClusterAwsClients:
        """Redshift, IAM and EC2 clients (made when first used) for the resolved region."""
        region = self.resolved_region(spec)
        session = botocore.session.Session(profile=self.profile_name)
        session.register_component("data_loader", _service_model_loader())
        retries = self.retry_config()

        def make_client(service_name: str) -> Any:
            # endpoint_url None: botocore resolves AWS_ENDPOINT_URL(_<SERVICE>) itself
            return session.create_client(
                service_name,
                region_name=region,
                endpoint_url=self.endpoint_url or None,
                use_ssl=self.use_ssl,
                verify=self.verify,
                config=retries,
                aws_access_key_id=self.aws_access_key_id,
                aws_secret_access_key=self.aws_secret_access_key,
                aws_session_token=self.aws_session_token,
            )

        return ClusterAwsClients(region, make_client)

    def lifecycle(self, log: ProgressLog) -> RedshiftClusterLifecycle:
        """The spec's cluster, ready to be worked on, reporting to ``log``."""
        spec = self.load_spec()
        return RedshiftClusterLifecycle(spec, self.clients(spec), log, self.wait_settings())


@cache
def _service_model_loader() -> botocore.loaders.Loader:
    """One botocore loader per process, so each service model is parsed once rather than for
    every client of every step (the EC2 model alone takes about a second to parse)."""
    return botocore.loaders.create_loader()


@contextmanager
def _explained_failures() -> Iterator[None]:
    """Turns the errors a person can act on into a ``dg.Failure`` that says what to do."""
    try:
        yield
    except (RedshiftClusterSpecError, RedshiftClusterError) as error:
        raise dg.Failure(description=str(error), allow_retries=False) from error
    except ClientError as error:
        raise dg.Failure(
            description=f"AWS refused: {error_code(error)}: {error}",
            metadata={"aws_error_code": error_code(error)},
        ) from error
    except BotoCoreError as error:  # no credentials, no region, endpoint unreachable, ...
        raise dg.Failure(description=f"AWS client error: {error}") from error


# ---- ownership (first step of up and down) -------------------------------------------------


@dg.op(
    description=(
        "Checks that every existing resource with a configured name (roles, security group,"
        " cluster, parameter group, scheduled actions) carries the managed-by tag; stops before"
        " any change otherwise."
    ),
    out=dg.Out(dg.Nothing),
)
def redshift_cluster_ownership_checked(
    context: dg.OpExecutionContext, redshift_cluster_aws: RedshiftClusterAwsResource
) -> dg.Output[None]:
    with _explained_failures():
        lifecycle = redshift_cluster_aws.lifecycle(context.log)
        lifecycle.refuse_foreign_resources()
    context.log.info(
        f"every existing resource named in {lifecycle.spec.source_path.name} carries managed-by ="
        f" {lifecycle.spec.managed_by}"
    )
    return dg.Output(None, metadata={"managed_by": lifecycle.spec.managed_by})


# ---- redshift_cluster_up --------------------------------------------------------------------


@dg.op(
    description=(
        "Creates (or reuses) the IAM role Redshift assumes to read the source data, for the ETL"
        " database user only."
    ),
    ins={"owned": dg.In(dg.Nothing)},
    out=dg.Out(str, description="The role's ARN."),
)
def redshift_cluster_iam_role(
    context: dg.OpExecutionContext, redshift_cluster_aws: RedshiftClusterAwsResource
) -> dg.Output[str]:
    with _explained_failures():
        lifecycle = redshift_cluster_aws.lifecycle(context.log)
        role_arn = lifecycle.ensure_iam_role()
        role = lifecycle.spec.cluster_role(lifecycle.account)
    return dg.Output(
        role_arn,
        metadata={
            "iam_role_arn": role_arn,
            "permission_policy": dg.MetadataValue.json(json.loads(role.policies[0].document)),
            "trust_policy": dg.MetadataValue.json(json.loads(role.trust_policy)),
        },
    )


@dg.op(
    description=(
        "Creates (or reuses) the cluster's security group (only the cluster port, only from the"
        " spec's CIDR) and, with enhanced VPC routing, the S3 gateway endpoint on the cluster's"
        " route tables."
    ),
    ins={"owned": dg.In(dg.Nothing)},
    out=dg.Out(str, description="The security group's id."),
)
def redshift_cluster_network_access(
    context: dg.OpExecutionContext, redshift_cluster_aws: RedshiftClusterAwsResource
) -> dg.Output[str]:
    with _explained_failures():
        lifecycle = redshift_cluster_aws.lifecycle(context.log)
        for warning in lifecycle.spec.warnings():
            context.log.warning(warning)
        group_id = lifecycle.ensure_network_access()
        endpoint_id = lifecycle.ensure_s3_gateway_endpoint()
    return dg.Output(
        group_id,
        metadata={
            "security_group_id": group_id,
            "allowed_cidr": lifecycle.spec.allowed_cidr,
            "port": lifecycle.spec.port,
            "s3_gateway_endpoint_id": endpoint_id,
        },
    )


@dg.op(
    description=(
        "Creates (or reuses) the cluster's parameter group: require_ssl and"
        " enable_user_activity_logging on."
    ),
    ins={"owned": dg.In(dg.Nothing)},
    out=dg.Out(str, description="The parameter group's name."),
)
def redshift_cluster_parameter_group(
    context: dg.OpExecutionContext, redshift_cluster_aws: RedshiftClusterAwsResource
) -> dg.Output[str]:
    with _explained_failures():
        lifecycle = redshift_cluster_aws.lifecycle(context.log)
        values = lifecycle.ensure_parameter_group()
    name = lifecycle.spec.parameter_group_name
    return dg.Output(
        name,
        metadata={
            "parameter_group": name,
            "require_ssl": values.get("require_ssl", ""),
            "enable_user_activity_logging": values.get("enable_user_activity_logging", ""),
        },
    )


@dg.op(
    description=(
        "Creates the cluster (or restores it from its newest snapshot when the spec asks, or"
        " reuses it, resuming it when paused)."
    ),
    out=dg.Out(str, description="The cluster's identifier."),
)
def redshift_cluster_created(
    context: dg.OpExecutionContext,
    redshift_cluster_aws: RedshiftClusterAwsResource,
    iam_role_arn: str,
    security_group_id: str,
    parameter_group: str,
) -> dg.Output[str]:
    with _explained_failures():
        lifecycle = redshift_cluster_aws.lifecycle(context.log)
        cluster = lifecycle.ensure_cluster(
            iam_role_arn,
            security_group_id,
            master_password=(
                ""
                if lifecycle.spec.manage_master_password
                else redshift_cluster_aws.resolved_master_password()
            ),
        )
    return dg.Output(
        lifecycle.spec.identifier,
        metadata={
            "status": cluster.get("ClusterStatus", "unknown"),
            "parameter_group": parameter_group,
        },
    )


@dg.op(
    description=(
        "Waits until the cluster is available, brings its role, security group, public access,"
        " parameter group, enhanced VPC routing and audit logging in line with the spec, and"
        " records how the warehouse connects to it."
    ),
    out=dg.Out(dict, description="The warehouse's settings (no password): variable -> value."),
)
def redshift_cluster_available(
    context: dg.OpExecutionContext,
    redshift_cluster_aws: RedshiftClusterAwsResource,
    iam_role_arn: str,
    security_group_id: str,
    cluster_identifier: str,
) -> dg.Output[dict[str, str]]:
    with _explained_failures():
        lifecycle = redshift_cluster_aws.lifecycle(context.log)
        lifecycle.wait_until_available()
        cluster = lifecycle.converge_cluster(iam_role_arn, security_group_id)
        connection = lifecycle.connection(cluster, iam_role_arn)
    environment = connection.environment()
    context.log.info(
        f"cluster {cluster_identifier} is ready; point the warehouse at it (as database user"
        f" {connection.etl_user}, IAM authentication, no password) with:\n"
        + "\n".join(f"export {name}='{value}'" for name, value in environment.items())
    )
    summary = cluster_summary(cluster)
    metadata: dict[str, Any] = {
        "warehouse_url": connection.warehouse_url,
        "iam_role_arn": connection.iam_role_arn,
        "cluster_identifier": connection.cluster_identifier,
        "region": connection.region,
        "endpoint_host": connection.host,
        "endpoint_port": connection.port,
        "number_of_nodes": summary["number_of_nodes"],
        "node_type": summary["node_type"],
        "encrypted": summary["encrypted"],
        "publicly_accessible": summary["publicly_accessible"],
        "enhanced_vpc_routing": summary["enhanced_vpc_routing"],
        "parameter_groups": dg.MetadataValue.json(summary["parameter_groups"]),
        "audit_logging": lifecycle.spec.audit_logging.destination,
        "security_group_id": security_group_id,
        "etl_user": connection.etl_user,
    }
    if connection.master_password_secret_arn:
        metadata["master_password_secret_arn"] = connection.master_password_secret_arn
    return dg.Output(environment, metadata=metadata)


@dg.op(
    description=(
        "Creates the scheduled actions that resume and pause the cluster at the spec's hours (and"
        " their role), or removes them when the schedule is off (the default)."
    ),
    ins={"ready": dg.In(dg.Nothing)},
    out=dg.Out(dg.Nothing),
)
def redshift_cluster_schedule(
    context: dg.OpExecutionContext, redshift_cluster_aws: RedshiftClusterAwsResource
) -> dg.Output[None]:
    with _explained_failures():
        lifecycle = redshift_cluster_aws.lifecycle(context.log)
        names = lifecycle.ensure_schedule()
    schedule = lifecycle.spec.schedule
    metadata: dict[str, Any] = {"enabled": schedule.enabled}
    if schedule.enabled:
        metadata.update(
            scheduled_actions=dg.MetadataValue.json(names),
            resume=schedule.cron(schedule.resume_at_utc),
            pause=schedule.cron(schedule.pause_at_utc),
        )
    return dg.Output(None, metadata=metadata)


@dg.op(
    description=(
        "Prints the SQL an administrator runs once as the master user to create the ETL database"
        " user (no password, IAM authentication) and its grants, and the IAM policy the loads'"
        " identity needs."
    ),
    ins={"ready": dg.In(dg.Nothing)},
    out=dg.Out(dg.Nothing),
)
def redshift_cluster_etl_user_sql(
    context: dg.OpExecutionContext, redshift_cluster_aws: RedshiftClusterAwsResource
) -> dg.Output[None]:
    with _explained_failures():
        lifecycle = redshift_cluster_aws.lifecycle(context.log)
        script = administrator_script(lifecycle.spec)
        connect_policy = lifecycle.spec.etl_connect_policy_document(lifecycle.account)
    context.log.info(
        f"once, as the master user, create the ETL user {lifecycle.spec.etl_user} the loads"
        f" connect as:\n{script}"
    )
    context.log.info(
        "the AWS identity that runs the loads needs this policy (temporary credentials for"
        f" {lifecycle.spec.etl_user} only):\n{connect_policy}"
    )
    return dg.Output(
        None,
        metadata={
            "etl_user": lifecycle.spec.etl_user,
            "administrator_sql": dg.MetadataValue.md(f"```sql\n{script}```"),
            "etl_connect_policy": dg.MetadataValue.json(json.loads(connect_policy)),
        },
    )


@dg.job(
    name="redshift_cluster_up",
    description=(
        "Creates or reuses the Redshift cluster of infra/redshift_cluster.toml: IAM role (read"
        " the configured S3 prefixes only, for the ETL user only), security group (cluster port"
        " from the configured CIDR only), S3 gateway endpoint, parameter group requiring SSL,"
        " encrypted cluster with enhanced VPC routing, audit logging and a Redshift-managed master"
        " password (or restored from its newest snapshot); waits until it is available, records"
        " warehouse_url and iam_role_arn, prints the ETL user's SQL. Refuses, before any change,"
        " resources of those names that lack the managed-by tag."
    ),
    tags=_JOB_TAGS,
)
def redshift_cluster_up() -> None:
    owned = redshift_cluster_ownership_checked()
    role_arn = redshift_cluster_iam_role(owned=owned)
    group_id = redshift_cluster_network_access(owned=owned)
    parameter_group = redshift_cluster_parameter_group(owned=owned)
    identifier = redshift_cluster_created(role_arn, group_id, parameter_group)
    environment = redshift_cluster_available(role_arn, group_id, identifier)
    redshift_cluster_schedule(ready=environment)
    redshift_cluster_etl_user_sql(ready=environment)


# ---- redshift_cluster_status ----------------------------------------------------------------


@dg.op(
    description="Reports the cluster's state, endpoint, nodes, role and network access.",
    out=dg.Out(dict, description="The cluster's summary ({'status': 'absent'} if none)."),
)
def redshift_cluster_status_report(
    context: dg.OpExecutionContext, redshift_cluster_aws: RedshiftClusterAwsResource
) -> dg.Output[dict[str, Any]]:
    with _explained_failures():
        lifecycle = redshift_cluster_aws.lifecycle(context.log)
        cluster = lifecycle.describe_cluster()
        role_arn = lifecycle.iam_role_arn()
        try:
            group_id = lifecycle.security_group_id(lifecycle.cluster_vpc_id())
        except RedshiftClusterError as error:  # no default VPC: then no group either
            context.log.warning(str(error))
            group_id = None
        ingress = (
            [
                f"{rule.get('IpProtocol')} {rule.get('FromPort')}-{rule.get('ToPort')}"
                f" from {rule.get('CidrIpv4') or rule.get('CidrIpv6') or '?'}"
                for rule in lifecycle.ingress_rules(group_id)
            ]
            if group_id
            else []
        )
    spec = lifecycle.spec
    summary: dict[str, Any] = (
        cluster_summary(cluster) if cluster is not None else {"status": "absent"}
    )
    summary.update(
        cluster_identifier=spec.identifier,
        region=lifecycle.clients.region,
        iam_role_arn=role_arn or "",
        security_group_id=group_id or "",
        ingress=ingress,
    )
    if cluster is not None:
        with _explained_failures():
            logging = lifecycle.clients.redshift.describe_logging_status(
                ClusterIdentifier=spec.identifier
            )
            scheduled = sorted(lifecycle.scheduled_actions())
        summary["audit_logging"] = (
            str(logging.get("LogDestinationType", "")) if logging.get("LoggingEnabled") else "off"
        )
        summary["scheduled_actions"] = scheduled
    if cluster is not None and cluster.get("Endpoint", {}).get("Address") and role_arn:
        summary["warehouse_url"] = lifecycle.connection(cluster, role_arn).warehouse_url
    context.log.info(
        f"cluster {spec.identifier} in {summary['region']}: {summary['status']}"
        + (
            f", {summary['number_of_nodes']} x {summary['node_type']}, endpoint"
            f" {summary['endpoint'] or '(none yet)'}, roles {summary['iam_roles']}"
            if cluster is not None
            else " (run redshift_cluster_up to create it)"
        )
        + f"; IAM role {role_arn or 'absent'}; ingress {ingress or 'none'}"
    )
    metadata = {
        key: dg.MetadataValue.json(value) if isinstance(value, list) else value
        for key, value in summary.items()
    }
    return dg.Output(summary, metadata=metadata)


@dg.job(
    name="redshift_cluster_status",
    description=(
        "Reports the Redshift cluster's state, endpoint, nodes, IAM role, ingress, parameter"
        " group, enhanced VPC routing, audit logging and schedule."
    ),
    tags=_JOB_TAGS,
)
def redshift_cluster_status() -> None:
    redshift_cluster_status_report()


# ---- redshift_cluster_pause / redshift_cluster_resume ---------------------------------------


@dg.op(description="Pauses the available cluster and waits until it is paused.")
def redshift_cluster_paused(
    context: dg.OpExecutionContext, redshift_cluster_aws: RedshiftClusterAwsResource
) -> dg.Output[str]:
    with _explained_failures():
        lifecycle = redshift_cluster_aws.lifecycle(context.log)
        found = lifecycle.pause()
    state = "paused" if found else "absent"
    return dg.Output(state, metadata={"status": state})


@dg.job(
    name="redshift_cluster_pause",
    description=(
        "Pauses the Redshift cluster: compute is no longer billed (storage still is) until"
        " redshift_cluster_resume. No cluster: nothing to do."
    ),
    tags=_JOB_TAGS,
)
def redshift_cluster_pause() -> None:
    redshift_cluster_paused()


@dg.op(description="Resumes the paused cluster and waits until it is available.")
def redshift_cluster_resumed(
    context: dg.OpExecutionContext, redshift_cluster_aws: RedshiftClusterAwsResource
) -> dg.Output[str]:
    with _explained_failures():
        lifecycle = redshift_cluster_aws.lifecycle(context.log)
        lifecycle.resume()
    return dg.Output("available", metadata={"status": "available"})


@dg.job(
    name="redshift_cluster_resume",
    description="Resumes the paused Redshift cluster and waits until it is available.",
    tags=_JOB_TAGS,
)
def redshift_cluster_resume() -> None:
    redshift_cluster_resumed()


# ---- redshift_cluster_down ------------------------------------------------------------------


@dg.op(
    description="Deletes the scheduled actions and the scheduler role, if any.",
    ins={"owned": dg.In(dg.Nothing)},
    out=dg.Out(dg.Nothing),
)
def redshift_cluster_schedule_removed(
    context: dg.OpExecutionContext, redshift_cluster_aws: RedshiftClusterAwsResource
) -> dg.Output[None]:
    with _explained_failures():
        removed = redshift_cluster_aws.lifecycle(context.log).remove_schedule()
    return dg.Output(None, metadata={"deleted": dg.MetadataValue.json(removed)})


@dg.op(
    description=(
        "Deletes the cluster after a final snapshot (unless the spec says final_snapshot = false,"
        " which is logged as a warning) and waits until it is gone."
    ),
    ins={"unscheduled": dg.In(dg.Nothing)},
    out=dg.Out(dg.Nothing),
)
def redshift_cluster_deleted(
    context: dg.OpExecutionContext, redshift_cluster_aws: RedshiftClusterAwsResource
) -> dg.Output[None]:
    with _explained_failures():
        lifecycle = redshift_cluster_aws.lifecycle(context.log)
        deleted = lifecycle.delete_cluster()
    return dg.Output(
        None, metadata={"deleted": deleted, "final_snapshot": lifecycle.spec.final_snapshot}
    )


@dg.op(
    description=(
        "Revokes the cluster port's ingress rule, deletes the security group and this project's"
        " S3 gateway endpoint."
    ),
    ins={"cluster_gone": dg.In(dg.Nothing)},
    out=dg.Out(dg.Nothing),
)
def redshift_cluster_network_access_removed(
    context: dg.OpExecutionContext, redshift_cluster_aws: RedshiftClusterAwsResource
) -> dg.Output[None]:
    with _explained_failures():
        lifecycle = redshift_cluster_aws.lifecycle(context.log)
        removed = lifecycle.remove_network_access()
        endpoint_removed = lifecycle.remove_s3_gateway_endpoint()
    return dg.Output(
        None, metadata={"deleted": removed, "s3_gateway_endpoint_deleted": endpoint_removed}
    )


@dg.op(
    description="Deletes and detaches the IAM role's policies, then deletes the role.",
    ins={"cluster_gone": dg.In(dg.Nothing)},
    out=dg.Out(dg.Nothing),
)
def redshift_cluster_iam_role_deleted(
    context: dg.OpExecutionContext, redshift_cluster_aws: RedshiftClusterAwsResource
) -> dg.Output[None]:
    with _explained_failures():
        removed = redshift_cluster_aws.lifecycle(context.log).delete_iam_role()
    return dg.Output(None, metadata={"deleted": removed})


@dg.op(
    description="Deletes the cluster's parameter group.",
    ins={"cluster_gone": dg.In(dg.Nothing)},
    out=dg.Out(dg.Nothing),
)
def redshift_cluster_parameter_group_deleted(
    context: dg.OpExecutionContext, redshift_cluster_aws: RedshiftClusterAwsResource
) -> dg.Output[None]:
    with _explained_failures():
        removed = redshift_cluster_aws.lifecycle(context.log).delete_parameter_group()
    return dg.Output(None, metadata={"deleted": removed})


@dg.job(
    name="redshift_cluster_down",
    description=(
        "Deletes the Redshift cluster after a final snapshot (teardown.final_snapshot = false"
        " skips it, with a warning), waits until it is gone, then removes its schedule, security"
        " group, S3 gateway endpoint, parameter group and IAM roles. Refuses, before any change,"
        " resources of those names that lack the managed-by tag. Nothing there: says so and"
        " succeeds."
    ),
    tags=_JOB_TAGS,
)
def redshift_cluster_down() -> None:
    owned = redshift_cluster_ownership_checked()
    unscheduled = redshift_cluster_schedule_removed(owned=owned)
    gone = redshift_cluster_deleted(unscheduled=unscheduled)
    redshift_cluster_network_access_removed(cluster_gone=gone)
    redshift_cluster_iam_role_deleted(cluster_gone=gone)
    redshift_cluster_parameter_group_deleted(cluster_gone=gone)


redshift_cluster_jobs: list[dg.JobDefinition] = [
    redshift_cluster_up,
    redshift_cluster_status,
    redshift_cluster_pause,
    redshift_cluster_resume,
    redshift_cluster_down,
]

redshift_cluster_resources: dict[str, object] = {
    REDSHIFT_CLUSTER_RESOURCE_KEY: RedshiftClusterAwsResource(),
}
