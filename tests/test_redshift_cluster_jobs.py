"""The Redshift cluster jobs, run through Dagster against moto's server over loopback HTTP.

Each test starts from an empty moto account, runs the jobs the way a person would (through
``execute_in_process`` with the exported resource, AWS reached through ``AWS_ENDPOINT_URL``), then
looks at the result through the AWS API with its own boto3 clients: the cluster, the IAM role and
its policies, the security group and its ingress rules.

moto's waiters succeed at once (a cluster is "available" as soon as it is created), moto ignores
``ManageMasterPassword`` and does not load AWS-managed policies: what that leaves unproven is listed
in docs/cluster_security.md (and the README).
"""

from __future__ import annotations

import importlib.util
import ipaddress
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3
import dagster as dg
import pytest
from botocore.exceptions import ClientError
from moto.server import ThreadedMotoServer

from sparkify_assets.cluster.aws_context import ClusterAwsClients, WaitSettings
from sparkify_assets.cluster.create_request import cluster_create_request, master_password_problems
from sparkify_assets.cluster.errors import (
    RedshiftClusterError,
    RedshiftClusterSpecError,
    RedshiftClusterWaitTimeout,
)
from sparkify_assets.cluster.lifecycle import RedshiftClusterLifecycle
from sparkify_assets.cluster.policy_documents import AccountContext, render_permission_policy
from sparkify_assets.cluster.spec import (
    SPEC_PATH_ENV_VAR,
    default_spec_path,
    infra_directory,
    load_redshift_cluster_spec,
)
from sparkify_assets.defs.redshift_cluster_jobs import (
    REDSHIFT_CLUSTER_RESOURCE_KEY,
    RedshiftClusterAwsResource,
    redshift_cluster_jobs,
    redshift_cluster_resources,
)
from tests.support import moto_redshift_additions

REPO = Path(__file__).resolve().parents[1]
SHIPPED_SPEC = REPO / "infra" / "redshift_cluster.toml"
ACCOUNT = "123456789012"  # moto's account
REGION = "us-west-2"  # the shipped spec's region
CLUSTER = "sparkify-dwh"
ROLE = "sparkify-redshift-s3-read"
POLICY = "sparkify-s3-read"
SECURITY_GROUP = "sparkify-redshift-clients"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/{ROLE}"
ALLOWED_CIDR = "172.31.0.0/20"  # the shipped spec's: the default VPC's first subnet
ETL_USER = "sparkify_etl"
ETL_DBUSER_ARN = f"arn:aws:redshift:{REGION}:{ACCOUNT}:dbuser:{CLUSTER}/{ETL_USER}"
PARAMETER_GROUP = "sparkify-dwh-parameters"
SCHEDULER_ROLE = "sparkify-redshift-scheduler"


# ---- fixtures --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    """moto's server on a free loopback port, for the whole module."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")  # no AMI catalogue: seconds saved
        yield from _serve_moto()


def _serve_moto() -> Iterator[str]:
    moto_redshift_additions.install()  # the Redshift calls moto 5.2 lacks (see the module)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@dataclass
class Aws:
    """The test's own view of the (moto) account, independent of the code under test."""

    endpoint: str
    clients: dict[tuple[str, str], Any]

    def client(self, service: str, region: str = REGION) -> Any:
        if (service, region) not in self.clients:
            make_client: Any = boto3.client
            self.clients[service, region] = make_client(
                service, region_name=region, endpoint_url=self.endpoint
            )
        return self.clients[service, region]

    def cluster(self, region: str = REGION) -> dict[str, Any]:
        clusters = self.client("redshift", region).describe_clusters()["Clusters"]
        assert len(clusters) == 1, clusters
        return clusters[0]

    def security_group(self) -> dict[str, Any] | None:
        groups = self.client("ec2").describe_security_groups(
            Filters=[{"Name": "group-name", "Values": [SECURITY_GROUP]}]
        )["SecurityGroups"]
        assert len(groups) <= 1
        return groups[0] if groups else None

    def project_s3_endpoints(self) -> list[dict[str, Any]]:
        """The S3 gateway endpoints carrying the project's managed-by tag."""
        endpoints = self.client("ec2").describe_vpc_endpoints()["VpcEndpoints"]
        return [
            endpoint
            for endpoint in endpoints
            if {"Key": "managed-by", "Value": "sparkify_assets"} in endpoint.get("Tags", [])
            and endpoint["State"].lower() not in {"deleted", "deleting"}
        ]

    def ingress_rules(self, group_id: str) -> list[dict[str, Any]]:
        rules = self.client("ec2").describe_security_group_rules(
            Filters=[{"Name": "group-id", "Values": [group_id]}]
        )["SecurityGroupRules"]
        return [rule for rule in rules if not rule["IsEgress"]]


@pytest.fixture
def aws(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Aws:
    """An empty moto account reached through AWS_ENDPOINT_URL, with fake credentials only."""
    with urllib.request.urlopen(
        urllib.request.Request(f"{moto_endpoint}/moto-api/reset", method="POST"), timeout=10
    ):
        pass
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    for name in (
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        SPEC_PATH_ENV_VAR,
        "SPARKIFY_REDSHIFT_MASTER_PASSWORD",
    ):
        monkeypatch.delenv(name, raising=False)
    return Aws(moto_endpoint, _CLIENTS.setdefault(moto_endpoint, {}))


# Making a boto3 client loads its service model (about a second for EC2): once per module.
_CLIENTS: dict[str, dict[tuple[str, str], Any]] = {}


def spec_variant(tmp_path: Path, replacements: dict[str, str]) -> Path:
    """The shipped spec with some lines changed (each must be there), written under tmp_path.

    Its policy files are then found in infra/ (the spec's own directory has none).
    """
    text = SHIPPED_SPEC.read_text(encoding="utf-8")
    for old, new in replacements.items():
        assert old in text, f"{old!r} is not in the shipped spec"
        text = text.replace(old, new)
    path = tmp_path / f"variant_{len(list(tmp_path.glob('variant_*')))}.toml"
    path.write_text(text, encoding="utf-8")
    return path


def cluster_resource(spec_path: Path | None = None, **settings: Any) -> RedshiftClusterAwsResource:
    return RedshiftClusterAwsResource(
        spec_path=str(spec_path or ""), wait_delay_seconds=0, wait_max_attempts=3, **settings
    )


@dataclass
class JobRun:
    result: dg.ExecuteInProcessResult
    instance: dg.DagsterInstance

    @property
    def messages(self) -> list[str]:
        return [entry.user_message for entry in self.instance.all_logs(self.result.run_id)]

    @property
    def everything_recorded(self) -> str:
        """Every log line and event (metadata, outputs, failures) of the run, as text."""
        return "\n".join(repr(entry) for entry in self.instance.all_logs(self.result.run_id))

    def logged(self, fragment: str) -> bool:
        return any(fragment in message for message in self.messages)

    def output_metadata(self, step: str) -> dict[str, Any]:
        for event in self.result.all_events:
            if event.event_type_value == "STEP_OUTPUT" and event.step_key == step:
                data = event.step_output_data
                return {key: value.value for key, value in data.metadata.items()}
        raise AssertionError(f"no output from {step}")

    def failure(self) -> str:
        """The messages of the run's failed steps."""
        failures = self.result.get_step_failure_events()
        assert failures, "the run did not fail"
        return "\n".join(
            event.step_failure_data.error.message
            for event in failures
            if event.step_failure_data.error
        )


def run_job(name: str, resource: RedshiftClusterAwsResource | None = None) -> JobRun:
    """Runs one of the exported jobs; with the exported resource unless another is given."""
    job = {job.name: job for job in redshift_cluster_jobs}[name]
    instance = dg.DagsterInstance.ephemeral()
    resources = (
        {REDSHIFT_CLUSTER_RESOURCE_KEY: resource} if resource else dict(redshift_cluster_resources)
    )
    result = job.execute_in_process(resources=resources, instance=instance, raise_on_error=False)
    return JobRun(result, instance)


def lifecycle_for(
    aws: Aws, spec_path: Path | None = None, **wait: Any
) -> tuple[RedshiftClusterLifecycle, RecordingLog]:
    """The plain-Python lifecycle (no Dagster) on the test's own clients, and its log."""
    spec = load_redshift_cluster_spec(spec_path or SHIPPED_SPEC)
    log = RecordingLog()
    settings = WaitSettings(**({"delay_seconds": 0} | wait))
    return RedshiftClusterLifecycle(spec, ClusterAwsClients(REGION, aws.client), log, settings), log


class RecordingLog:
    def __init__(self) -> None:
        self.lines: list[tuple[str, str]] = []

    def info(self, msg: str) -> None:
        self.lines.append(("info", msg))

    def warning(self, msg: str) -> None:
        self.lines.append(("warning", msg))

    def text(self) -> str:
        return "\n".join(message for _, message in self.lines)


def error_code_of(call: Any, **kwargs: Any) -> str:
    with pytest.raises(ClientError) as raised:
        call(**kwargs)
    return str(raised.value.response["Error"]["Code"])


# ---- the exports -----------------------------------------------------------------------------


def test_exports_five_jobs_and_a_resource_key_of_its_own() -> None:
    assert [job.name for job in redshift_cluster_jobs] == [
        "redshift_cluster_up",
        "redshift_cluster_status",
        "redshift_cluster_pause",
        "redshift_cluster_resume",
        "redshift_cluster_down",
    ]
    assert list(redshift_cluster_resources) == [REDSHIFT_CLUSTER_RESOURCE_KEY]
    assert not {"warehouse", "s3", "source", "io_manager"} & set(redshift_cluster_resources)
    defs = dg.Definitions(jobs=redshift_cluster_jobs, resources=redshift_cluster_resources)
    for job in redshift_cluster_jobs:
        assert defs.get_job_def(job.name).description


def test_importing_the_jobs_calls_no_aws(tmp_path: Path) -> None:
    """Imported with an endpoint that refuses every connection and no credentials: no error."""
    environment = {
        key: value for key, value in os.environ.items() if not key.startswith(("AWS_", "SPARK"))
    }
    environment |= {
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
        "AWS_CONFIG_FILE": str(tmp_path / "none"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
        SPEC_PATH_ENV_VAR: str(tmp_path / "no-such-spec.toml"),  # not even the spec is read
    }
    completed = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sparkify_assets.defs.redshift_cluster_jobs as m; print(len(m.redshift_cluster_jobs))",
        ],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == "5"


# ---- redshift_cluster_up ---------------------------------------------------------------------


def test_up_creates_an_encrypted_private_four_node_cluster_with_a_read_only_role(aws: Aws) -> None:
    run = run_job("redshift_cluster_up")  # the exported resource, the shipped spec
    assert run.result.success, run.messages

    cluster = aws.cluster()
    group = aws.security_group()
    assert group is not None
    assert cluster["ClusterIdentifier"] == CLUSTER
    assert cluster["NumberOfNodes"] == 4
    assert cluster["NodeType"] == "ra3.large"
    assert cluster["Encrypted"] is True
    assert cluster["PubliclyAccessible"] is False
    assert [role["IamRoleArn"] for role in cluster["IamRoles"]] == [ROLE_ARN]
    assert [sg["VpcSecurityGroupId"] for sg in cluster["VpcSecurityGroups"]] == [group["GroupId"]]
    assert {"Key": "project", "Value": "sparkify"} in cluster["Tags"]

    # the role: trusted by Redshift alone; one inline policy, reading the configured prefixes only
    iam = aws.client("iam")
    trust = iam.get_role(RoleName=ROLE)["Role"]["AssumeRolePolicyDocument"]
    trust = json.loads(trust) if isinstance(trust, str) else trust
    assert [statement["Principal"] for statement in trust["Statement"]] == [
        {"Service": "redshift.amazonaws.com"}
    ]
    assert iam.list_role_policies(RoleName=ROLE)["PolicyNames"] == [POLICY]
    assert iam.list_attached_role_policies(RoleName=ROLE)["AttachedPolicies"] == []
    document = iam.get_role_policy(RoleName=ROLE, PolicyName=POLICY)["PolicyDocument"]
    document = json.loads(document) if isinstance(document, str) else document
    resources = [
        resource
        for statement in document["Statement"]
        for resource in (
            statement["Resource"]
            if isinstance(statement["Resource"], list)
            else [statement["Resource"]]
        )
    ]
    actions = {statement["Action"] for statement in document["Statement"]}
    assert actions == {"s3:ListBucket", "s3:GetObject", "s3:GetBucketLocation"}
    assert "*" not in resources
    assert all(resource.startswith("arn:aws:s3:::udacity-dend") for resource in resources)
    assert "arn:aws:s3:::udacity-dend/song_data/*" in resources
    assert "arn:aws:s3:::udacity-dend/*" not in resources

    # the network: a group in the default VPC with exactly one rule, the port from the CIDR
    default_vpc = aws.client("ec2").describe_vpcs(
        Filters=[{"Name": "isDefault", "Values": ["true"]}]
    )["Vpcs"][0]
    assert group["VpcId"] == default_vpc["VpcId"]
    [rule] = aws.ingress_rules(group["GroupId"])
    assert (rule["IpProtocol"], rule["FromPort"], rule["ToPort"], rule["CidrIpv4"]) == (
        "tcp",
        5439,
        5439,
        ALLOWED_CIDR,
    )

    # what the warehouse reads: redshift://user@host:port/db, the role ARN, the region
    metadata = run.output_metadata("redshift_cluster_available")
    host = cluster["Endpoint"]["Address"]
    assert metadata["warehouse_url"] == f"redshift://{ETL_USER}@{host}:5439/sparkify"
    url = urlsplit(metadata["warehouse_url"])
    assert (url.scheme, url.username, url.hostname, url.port, url.path) == (
        "redshift",
        ETL_USER,
        host,
        5439,
        "/sparkify",
    )
    from sparkify_assets.warehouse.redshift.connection import RedshiftTarget

    target = RedshiftTarget.from_url(metadata["warehouse_url"])
    assert (target.host, target.port, target.database, target.user) == (
        host,
        5439,
        "sparkify",
        ETL_USER,
    )
    assert (target.cluster_identifier, target.region) == (CLUSTER, REGION)
    assert metadata["iam_role_arn"] == ROLE_ARN
    assert metadata["cluster_identifier"] == CLUSTER
    assert metadata["region"] == REGION
    assert metadata["number_of_nodes"] == 4
    assert run.result.output_for_node("redshift_cluster_available") == {
        "SPARKIFY_WAREHOUSE_URL": metadata["warehouse_url"],
        "SPARKIFY_REDSHIFT_IAM_ROLE_ARN": ROLE_ARN,
        "AWS_REGION": REGION,
    }
    assert run.logged(f"export SPARKIFY_WAREHOUSE_URL='{metadata['warehouse_url']}'")
    assert run.logged(f"cluster {CLUSTER} is available")


def test_up_twice_leaves_one_cluster_one_rule_and_says_what_it_reused(aws: Aws) -> None:
    assert run_job("redshift_cluster_up", cluster_resource()).result.success
    first = aws.cluster()

    again = run_job("redshift_cluster_up", cluster_resource())

    assert again.result.success, again.messages
    assert aws.cluster()["ClusterCreateTime"] == first["ClusterCreateTime"]  # the same one
    group = aws.security_group()
    assert group is not None
    assert len(aws.ingress_rules(group["GroupId"])) == 1
    assert aws.client("iam").list_role_policies(RoleName=ROLE)["PolicyNames"] == [POLICY]
    assert again.logged(f"cluster {CLUSTER} already exists (available): reusing it")
    assert again.logged("already allowed (InvalidPermission.Duplicate): nothing to do")
    assert again.logged(f"IAM role {ROLE} exists")


def test_up_reuses_a_cluster_created_elsewhere_and_moves_it_into_its_security_group(
    aws: Aws,
) -> None:
    """A cluster made by the old scripts: public, in the default security group. Without the
    managed-by tag ``up`` refuses it and changes nothing; once an operator tags it, ``up`` takes it
    over: one cluster (no ClusterAlreadyExists surfaces), private, only the spec's group, the
    parameter group requiring SSL, enhanced VPC routing, audit logging."""
    redshift = aws.client("redshift")
    default_group = aws.client("ec2").describe_security_groups(
        Filters=[{"Name": "group-name", "Values": ["default"]}]
    )["SecurityGroups"][0]["GroupId"]
    redshift.create_cluster(
        ClusterIdentifier=CLUSTER,
        ClusterType="multi-node",
        NodeType="ra3.large",
        NumberOfNodes=4,
        DBName="sparkify",
        MasterUsername="sparkify_admin",
        ManageMasterPassword=True,
        Encrypted=True,
        PubliclyAccessible=True,
        VpcSecurityGroupIds=[default_group],
        IamRoles=[ROLE_ARN],  # moto has no ModifyClusterIamRoles: see the documentation
    )

    refused = run_job("redshift_cluster_up", cluster_resource())

    assert not refused.result.success
    assert f"Redshift cluster {CLUSTER} exists but does not carry the tag managed-by" in (
        refused.failure()
    )
    assert aws.cluster()["PubliclyAccessible"] is True  # untouched
    assert aws.security_group() is None  # nothing else was created either
    assert error_code_of(aws.client("iam").get_role, RoleName=ROLE) == "NoSuchEntity"

    redshift.create_tags(
        ResourceName=f"arn:aws:redshift:{REGION}:{ACCOUNT}:cluster:{CLUSTER}",
        Tags=[{"Key": "managed-by", "Value": "sparkify_assets"}],
    )
    run = run_job("redshift_cluster_up", cluster_resource())

    assert run.result.success, run.messages
    cluster = aws.cluster()
    assert cluster["EnhancedVpcRouting"] is True
    assert [group["ParameterGroupName"] for group in cluster["ClusterParameterGroups"]] == [
        PARAMETER_GROUP
    ]
    assert run.logged("applied at the next reboot")
    assert aws.client("redshift").describe_logging_status(ClusterIdentifier=CLUSTER)[
        "LoggingEnabled"
    ]
    group = aws.security_group()
    assert group is not None
    assert [sg["VpcSecurityGroupId"] for sg in cluster["VpcSecurityGroups"]] == [group["GroupId"]]
    assert cluster["PubliclyAccessible"] is False
    assert run.logged(f"security groups ['{default_group}'] replaced by {group['GroupId']}")
    assert run.logged("publicly accessible set to False")


def test_up_refuses_a_role_that_already_grants_more_than_the_spec(aws: Aws) -> None:
    iam = aws.client("iam")
    spec = load_redshift_cluster_spec(SHIPPED_SPEC)
    iam.create_role(  # the project's own role (tagged), widened by hand since
        RoleName=ROLE,
        AssumeRolePolicyDocument=spec.cluster_role(AccountContext(ACCOUNT, REGION)).trust_policy,
        Tags=spec.tag_list(),
    )
    broad = iam.create_policy(
        PolicyName="everything-in-s3",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}],
            }
        ),
    )["Policy"]["Arn"]
    iam.attach_role_policy(RoleName=ROLE, PolicyArn=broad)

    run = run_job("redshift_cluster_up", cluster_resource())

    assert not run.result.success
    assert "grants more than the spec's policies" in run.failure()
    assert broad in run.failure()
    assert aws.client("redshift").describe_clusters()["Clusters"] == []  # nothing was created
    assert iam.list_role_policies(RoleName=ROLE)["PolicyNames"] == []  # nor widened/changed


def test_up_refuses_the_whole_internet_unless_the_spec_asks_for_it(
    aws: Aws, tmp_path: Path
) -> None:
    everyone = spec_variant(
        tmp_path, {f'allowed_cidr = "{ALLOWED_CIDR}"': 'allowed_cidr = "0.0.0.0/0"'}
    )

    refused = run_job("redshift_cluster_up", cluster_resource(everyone))

    assert not refused.result.success
    assert "allow_public_ingress = true" in refused.failure()
    assert aws.security_group() is None
    assert aws.client("redshift").describe_clusters()["Clusters"] == []
    assert error_code_of(aws.client("iam").get_role, RoleName=ROLE) == "NoSuchEntity"

    asked = spec_variant(
        tmp_path,
        {
            f'allowed_cidr = "{ALLOWED_CIDR}"': 'allowed_cidr = "0.0.0.0/0"',
            "allow_public_ingress = false": "allow_public_ingress = true",
        },
    )
    allowed = run_job("redshift_cluster_up", cluster_resource(asked))

    assert allowed.result.success, allowed.messages
    group = aws.security_group()
    assert group is not None
    assert [rule["CidrIpv4"] for rule in aws.ingress_rules(group["GroupId"])] == ["0.0.0.0/0"]
    warnings = [
        entry.user_message
        for entry in allowed.instance.all_logs(allowed.result.run_id)
        if entry.level == 30  # logging.WARNING
    ]
    assert any("every address on the internet" in warning for warning in warnings)


def test_up_with_a_new_cidr_replaces_the_old_rule(aws: Aws, tmp_path: Path) -> None:
    assert run_job("redshift_cluster_up", cluster_resource()).result.success
    narrower = spec_variant(
        tmp_path, {f'allowed_cidr = "{ALLOWED_CIDR}"': 'allowed_cidr = "203.0.113.7/32"'}
    )

    run = run_job("redshift_cluster_up", cluster_resource(narrower))

    assert run.result.success, run.messages
    group = aws.security_group()
    assert group is not None
    [rule] = aws.ingress_rules(group["GroupId"])
    assert rule["CidrIpv4"] == "203.0.113.7/32"
    assert run.logged(f"from {ALLOWED_CIDR})")  # the revoked rule, named in the log


def test_master_password_from_the_environment_never_appears_in_the_run(
    aws: Aws, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    password = "Sparkify-Test-Pw-42"
    unmanaged = spec_variant(
        tmp_path, {"manage_master_password = true": "manage_master_password = false"}
    )

    missing = run_job("redshift_cluster_up", cluster_resource(unmanaged))
    assert not missing.result.success
    assert "SPARKIFY_REDSHIFT_MASTER_PASSWORD" in missing.failure()
    assert aws.client("redshift").describe_clusters()["Clusters"] == []

    monkeypatch.setenv("SPARKIFY_REDSHIFT_MASTER_PASSWORD", password)
    run = run_job("redshift_cluster_up", cluster_resource(unmanaged))

    assert run.result.success, run.messages
    assert aws.cluster()["MasterUsername"] == "sparkify_admin"
    assert password not in run.everything_recorded
    assert password not in json.dumps(run.result.output_for_node("redshift_cluster_available"))
    assert "master_password_secret_arn" not in run.output_metadata("redshift_cluster_available")


def test_region_comes_from_the_spec_unless_aws_region_overrides_it(
    aws: Aws, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_REGION", "eu-central-1")

    run = run_job("redshift_cluster_up", cluster_resource())

    assert run.result.success, run.messages
    assert aws.client("redshift", REGION).describe_clusters()["Clusters"] == []
    cluster = aws.cluster("eu-central-1")
    assert ".eu-central-1." in cluster["Endpoint"]["Address"]
    assert run.output_metadata("redshift_cluster_available")["region"] == "eu-central-1"

    monkeypatch.delenv("AWS_REGION")
    status = run_job("redshift_cluster_status", cluster_resource())  # the spec's region: nothing
    assert status.output_metadata("redshift_cluster_status_report")["status"] == "absent"


def test_an_explicit_endpoint_url_is_used_without_aws_endpoint_url(
    aws: Aws, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_ENDPOINT_URL")

    run = run_job("redshift_cluster_up", cluster_resource(endpoint_url=aws.endpoint))

    assert run.result.success, run.messages
    assert aws.cluster()["NumberOfNodes"] == 4


# ---- status, pause, resume -------------------------------------------------------------------


def test_status_reports_state_endpoint_nodes_and_role(aws: Aws) -> None:
    nothing = run_job("redshift_cluster_status", cluster_resource())
    assert nothing.result.success
    assert nothing.output_metadata("redshift_cluster_status_report")["status"] == "absent"
    assert nothing.logged("run redshift_cluster_up to create it")

    assert run_job("redshift_cluster_up", cluster_resource()).result.success
    run = run_job("redshift_cluster_status", cluster_resource())

    assert run.result.success
    status = run.output_metadata("redshift_cluster_status_report")
    endpoint = aws.cluster()["Endpoint"]
    assert status["status"] == "available"
    assert status["endpoint"] == f"{endpoint['Address']}:{endpoint['Port']}"
    assert status["number_of_nodes"] == 4
    assert status["iam_roles"] == [ROLE_ARN]
    assert status["iam_role_arn"] == ROLE_ARN
    assert status["ingress"] == [f"tcp 5439-5439 from {ALLOWED_CIDR}"]
    assert status["warehouse_url"].startswith(f"redshift://{ETL_USER}@")
    assert status["audit_logging"] == "cloudwatch"
    assert status["enhanced_vpc_routing"] is True
    assert status["parameter_groups"] == [PARAMETER_GROUP]
    assert status["scheduled_actions"] == []


def test_pause_and_resume_are_idempotent(aws: Aws) -> None:
    nothing = run_job("redshift_cluster_pause", cluster_resource())
    assert nothing.result.success
    assert nothing.logged("nothing to pause")
    no_resume = run_job("redshift_cluster_resume", cluster_resource())
    assert not no_resume.result.success
    assert "run redshift_cluster_up" in no_resume.failure()

    assert run_job("redshift_cluster_up", cluster_resource()).result.success
    paused = run_job("redshift_cluster_pause", cluster_resource())
    assert paused.result.success, paused.messages
    assert aws.cluster()["ClusterStatus"] == "paused"
    assert paused.logged(f"cluster {CLUSTER} is paused")

    again = run_job("redshift_cluster_pause", cluster_resource())
    assert again.result.success
    assert again.logged("already paused: nothing to do")

    resumed = run_job("redshift_cluster_resume", cluster_resource())
    assert resumed.result.success, resumed.messages
    assert aws.cluster()["ClusterStatus"] == "available"
    assert resumed.logged(f"cluster {CLUSTER} is available")
    assert run_job("redshift_cluster_resume", cluster_resource()).logged("already available")


def test_up_resumes_a_paused_cluster(aws: Aws) -> None:
    assert run_job("redshift_cluster_up", cluster_resource()).result.success
    assert run_job("redshift_cluster_pause", cluster_resource()).result.success

    run = run_job("redshift_cluster_up", cluster_resource())

    assert run.result.success, run.messages
    assert aws.cluster()["ClusterStatus"] == "available"
    assert run.logged("was paused: resuming it")


def test_waiting_logs_every_check_and_times_out(aws: Aws) -> None:
    """moto's waiters succeed at once; a paused cluster never becomes "available" by itself."""
    slept: list[float] = []
    lifecycle, log = lifecycle_for(aws, delay_seconds=7, max_attempts=3, sleep=slept.append)
    role_arn = lifecycle.ensure_iam_role()
    lifecycle.ensure_cluster(role_arn, lifecycle.ensure_network_access())
    aws.client("redshift").pause_cluster(ClusterIdentifier=CLUSTER)

    with pytest.raises(RedshiftClusterWaitTimeout, match="still paused, not available"):
        lifecycle.wait_until_available()

    checks = [line for line in log.text().splitlines() if "waiting for cluster" in line]
    assert len(checks) == 3
    assert all(": paused after" in line for line in checks)
    assert "(check 3 of 3)" in checks[-1]
    assert slept == [7, 7]


# ---- redshift_cluster_down -------------------------------------------------------------------


def test_down_removes_cluster_rule_group_policies_and_role(aws: Aws) -> None:
    assert run_job("redshift_cluster_up", cluster_resource()).result.success
    group = aws.security_group()
    assert group is not None

    run = run_job("redshift_cluster_down", cluster_resource())

    assert run.result.success, run.messages
    redshift, iam, ec2 = aws.client("redshift"), aws.client("iam"), aws.client("ec2")
    assert redshift.describe_clusters()["Clusters"] == []
    assert error_code_of(redshift.describe_clusters, ClusterIdentifier=CLUSTER) == "ClusterNotFound"
    assert error_code_of(iam.get_role, RoleName=ROLE) == "NoSuchEntity"
    assert aws.security_group() is None
    assert (
        ec2.describe_security_group_rules(
            Filters=[{"Name": "group-id", "Values": [group["GroupId"]]}]
        )["SecurityGroupRules"]
        == []
    )
    [snapshot] = redshift.describe_cluster_snapshots(SnapshotType="manual")["Snapshots"]
    assert snapshot["SnapshotIdentifier"].startswith("sparkify-dwh-final-")  # the default
    assert error_code_of(
        redshift.describe_cluster_parameter_groups, ParameterGroupName=PARAMETER_GROUP
    ) == ("ClusterParameterGroupNotFound")
    assert aws.project_s3_endpoints() == []
    assert run.logged("revoked ingress rule") and run.logged(f"from {ALLOWED_CIDR})")
    assert run.logged(f"deleted inline policy {POLICY} of IAM role {ROLE}")
    assert run.logged(f"cluster {CLUSTER} is deleted")


def test_down_on_nothing_is_a_no_op_that_says_so(aws: Aws) -> None:
    run = run_job("redshift_cluster_down", cluster_resource())

    assert run.result.success, run.messages
    assert run.logged(f"no cluster {CLUSTER} (ClusterNotFound): nothing to delete")
    assert run.logged(f"no security group {SECURITY_GROUP}")
    assert run.logged(f"no IAM role {ROLE} (NoSuchEntity): nothing to delete")
    for step in (
        "redshift_cluster_deleted",
        "redshift_cluster_network_access_removed",
        "redshift_cluster_iam_role_deleted",
        "redshift_cluster_parameter_group_deleted",
    ):
        assert run.output_metadata(step)["deleted"] is False


def test_down_skips_the_final_snapshot_only_when_told_and_says_so_loudly(
    aws: Aws, tmp_path: Path
) -> None:
    skip = spec_variant(tmp_path, {"final_snapshot = true": "final_snapshot = false"})
    assert run_job("redshift_cluster_up", cluster_resource(skip)).result.success

    run = run_job("redshift_cluster_down", cluster_resource(skip))

    assert run.result.success, run.messages
    redshift = aws.client("redshift")
    assert redshift.describe_cluster_snapshots(SnapshotType="manual")["Snapshots"] == []
    assert redshift.describe_clusters()["Clusters"] == []
    warnings = [
        entry.user_message
        for entry in run.instance.all_logs(run.result.run_id)
        if entry.level == 30  # logging.WARNING
    ]
    assert any(
        "NO FINAL SNAPSHOT" in warning and "gone for good" in warning for warning in warnings
    )
    assert run.output_metadata("redshift_cluster_deleted") == {
        "deleted": True,
        "final_snapshot": False,
    }


def test_down_detaches_policies_someone_else_attached_then_deletes_the_role(aws: Aws) -> None:
    """IAM refuses to delete a role that still has policies (DeleteConflict): down removes every
    inline policy and detaches every managed one first; the managed policy itself survives."""
    assert run_job("redshift_cluster_up", cluster_resource()).result.success
    iam = aws.client("iam")
    extra = iam.create_policy(
        PolicyName="someone-elses-policy",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::x/*"}
                ],
            }
        ),
    )["Policy"]["Arn"]
    iam.attach_role_policy(RoleName=ROLE, PolicyArn=extra)
    assert error_code_of(iam.delete_role, RoleName=ROLE) == "DeleteConflict"

    run = run_job("redshift_cluster_down", cluster_resource())

    assert run.result.success, run.messages
    assert error_code_of(iam.get_role, RoleName=ROLE) == "NoSuchEntity"
    assert iam.get_policy(PolicyArn=extra)["Policy"]["AttachmentCount"] == 0
    assert run.logged(f"detached managed policy {extra} from IAM role {ROLE}")


def test_up_down_up_down_round_trip(aws: Aws) -> None:
    for _ in range(2):
        assert run_job("redshift_cluster_up", cluster_resource()).result.success
        assert aws.cluster()["ClusterStatus"] == "available"
        assert run_job("redshift_cluster_down", cluster_resource()).result.success
        assert aws.client("redshift").describe_clusters()["Clusters"] == []
        assert aws.security_group() is None


# ---- the real AWS error codes, and the code's answer to each ----------------------------------


def test_cluster_already_exists(aws: Aws) -> None:
    lifecycle, _ = lifecycle_for(aws)
    request = cluster_create_request(
        lifecycle.spec, role_arn=ROLE_ARN, security_group_ids=[lifecycle.ensure_network_access()]
    )
    assert lifecycle.create_cluster(request) is True
    redshift = aws.client("redshift")
    assert error_code_of(redshift.create_cluster, **request) == "ClusterAlreadyExists"

    assert lifecycle.create_cluster(request) is False  # the code's reading of that error
    assert len(redshift.describe_clusters()["Clusters"]) == 1


def test_cluster_not_found(aws: Aws) -> None:
    redshift = aws.client("redshift")
    assert error_code_of(redshift.describe_clusters, ClusterIdentifier=CLUSTER) == "ClusterNotFound"
    assert (
        error_code_of(
            redshift.delete_cluster, ClusterIdentifier=CLUSTER, SkipFinalClusterSnapshot=True
        )
        == "ClusterNotFound"
    )

    lifecycle, log = lifecycle_for(aws)
    assert lifecycle.describe_cluster() is None
    assert lifecycle.delete_cluster() is False
    assert lifecycle.pause() is False
    with pytest.raises(RedshiftClusterError, match="no cluster sparkify-dwh to resume"):
        lifecycle.resume()
    assert "nothing to delete" in log.text()


def test_duplicate_ingress_rule(aws: Aws) -> None:
    lifecycle, log = lifecycle_for(aws)
    group_id = lifecycle.ensure_network_access()
    permission = {
        "IpProtocol": "tcp",
        "FromPort": 5439,
        "ToPort": 5439,
        "IpRanges": [{"CidrIp": ALLOWED_CIDR}],
    }
    ec2 = aws.client("ec2")
    assert (
        error_code_of(
            ec2.authorize_security_group_ingress, GroupId=group_id, IpPermissions=[permission]
        )
        == "InvalidPermission.Duplicate"
    )

    assert lifecycle.ensure_network_access() == group_id
    assert len(aws.ingress_rules(group_id)) == 1
    assert "(InvalidPermission.Duplicate): nothing to do" in log.text()


def test_role_still_having_policies(aws: Aws) -> None:
    lifecycle, log = lifecycle_for(aws)
    lifecycle.ensure_iam_role()
    iam = aws.client("iam")
    assert error_code_of(iam.delete_role, RoleName=ROLE) == "DeleteConflict"

    assert lifecycle.delete_iam_role() is True
    assert error_code_of(iam.get_role, RoleName=ROLE) == "NoSuchEntity"
    assert f"deleted inline policy {POLICY} of IAM role {ROLE}" in log.text()
    assert lifecycle.delete_iam_role() is False
    assert f"no IAM role {ROLE} (NoSuchEntity): nothing to delete" in log.text()


# ---- the request and the spec, without AWS ----------------------------------------------------


def test_create_request_lets_redshift_manage_the_password() -> None:
    spec = load_redshift_cluster_spec(SHIPPED_SPEC)
    request = cluster_create_request(spec, role_arn=ROLE_ARN, security_group_ids=["sg-1"])

    assert request["ManageMasterPassword"] is True
    assert "MasterUserPassword" not in request
    assert request["Encrypted"] is True
    assert request["PubliclyAccessible"] is False
    assert (request["ClusterType"], request["NumberOfNodes"]) == ("multi-node", 4)
    assert request["IamRoles"] == [ROLE_ARN]
    assert "DefaultIamRoleArn" not in request  # a default role is offered to every user
    assert request["ClusterParameterGroupName"] == PARAMETER_GROUP
    assert request["EnhancedVpcRouting"] is True
    assert request["AutomatedSnapshotRetentionPeriod"] == 7
    assert request["VpcSecurityGroupIds"] == ["sg-1"]


def test_weak_master_passwords_are_refused_before_any_call(tmp_path: Path) -> None:
    unmanaged = load_redshift_cluster_spec(
        spec_variant(tmp_path, {"manage_master_password = true": "manage_master_password = false"})
    )
    assert master_password_problems("Good-Pass-123") == []
    assert set(master_password_problems("short")) >= {"8 to 64 characters", "a digit"}
    assert master_password_problems("Has/Slash123")
    with pytest.raises(RedshiftClusterError, match="does not meet Redshift's rules"):
        cluster_create_request(
            unmanaged, role_arn=ROLE_ARN, security_group_ids=["sg-1"], master_password="password"
        )


def test_the_shipped_spec() -> None:
    spec = load_redshift_cluster_spec(SHIPPED_SPEC)

    assert (spec.identifier, spec.number_of_nodes, spec.cluster_type) == (CLUSTER, 4, "multi-node")
    assert (spec.publicly_accessible, spec.manage_master_password) == (False, True)
    assert spec.allowed_cidr == ALLOWED_CIDR and not spec.opens_to_internet
    assert spec.warnings() == []
    settings = tomllib.loads(SHIPPED_SPEC.read_text())
    keys = {key for table in settings.values() for key in table}
    assert {key for key in keys if "password" in key or "secret" in key} == {
        "manage_master_password"
    }


def test_spec_location_checkout_then_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(SPEC_PATH_ENV_VAR, raising=False)
    assert infra_directory() == REPO / "infra"
    assert default_spec_path() == SHIPPED_SPEC

    elsewhere = spec_variant(tmp_path, {'identifier = "sparkify-dwh"': 'identifier = "elsewhere"'})
    monkeypatch.setenv(SPEC_PATH_ENV_VAR, str(elsewhere))
    assert default_spec_path() == elsewhere
    assert load_redshift_cluster_spec().identifier == "elsewhere"  # policies found in infra/


def test_spec_location_in_an_installed_wheel(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Installed, the module sits in site-packages/sparkify_assets/cluster/ with no infra/ two levels
    up; the wheel carries infra/ as sparkify_assets/_infra (pyproject's force-include)."""
    package = tmp_path / "site-packages" / "sparkify_assets"
    (package / "cluster").mkdir(parents=True)
    shutil.copytree(REPO / "infra", package / "_infra")
    module_path = package / "cluster" / "spec.py"
    shutil.copy(REPO / "sparkify_assets" / "cluster" / "spec.py", module_path)
    spec = importlib.util.spec_from_file_location("installed_redshift_cluster_spec", module_path)
    assert spec and spec.loader
    installed = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, installed)  # dataclasses look their module up
    monkeypatch.delenv(SPEC_PATH_ENV_VAR, raising=False)
    spec.loader.exec_module(installed)

    assert installed.infra_directory() == package / "_infra"
    assert (
        installed.load_redshift_cluster_spec(
            package / "_infra" / "redshift_cluster.toml"
        ).identifier
        == CLUSTER
    )


@pytest.mark.parametrize(
    ("old", "new", "complaint"),
    [
        ('identifier = "sparkify-dwh"', 'identifier = "Sparkify--DWH"', "cluster.identifier"),
        (
            "number_of_nodes = 4",
            "number_of_nodes = 0",
            "cluster.number_of_nodes: Input should be greater than or equal to 1",
        ),
        (
            "number_of_nodes = 4",
            'number_of_nodes = "4"',
            "cluster.number_of_nodes: Input should be a valid integer",
        ),
        ("port = 5439", "port = 6000", "listens on 5431-5455/8191-8215"),
        (
            "publicly_accessible = false",
            "publically_accessible = false",
            "cluster.publically_accessible: Extra inputs are not permitted",
        ),
        (f'allowed_cidr = "{ALLOWED_CIDR}"', 'allowed_cidr = "10.0.0.1/8"', "host bits set"),
        (f'allowed_cidr = "{ALLOWED_CIDR}"', 'allowed_cidr = "::/0"', "IPv4"),
        ('"song_data",', '"*",', "without wildcards"),
        (
            'bucket = "udacity-dend"',
            'bucket = "Not_A_Bucket"',
            "iam_role.s3_read.0.bucket: String should match pattern",
        ),
        (
            'trust_policy = "policies/redshift_trust_policy.json"',
            'trust_policy = "policies/missing.json"',
            "no policies/missing.json",
        ),
    ],
)
def test_invalid_specs_are_refused_with_the_reason(
    tmp_path: Path, old: str, new: str, complaint: str
) -> None:
    with pytest.raises(RedshiftClusterSpecError, match=complaint.replace("(", r"\(")):
        load_redshift_cluster_spec(spec_variant(tmp_path, {old: new}))


def test_policy_documents_that_grant_too_much_are_refused(tmp_path: Path) -> None:
    (tmp_path / "policies").mkdir()
    trusting_everyone = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}],
    }
    full_access = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}],
    }
    (tmp_path / "policies" / "trust.json").write_text(json.dumps(trusting_everyone))
    (tmp_path / "policies" / "full.json").write_text(json.dumps(full_access))
    spec_path = spec_variant(
        tmp_path,
        {
            'trust_policy = "policies/redshift_trust_policy.json"': 'trust_policy = "policies/trust.json"',
            'permission_policy = "policies/redshift_s3_read_policy.json"': 'permission_policy = "policies/full.json"',
        },
    )

    with pytest.raises(RedshiftClusterSpecError) as raised:
        load_redshift_cluster_spec(spec_path)

    message = str(raised.value)
    assert "is not a service" in message
    assert "action 's3:*' is not a read-only S3 action" in message
    assert "resource '*' is not in a configured bucket" in message


def test_permission_policy_uses_the_regions_partition() -> None:
    spec = load_redshift_cluster_spec(SHIPPED_SPEC)
    rendered = json.loads(
        render_permission_policy(spec.permission_policy_template, spec.s3_read_access, "aws-cn")
    )
    assert rendered["Statement"][0]["Resource"] == "arn:aws-cn:s3:::udacity-dend"
    assert json.loads(spec.permission_policy_document("cn-north-1")) == rendered


# ---- the AWS controls (issue 17: Security Hub Redshift.2/3/4/7, CT.REDSHIFT.PR.2/3/5/9) ------


def test_up_meets_the_controls_aws_checks(aws: Aws) -> None:
    run = run_job("redshift_cluster_up", cluster_resource())
    assert run.result.success, run.messages
    redshift, ec2, iam = aws.client("redshift"), aws.client("ec2"), aws.client("iam")
    cluster = aws.cluster()

    # Redshift.2 / CT.REDSHIFT.PR.9: a parameter group of ours that requires SSL
    assert [group["ParameterGroupName"] for group in cluster["ClusterParameterGroups"]] == [
        PARAMETER_GROUP
    ]
    [group] = redshift.describe_cluster_parameter_groups(ParameterGroupName=PARAMETER_GROUP)[
        "ParameterGroups"
    ]
    assert {"Key": "managed-by", "Value": "sparkify_assets"} in group["Tags"]
    values = {
        parameter["ParameterName"]: parameter["ParameterValue"]
        for parameter in redshift.describe_cluster_parameters(ParameterGroupName=PARAMETER_GROUP)[
            "Parameters"
        ]
    }
    assert values["require_ssl"] == "true"
    assert values["enable_user_activity_logging"] == "true"

    # Redshift.4 / CT.REDSHIFT.PR.3: audit logging, every log type, to CloudWatch
    logging = redshift.describe_logging_status(ClusterIdentifier=CLUSTER)
    assert logging["LoggingEnabled"] is True
    assert logging["LogDestinationType"] == "cloudwatch"
    assert sorted(logging["LogExports"]) == ["connectionlog", "useractivitylog", "userlog"]

    # Redshift.7 / CT.REDSHIFT.PR.5: enhanced VPC routing, with the S3 gateway endpoint on the
    # route table of the cluster's (default) subnets, else every COPY would lose its way to S3
    assert cluster["EnhancedVpcRouting"] is True
    [endpoint] = aws.project_s3_endpoints()
    assert (endpoint["VpcEndpointType"], endpoint["ServiceName"]) == (
        "Gateway",
        f"com.amazonaws.{REGION}.s3",
    )
    [main_table] = ec2.describe_route_tables(
        Filters=[
            {"Name": "vpc-id", "Values": [endpoint["VpcId"]]},
            {"Name": "association.main", "Values": ["true"]},
        ]
    )["RouteTables"]
    assert endpoint["RouteTableIds"] == [main_table["RouteTableId"]]
    assert any(
        route.get("GatewayId") == endpoint["VpcEndpointId"] for route in main_table["Routes"]
    )
    assert (
        run.output_metadata("redshift_cluster_network_access")["s3_gateway_endpoint_id"]
        == (endpoint["VpcEndpointId"])
    )

    # Redshift.3 / CT.REDSHIFT.PR.2: automated snapshots kept a week
    assert cluster["AutomatedSnapshotRetentionPeriod"] == 7

    # finding 6: Redshift may assume the role for the ETL database user only; not a default role
    trust = iam.get_role(RoleName=ROLE)["Role"]["AssumeRolePolicyDocument"]
    trust = json.loads(trust) if isinstance(trust, str) else trust
    [statement] = trust["Statement"]
    assert statement["Condition"] == {"StringEquals": {"sts:ExternalId": [ETL_DBUSER_ARN]}}
    assert not cluster.get("DefaultIamRoleArn")

    metadata = run.output_metadata("redshift_cluster_available")
    assert (metadata["enhanced_vpc_routing"], metadata["audit_logging"]) == (True, "cloudwatch")
    assert metadata["etl_user"] == ETL_USER


def test_up_twice_keeps_one_endpoint_and_the_same_parameters(aws: Aws) -> None:
    assert run_job("redshift_cluster_up", cluster_resource()).result.success
    again = run_job("redshift_cluster_up", cluster_resource())

    assert again.result.success, again.messages
    assert len(aws.project_s3_endpoints()) == 1
    assert again.logged("already reach S3 through gateway endpoint")
    assert again.logged("audit logging to cloudwatch already on")


def test_an_s3_endpoint_of_someone_else_is_used_and_left_alone(aws: Aws) -> None:
    ec2 = aws.client("ec2")
    vpc = ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"][0]
    [main_table] = ec2.describe_route_tables(
        Filters=[
            {"Name": "vpc-id", "Values": [vpc["VpcId"]]},
            {"Name": "association.main", "Values": ["true"]},
        ]
    )["RouteTables"]
    theirs = ec2.create_vpc_endpoint(
        VpcEndpointType="Gateway",
        VpcId=vpc["VpcId"],
        ServiceName=f"com.amazonaws.{REGION}.s3",
        RouteTableIds=[main_table["RouteTableId"]],
    )["VpcEndpoint"]["VpcEndpointId"]

    assert run_job("redshift_cluster_up", cluster_resource()).result.success
    assert aws.project_s3_endpoints() == []  # theirs already serves the route table
    down = run_job("redshift_cluster_down", cluster_resource())

    assert down.result.success, down.messages
    [still_there] = ec2.describe_vpc_endpoints(VpcEndpointIds=[theirs])["VpcEndpoints"]
    assert still_there["State"].lower() == "available"


def test_audit_logs_can_go_to_an_s3_bucket(aws: Aws, tmp_path: Path) -> None:
    to_s3 = spec_variant(
        tmp_path,
        {
            'destination = "cloudwatch"': 'destination = "s3"',
            'bucket = ""': 'bucket = "sparkify-audit-logs"',
            's3_key_prefix = ""': 's3_key_prefix = "redshift/sparkify-dwh/"',
        },
    )

    run = run_job("redshift_cluster_up", cluster_resource(to_s3))

    assert run.result.success, run.messages
    logging = aws.client("redshift").describe_logging_status(ClusterIdentifier=CLUSTER)
    assert (logging["LogDestinationType"], logging["BucketName"], logging["S3KeyPrefix"]) == (
        "s3",
        "sparkify-audit-logs",
        "redshift/sparkify-dwh/",
    )


def test_the_etl_user_sql_is_printed_and_grants_only_what_loads_need(aws: Aws) -> None:
    run = run_job("redshift_cluster_up", cluster_resource())
    assert run.result.success, run.messages

    metadata = run.output_metadata("redshift_cluster_etl_user_sql")
    script = metadata["administrator_sql"]
    assert f"CREATE USER {ETL_USER} PASSWORD DISABLE;" in script
    assert run.logged(f"GRANT USAGE, CREATE ON SCHEMA public TO {ETL_USER};")
    policy = metadata["etl_connect_policy"]
    assert policy["Statement"][0]["Action"] == "redshift:GetClusterCredentials"
    assert policy["Statement"][0]["Resource"] == [
        ETL_DBUSER_ARN,
        f"arn:aws:redshift:{REGION}:{ACCOUNT}:dbname:{CLUSTER}/sparkify",
    ]
    assert "PASSWORD '" not in script  # no password is ever set for it


def test_the_etl_user_statements_parse_and_stay_within_their_privileges() -> None:
    """Offline, with sqlglot's Redshift dialect: GRANT/REVOKE parse as such (not as opaque
    commands) and give the ETL user only USAGE/CREATE on its schema and TEMP on the database;
    CREATE USER and ALTER TABLE OWNER (which sqlglot keeps as commands) match strict patterns."""
    import re

    import sqlglot
    from sqlglot import exp

    from sparkify_assets.cluster.etl_user import (
        etl_user_statements,
        table_takeover_statements,
    )
    from sparkify_assets.warehouse.tables import WAREHOUSE_TABLES

    spec = load_redshift_cluster_spec(SHIPPED_SPEC)
    allowed = {"SCHEMA": {"USAGE", "CREATE"}, "DATABASE": {"TEMP"}}
    seen = set()
    for statement in etl_user_statements(spec):
        parsed = sqlglot.parse_one(statement.text, read="redshift")
        name = statement.key.rsplit(".", 1)[1]
        seen.add(name)
        if name == "create_etl_user":
            assert re.fullmatch(rf"CREATE USER {ETL_USER} PASSWORD DISABLE", statement.text)
            continue
        assert isinstance(parsed, exp.Grant | exp.Revoke), statement.text
        assert not list(parsed.find_all(exp.Command)), statement.text
        kind = str(parsed.args["kind"]).upper()
        privileges = {str(p.this).upper() for p in parsed.args["privileges"]}
        principals = [p.this.name for p in parsed.args["principals"]]
        assert not parsed.args.get("grant_option")
        if isinstance(parsed, exp.Revoke):
            assert (kind, privileges, principals) == ("SCHEMA", {"CREATE"}, ["PUBLIC"])
        else:
            assert privileges <= allowed[kind] and "ALL" not in privileges, statement.text
            assert principals == [ETL_USER]
    assert seen == {"create_etl_user", "revoke_public_create", "grant_schema", "grant_temp"}
    takeovers = [statement.text for statement in table_takeover_statements(spec)]
    assert takeovers == [
        f"ALTER TABLE public.{table} OWNER TO {ETL_USER}" for table in WAREHOUSE_TABLES
    ]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("etl_user", "etl; DROP TABLE users"),
        ("etl_user", 'x" WITH PASSWORD "p'),
        ("schema", "Public"),
        ("table", "pg_user"),
    ],
)
def test_the_etl_user_sql_takes_plain_identifiers_only(name: str, value: str) -> None:
    from sparkify_assets.cluster.etl_user import ETL_USER_SQL_FILE, render_identifiers
    from sparkify_assets.warehouse.sql_files import load_file

    names = {"etl_user": ETL_USER, "schema": "public", "database": "sparkify", "table": "songs"}
    sql = load_file(ETL_USER_SQL_FILE)["take_over_table"]
    with pytest.raises(ValueError, match=name):
        render_identifiers(sql, names | {name: value})


# ---- ownership: only what carries the managed-by tag is changed or deleted (finding 7) --------


def test_up_refuses_a_foreign_role_before_touching_its_trust_policy(aws: Aws) -> None:
    iam = aws.client("iam")
    foreign_trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    iam.create_role(RoleName=ROLE, AssumeRolePolicyDocument=json.dumps(foreign_trust))

    run = run_job("redshift_cluster_up", cluster_resource())

    assert not run.result.success
    assert f"IAM role {ROLE} exists but does not carry the tag managed-by" in run.failure()
    trust = iam.get_role(RoleName=ROLE)["Role"]["AssumeRolePolicyDocument"]
    trust = json.loads(trust) if isinstance(trust, str) else trust
    assert trust == foreign_trust  # not rewritten
    assert iam.list_role_policies(RoleName=ROLE)["PolicyNames"] == []
    assert aws.security_group() is None  # nothing else was created: refused before any change
    assert aws.client("redshift").describe_clusters()["Clusters"] == []
    assert aws.project_s3_endpoints() == []

    # the lifecycle method itself refuses too (not only the job's first step)
    lifecycle, _ = lifecycle_for(aws)
    with pytest.raises(RedshiftClusterError, match="does not carry the tag managed-by"):
        lifecycle.ensure_iam_role()
    trust = iam.get_role(RoleName=ROLE)["Role"]["AssumeRolePolicyDocument"]
    assert (json.loads(trust) if isinstance(trust, str) else trust) == foreign_trust


def test_down_deletes_no_foreign_role_security_group_or_cluster(aws: Aws) -> None:
    iam, ec2, redshift = aws.client("iam"), aws.client("ec2"), aws.client("redshift")
    iam.create_role(
        RoleName=ROLE,
        AssumeRolePolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "redshift.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            }
        ),
    )
    vpc = ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"][0]
    group_id = ec2.create_security_group(
        GroupName=SECURITY_GROUP, Description="somebody else's", VpcId=vpc["VpcId"]
    )["GroupId"]
    redshift.create_cluster(
        ClusterIdentifier=CLUSTER,
        ClusterType="single-node",
        NodeType="ra3.large",
        MasterUsername="someone",
        MasterUserPassword="Someone-Else-1",
    )

    run = run_job("redshift_cluster_down", cluster_resource())

    assert not run.result.success
    failure = run.failure()
    assert f"IAM role {ROLE} exists but does not carry the tag" in failure
    assert f"security group {SECURITY_GROUP} ({group_id})" in failure
    assert f"Redshift cluster {CLUSTER} exists" in failure
    assert iam.get_role(RoleName=ROLE)["Role"]["RoleName"] == ROLE
    assert aws.security_group() is not None
    assert aws.cluster()["ClusterStatus"] == "available"
    snapshots = redshift.describe_cluster_snapshots()["Snapshots"]
    assert [snapshot for snapshot in snapshots if snapshot["SnapshotType"] == "manual"] == []

    lifecycle, _ = lifecycle_for(aws)  # each deleting method refuses on its own as well
    for delete in (lifecycle.delete_iam_role, lifecycle.remove_network_access):
        with pytest.raises(RedshiftClusterError, match="does not carry the tag managed-by"):
            delete()
    with pytest.raises(RedshiftClusterError, match="does not carry the tag managed-by"):
        lifecycle.delete_cluster()
    assert aws.cluster()["ClusterStatus"] == "available"


def test_a_foreign_parameter_group_is_refused(aws: Aws) -> None:
    aws.client("redshift").create_cluster_parameter_group(
        ParameterGroupName=PARAMETER_GROUP,
        ParameterGroupFamily="redshift-1.0",
        Description="somebody else's",
    )

    run = run_job("redshift_cluster_up", cluster_resource())

    assert not run.result.success
    assert f"parameter group {PARAMETER_GROUP} exists but does not carry" in run.failure()
    values = {
        parameter["ParameterName"]: parameter["ParameterValue"]
        for parameter in aws.client("redshift").describe_cluster_parameters(
            ParameterGroupName=PARAMETER_GROUP
        )["Parameters"]
    }
    assert values["require_ssl"] == "false"  # untouched


# ---- the pause schedule (off by default) -------------------------------------------------------


def test_the_schedule_is_off_by_default_and_pauses_and_resumes_when_asked(
    aws: Aws, tmp_path: Path
) -> None:
    redshift, iam = aws.client("redshift"), aws.client("iam")
    assert run_job("redshift_cluster_up", cluster_resource()).result.success
    assert redshift.describe_scheduled_actions()["ScheduledActions"] == []
    assert error_code_of(iam.get_role, RoleName=SCHEDULER_ROLE) == "NoSuchEntity"

    scheduled = spec_variant(tmp_path, {"enabled = false": "enabled = true"})
    run = run_job("redshift_cluster_up", cluster_resource(scheduled))

    assert run.result.success, run.messages
    actions = {
        action["ScheduledActionName"]: action
        for action in redshift.describe_scheduled_actions()["ScheduledActions"]
    }
    scheduler_arn = f"arn:aws:iam::{ACCOUNT}:role/{SCHEDULER_ROLE}"
    assert actions[f"{CLUSTER}-resume"]["TargetAction"] == {
        "ResumeCluster": {"ClusterIdentifier": CLUSTER}
    }
    assert actions[f"{CLUSTER}-resume"]["Schedule"] == "cron(0 7 ? * MON-FRI *)"
    assert actions[f"{CLUSTER}-pause"]["TargetAction"] == {
        "PauseCluster": {"ClusterIdentifier": CLUSTER}
    }
    assert actions[f"{CLUSTER}-pause"]["Schedule"] == "cron(0 19 ? * MON-FRI *)"
    assert {action["IamRole"] for action in actions.values()} == {scheduler_arn}
    assert {action["State"] for action in actions.values()} == {"ACTIVE"}
    # the scheduler's role: the Redshift scheduler of this account only, this cluster only
    trust = iam.get_role(RoleName=SCHEDULER_ROLE)["Role"]["AssumeRolePolicyDocument"]
    trust = json.loads(trust) if isinstance(trust, str) else trust
    [statement] = trust["Statement"]
    assert statement["Principal"] == {"Service": "scheduler.redshift.amazonaws.com"}
    assert statement["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT}}
    [policy_name] = iam.list_role_policies(RoleName=SCHEDULER_ROLE)["PolicyNames"]
    document = iam.get_role_policy(RoleName=SCHEDULER_ROLE, PolicyName=policy_name)[
        "PolicyDocument"
    ]
    document = json.loads(document) if isinstance(document, str) else document
    assert document["Statement"][0]["Resource"] == (
        f"arn:aws:redshift:{REGION}:{ACCOUNT}:cluster:{CLUSTER}"
    )
    assert set(document["Statement"][0]["Action"]) == {
        "redshift:PauseCluster",
        "redshift:ResumeCluster",
    }

    assert run_job("redshift_cluster_up", cluster_resource(scheduled)).result.success  # idempotent
    assert len(redshift.describe_scheduled_actions()["ScheduledActions"]) == 2

    off_again = run_job("redshift_cluster_up", cluster_resource())
    assert off_again.result.success, off_again.messages
    assert redshift.describe_scheduled_actions()["ScheduledActions"] == []
    assert error_code_of(iam.get_role, RoleName=SCHEDULER_ROLE) == "NoSuchEntity"


def test_down_removes_the_schedule_and_its_role(aws: Aws, tmp_path: Path) -> None:
    scheduled = spec_variant(tmp_path, {"enabled = false": "enabled = true"})
    assert run_job("redshift_cluster_up", cluster_resource(scheduled)).result.success

    run = run_job("redshift_cluster_down", cluster_resource(scheduled))

    assert run.result.success, run.messages
    assert aws.client("redshift").describe_scheduled_actions()["ScheduledActions"] == []
    assert error_code_of(aws.client("iam").get_role, RoleName=SCHEDULER_ROLE) == "NoSuchEntity"


def test_a_scheduled_action_of_someone_else_is_refused(aws: Aws, tmp_path: Path) -> None:
    assert run_job("redshift_cluster_up", cluster_resource()).result.success
    aws.client("redshift").create_scheduled_action(
        ScheduledActionName=f"{CLUSTER}-pause",
        TargetAction={"PauseCluster": {"ClusterIdentifier": CLUSTER}},
        Schedule="cron(0 1 * * ? *)",
        IamRole=f"arn:aws:iam::{ACCOUNT}:role/someone-elses-scheduler",
    )
    scheduled = spec_variant(tmp_path, {"enabled = false": "enabled = true"})

    run = run_job("redshift_cluster_up", cluster_resource(scheduled))

    assert not run.result.success
    assert f"scheduled action {CLUSTER}-pause exists but does not" in run.failure()
    [action] = aws.client("redshift").describe_scheduled_actions()["ScheduledActions"]
    assert action["Schedule"] == "cron(0 1 * * ? *)"


# ---- issue 18: the cluster keeps its data --------------------------------------------------------


def test_up_restores_the_newest_snapshot_when_the_spec_asks(aws: Aws, tmp_path: Path) -> None:
    redshift = aws.client("redshift")
    restore = spec_variant(
        tmp_path, {"from_newest_snapshot = false": "from_newest_snapshot = true"}
    )
    assert run_job("redshift_cluster_up", cluster_resource()).result.success
    redshift.create_cluster_snapshot(SnapshotIdentifier="older-by-hand", ClusterIdentifier=CLUSTER)
    assert run_job("redshift_cluster_down", cluster_resource()).result.success
    final = [
        snapshot["SnapshotIdentifier"]
        for snapshot in redshift.describe_cluster_snapshots(SnapshotType="manual")["Snapshots"]
        if snapshot["SnapshotIdentifier"].startswith("sparkify-dwh-final-")
    ]
    assert len(final) == 1

    run = run_job("redshift_cluster_up", cluster_resource(restore))

    assert run.result.success, run.messages
    assert run.logged(f"restoring cluster {CLUSTER} from snapshot {final[0]}")
    cluster = aws.cluster()
    assert cluster.get("RestoreStatus") is not None  # moto marks a restored cluster
    assert {"Key": "managed-by", "Value": "sparkify_assets"} in cluster["Tags"]
    assert [group["ParameterGroupName"] for group in cluster["ClusterParameterGroups"]] == [
        PARAMETER_GROUP
    ]
    assert cluster["EnhancedVpcRouting"] is True
    group = aws.security_group()
    assert group is not None
    assert [sg["VpcSecurityGroupId"] for sg in cluster["VpcSecurityGroups"]] == [group["GroupId"]]
    # and the restored cluster is this project's: down takes it away again (with a new snapshot)
    assert run_job("redshift_cluster_down", cluster_resource(restore)).result.success


def test_up_without_a_snapshot_to_restore_creates_an_empty_cluster_and_warns(
    aws: Aws, tmp_path: Path
) -> None:
    restore = spec_variant(
        tmp_path, {"from_newest_snapshot = false": "from_newest_snapshot = true"}
    )

    run = run_job("redshift_cluster_up", cluster_resource(restore))

    assert run.result.success, run.messages
    assert run.logged("has no available snapshot: creating an EMPTY cluster")
    assert aws.cluster().get("RestoreStatus") is None


def test_newest_snapshot_is_the_latest_available_of_the_identifier(aws: Aws) -> None:
    lifecycle, _ = lifecycle_for(aws)
    assert lifecycle.newest_snapshot() is None
    role_arn = lifecycle.ensure_iam_role()
    lifecycle.ensure_parameter_group()
    lifecycle.ensure_cluster(role_arn, lifecycle.ensure_network_access())
    redshift = aws.client("redshift")
    for name in ("first", "second", "third"):
        redshift.create_cluster_snapshot(SnapshotIdentifier=name, ClusterIdentifier=CLUSTER)

    newest = lifecycle.newest_snapshot()

    assert newest is not None and newest["SnapshotIdentifier"] == "third"


# ---- the spec's new checks ----------------------------------------------------------------------


def test_the_shipped_spec_is_narrower_than_the_default_vpc_and_says_why() -> None:
    spec = load_redshift_cluster_spec(SHIPPED_SPEC)
    text = SHIPPED_SPEC.read_text()

    assert spec.allowed_cidr == ALLOWED_CIDR
    assert ipaddress.ip_network(spec.allowed_cidr).prefixlen > 16  # not the whole default VPC
    assert "Not the whole default VPC" in text and "first default subnet" in text
    assert (spec.final_snapshot, spec.restore_from_newest_snapshot) == (True, False)
    assert spec.schedule.enabled is False
    assert spec.enhanced_vpc_routing is True
    assert spec.managed_by == "sparkify_assets"


@pytest.mark.parametrize(
    ("old", "new", "complaint"),
    [
        (
            'managed-by = "sparkify_assets"',
            'owner = "sparkify_assets"',
            "tags.managed-by is required",
        ),
        ('destination = "cloudwatch"', 'destination = "s3"', "needs an S3 bucket name"),
        (
            'destination = "cloudwatch"',
            'destination = "syslog"',
            "audit_logging.destination: Input should be 'cloudwatch' or 's3'",
        ),
        ('name = "sparkify_etl"', 'name = "sparkify_admin"', "not the master user"),
        ('name = "sparkify_etl"', 'name = "Etl-User"', "etl_user.name"),
        ('days = "MON-FRI"', 'days = "MON-FRI; rm"', "schedule.days"),
        ('pause_at_utc = "19:00"', 'pause_at_utc = "25:00"', "schedule.pause_at_utc"),
        ('pause_at_utc = "19:00"', 'pause_at_utc = "07:00"', "must differ"),
        ('family = "redshift-1.0"', 'family = "postgres15"', "parameter_group.family"),
        (
            "automated_snapshot_retention_days = 7",
            "automated_snapshot_retention_days = 0",
            "cluster.automated_snapshot_retention_days: Input should be greater than or equal to 1",
        ),
    ],
)
def test_invalid_control_settings_are_refused(
    tmp_path: Path, old: str, new: str, complaint: str
) -> None:
    with pytest.raises(RedshiftClusterSpecError, match=re.escape(complaint)):
        load_redshift_cluster_spec(spec_variant(tmp_path, {old: new}))


def test_a_trust_policy_without_the_etl_user_condition_is_refused(tmp_path: Path) -> None:
    (tmp_path / "policies").mkdir()
    unconditional = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "redshift.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    other_user = json.loads(json.dumps(unconditional))
    other_user["Statement"][0]["Condition"] = {
        "StringEquals": {"sts:ExternalId": f"arn:aws:redshift:{REGION}:1:dbuser:{CLUSTER}/admin"}
    }
    for name, document, complaint in (
        ("none.json", unconditional, "no StringEquals sts:ExternalId condition"),
        ("other.json", other_user, "sts:ExternalId allows"),
    ):
        (tmp_path / "policies" / name).write_text(json.dumps(document))
        spec_path = spec_variant(
            tmp_path,
            {
                'trust_policy = "policies/redshift_trust_policy.json"': (
                    f'trust_policy = "policies/{name}"'
                )
            },
        )
        with pytest.raises(RedshiftClusterSpecError, match=complaint):
            load_redshift_cluster_spec(spec_path)


def test_the_s3_endpoint_goes_on_the_route_tables_of_the_subnet_groups_subnets(
    aws: Aws, tmp_path: Path
) -> None:
    """A cluster in its own VPC: one subnet with a route table of its own, one on the VPC's main
    table. The endpoint serves exactly those two tables, not an unrelated third one."""
    ec2, redshift = aws.client("ec2"), aws.client("redshift")
    vpc_id = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
    own_subnet = ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.20.1.0/24")["Subnet"]["SubnetId"]
    main_subnet = ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.20.2.0/24")["Subnet"]["SubnetId"]
    own_table = ec2.create_route_table(VpcId=vpc_id)["RouteTable"]["RouteTableId"]
    ec2.associate_route_table(RouteTableId=own_table, SubnetId=own_subnet)
    unrelated_table = ec2.create_route_table(VpcId=vpc_id)["RouteTable"]["RouteTableId"]
    [main_table] = ec2.describe_route_tables(
        Filters=[
            {"Name": "vpc-id", "Values": [vpc_id]},
            {"Name": "association.main", "Values": ["true"]},
        ]
    )["RouteTables"]
    redshift.create_cluster_subnet_group(
        ClusterSubnetGroupName="sparkify-subnets",
        Description="the cluster's subnets",
        SubnetIds=[own_subnet, main_subnet],
    )
    in_its_vpc = spec_variant(
        tmp_path,
        {
            'cluster_subnet_group_name = ""': 'cluster_subnet_group_name = "sparkify-subnets"',
            f'allowed_cidr = "{ALLOWED_CIDR}"': 'allowed_cidr = "10.20.1.0/24"',
        },
    )

    run = run_job("redshift_cluster_up", cluster_resource(in_its_vpc))

    assert run.result.success, run.messages
    [endpoint] = aws.project_s3_endpoints()
    assert endpoint["VpcId"] == vpc_id
    assert sorted(endpoint["RouteTableIds"]) == sorted([own_table, main_table["RouteTableId"]])
    assert unrelated_table not in endpoint["RouteTableIds"]
    group = aws.security_group()
    assert group is not None and group["VpcId"] == vpc_id

    assert run_job("redshift_cluster_down", cluster_resource(in_its_vpc)).result.success
    assert aws.project_s3_endpoints() == []


# ---- [iam_role.s3_backup]: the backup prefix the cluster role may write ---------------------

BACKUP_TABLE = """
[iam_role.s3_backup]
bucket = "sparkify-backups"
prefix = "warehouse"
"""
BACKUP_POLICY = "policies/redshift_s3_backup_write_policy.json"
READ_TABLE_END = 'prefixes = ["song_data", "log_data", "log_json_path.json"]\n'


def test_up_gives_the_role_a_backup_policy_for_the_prefix_only(aws: Aws, tmp_path: Path) -> None:
    spec_path = spec_variant(tmp_path, {READ_TABLE_END: READ_TABLE_END + BACKUP_TABLE})
    run = run_job("redshift_cluster_up", cluster_resource(spec_path))
    assert run.result.success, run.messages

    iam = aws.client("iam")
    assert sorted(iam.list_role_policies(RoleName=ROLE)["PolicyNames"]) == sorted(
        [POLICY, "sparkify-s3-backup"]
    )
    document = iam.get_role_policy(RoleName=ROLE, PolicyName="sparkify-s3-backup")["PolicyDocument"]
    document = json.loads(document) if isinstance(document, str) else document
    granted = {
        action
        for statement in document["Statement"]
        for action in (
            statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        )
    }
    assert granted == {"s3:PutObject", "s3:GetObject", "s3:ListBucket", "s3:GetBucketLocation"}
    objects = next(s for s in document["Statement"] if "s3:PutObject" in s["Action"])
    assert objects["Resource"] == [
        "arn:aws:s3:::sparkify-backups/warehouse",
        "arn:aws:s3:::sparkify-backups/warehouse/*",
    ]
    assert any("sparkify-s3-backup allows writing" in m for m in run.messages), run.messages

    # the backup table removed again: the role now carries a policy the spec does not list
    plain = run_job("redshift_cluster_up")
    assert not plain.result.success
    assert "grants more than the spec's policies" in plain.failure()
    assert "sparkify-s3-backup" in plain.failure()


@pytest.mark.parametrize(
    ("table", "complaint"),
    [
        ('bucket = "sparkify-backups"\nprefix = "warehouse/*"\n', "without wildcards"),
        ('bucket = "Not_A_Bucket"\nprefix = "warehouse"\n', "iam_role.s3_backup.bucket"),
        ('bucket = "sparkify-backups"\n', "iam_role.s3_backup.prefix"),
        ('bucket = "b-1"\nprefix = "p"\nwrite_everything = true\n', "write_everything"),
    ],
)
def test_a_backup_table_that_grants_too_much_or_too_little_is_refused(
    tmp_path: Path, table: str, complaint: str
) -> None:
    spec_path = spec_variant(
        tmp_path, {READ_TABLE_END: READ_TABLE_END + "\n[iam_role.s3_backup]\n" + table}
    )
    with pytest.raises(RedshiftClusterSpecError, match=re.escape(complaint)):
        load_redshift_cluster_spec(spec_path)


def test_a_backup_policy_that_may_delete_is_refused(tmp_path: Path) -> None:
    (tmp_path / "policies").mkdir()
    template = json.loads((infra_directory() / BACKUP_POLICY).read_text())
    template["Statement"][1]["Action"].append("s3:DeleteObject")
    (tmp_path / "policies" / "deleting.json").write_text(json.dumps(template))
    table = BACKUP_TABLE + 'permission_policy = "policies/deleting.json"\n'
    spec_path = spec_variant(tmp_path, {READ_TABLE_END: READ_TABLE_END + table})
    with pytest.raises(RedshiftClusterSpecError, match="'s3:DeleteObject' is not a read or write"):
        load_redshift_cluster_spec(spec_path)
