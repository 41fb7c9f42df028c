"""Creating, inspecting, pausing, resuming and deleting the Redshift cluster of a
:class:`~sparkify_assets.cluster.spec.RedshiftClusterSpec`, with boto3 only.

Every step is idempotent: it first looks at what exists, does only what is missing, and treats
AWS's "already there" / "already gone" error codes (``ClusterAlreadyExists``, ``ClusterNotFound``,
``InvalidPermission.Duplicate``, ``NoSuchEntity``, ...) as "nothing to do", said in the log.
Nothing here logs or returns the master password: either Redshift manages it in Secrets Manager
(the default) or it is passed in and sent to ``CreateCluster`` only.

What the cluster is given:
- an IAM role trusted by ``redshift.amazonaws.com`` for the ETL database user only
  (``sts:ExternalId``), whose only permission is one inline policy reading the spec's buckets and
  prefixes (a role with anything more is refused, not used); it is not the cluster's default role;
- a dedicated security group in the cluster's VPC whose only ingress rule is TCP on the cluster's
  port from the spec's CIDR (rules that are not in the spec are revoked);
- a parameter group with ``require_ssl`` and ``enable_user_activity_logging``; audit logging to
  CloudWatch or S3; enhanced VPC routing with the S3 gateway endpoint it needs on the route tables
  of the cluster's subnets; automated snapshots kept ``automated_snapshot_retention_days``;
- encryption at rest, public accessibility only if the spec says so, the spec's tags;
- optionally, two scheduled actions (resume, pause) run by a scheduler role of their own.

Ownership: every resource the jobs change or delete must carry the spec's ``managed-by`` tag. A
resource with a configured name but without the tag is somebody else's: :meth:`ownership_problems`
lists them and both ``up`` and ``down`` stop before any change (tag a resource to hand it over).
Scheduled actions cannot be tagged: one is ours when it targets this cluster through our role.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal, Protocol
from urllib.parse import quote

from botocore.exceptions import ClientError, WaiterError
from botocore.waiter import WaiterModel, create_waiter_with_client

from sparkify_assets.cluster.spec import (
    REQUIRED_CLUSTER_PARAMETERS,
    AccountContext,
    RedshiftClusterSpec,
    RoleDefinition,
)

if TYPE_CHECKING:
    from mypy_boto3_ec2 import EC2Client
    from mypy_boto3_ec2.type_defs import (
        SecurityGroupRuleTypeDef,
        TagSpecificationTypeDef,
        TagTypeDef,
    )
    from mypy_boto3_iam import IAMClient
    from mypy_boto3_redshift import RedshiftClient
    from mypy_boto3_redshift.type_defs import ClusterTypeDef, SnapshotTypeDef

# The AWS error codes this module turns into "nothing to do" (or into a clear message).
CLUSTER_NOT_FOUND = "ClusterNotFound"
CLUSTER_ALREADY_EXISTS = "ClusterAlreadyExists"
INVALID_CLUSTER_STATE = "InvalidClusterState"
NO_SUCH_ENTITY = "NoSuchEntity"
ENTITY_ALREADY_EXISTS = "EntityAlreadyExists"
DELETE_CONFLICT = "DeleteConflict"
DUPLICATE_PERMISSION = "InvalidPermission.Duplicate"
PERMISSION_NOT_FOUND = "InvalidPermission.NotFound"
DUPLICATE_GROUP = "InvalidGroup.Duplicate"
GROUP_NOT_FOUND = "InvalidGroup.NotFound"
DEPENDENCY_VIOLATION = "DependencyViolation"
PARAMETER_GROUP_NOT_FOUND = "ClusterParameterGroupNotFound"
PARAMETER_GROUP_ALREADY_EXISTS = "ClusterParameterGroupAlreadyExists"
SCHEDULED_ACTION_NOT_FOUND = "ScheduledActionNotFound"
SCHEDULED_ACTION_ALREADY_EXISTS = "ScheduledActionAlreadyExists"

# Cluster states in which "up" waits instead of creating, and "down" waits instead of deleting.
DELETING_STATES = frozenset({"deleting", "final-snapshot"})

# boto3 has waiters for "available" and "deleted" but none for "paused": the same machinery with
# botocore's own waiter model format.
_PAUSED_WAITER_MODEL = WaiterModel(
    {
        "version": 2,
        "waiters": {
            "ClusterPaused": {
                "operation": "DescribeClusters",
                "delay": 30,
                "maxAttempts": 40,
                "acceptors": [
                    {
                        "state": "success",
                        "matcher": "pathAll",
                        "argument": "Clusters[].ClusterStatus",
                        "expected": "paused",
                    },
                    {
                        "state": "failure",
                        "matcher": "pathAny",
                        "argument": "Clusters[].ClusterStatus",
                        "expected": "deleting",
                    },
                    {"state": "failure", "matcher": "error", "expected": CLUSTER_NOT_FOUND},
                ],
            }
        },
    }
)

_PASSWORD_FORBIDDEN = frozenset("'\"\\/@")


class RedshiftClusterError(RuntimeError):
    """The cluster cannot be brought to the requested state; the message says why and what to do."""


class RedshiftClusterWaitTimeout(RedshiftClusterError):
    """The cluster did not reach a state within the configured number of checks."""


class ProgressLog(Protocol):
    """Where progress goes: a Dagster ``context.log`` or a ``logging.Logger``."""

    def info(self, msg: str) -> None: ...

    def warning(self, msg: str) -> None: ...


@dataclass(frozen=True)
class WaitSettings:
    """How long to wait for a state: ``max_attempts`` checks, ``delay_seconds`` apart."""

    delay_seconds: float = 30.0
    max_attempts: int = 80
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False, repr=False)

    @property
    def timeout_seconds(self) -> float:
        return self.delay_seconds * max(self.max_attempts - 1, 0)


class ClusterAwsClients:
    """The boto3 clients the lifecycle needs, all for one region, each made on first use.

    ``make_client(service_name)`` returns a boto3 client; making one loads the service's model
    (about a second for EC2), so a step that needs only IAM never pays for EC2.
    """

    def __init__(self, region: str, make_client: Callable[[str], Any]) -> None:
        self.region = region
        self._make_client = make_client

    @cached_property
    def redshift(self) -> RedshiftClient:
        client: RedshiftClient = self._make_client("redshift")
        return client

    @cached_property
    def iam(self) -> IAMClient:
        client: IAMClient = self._make_client("iam")
        return client

    @cached_property
    def ec2(self) -> EC2Client:
        client: EC2Client = self._make_client("ec2")
        return client

    @cached_property
    def sts(self) -> Any:  # no boto3-stubs for STS in the project: one call, GetCallerIdentity
        return self._make_client("sts")


@dataclass(frozen=True)
class ClusterConnection:
    """How the warehouse reaches the cluster. No password: see ``master_password_secret_arn``."""

    cluster_identifier: str
    region: str
    host: str
    port: int
    database_name: str
    master_username: str
    etl_user: str
    iam_role_arn: str
    master_password_secret_arn: str

    @property
    def warehouse_url(self) -> str:
        """``redshift://<etl user>@host:port/db``: the form ``SPARKIFY_WAREHOUSE_URL`` takes.

        The loads connect as the ETL user with IAM authentication (no password); the master user
        only administers."""
        user = quote(self.etl_user, safe="")
        return f"redshift://{user}@{self.host}:{self.port}/{self.database_name}"

    def environment(self) -> dict[str, str]:
        """The variables the warehouse resource reads, with this cluster's values."""
        return {
            "SPARKIFY_WAREHOUSE_URL": self.warehouse_url,
            "SPARKIFY_REDSHIFT_IAM_ROLE_ARN": self.iam_role_arn,
            "AWS_REGION": self.region,
        }


def error_code(error: ClientError) -> str:
    """The AWS error code of ``error`` (``ClusterNotFound``, ``NoSuchEntity``, ...)."""
    return str(error.response.get("Error", {}).get("Code", ""))


def master_password_problems(password: str) -> list[str]:
    """Why Redshift would refuse ``password`` as a master password (empty: it would not)."""
    problems = []
    if not 8 <= len(password) <= 64:
        problems.append("8 to 64 characters")
    if not any(char.isupper() for char in password):
        problems.append("an uppercase letter")
    if not any(char.islower() for char in password):
        problems.append("a lowercase letter")
    if not any(char.isdigit() for char in password):
        problems.append("a digit")
    if any(not 33 <= ord(char) <= 126 or char in _PASSWORD_FORBIDDEN for char in password):
        problems.append("only printable ASCII without ' \" \\ / @ or spaces")
    return problems


def cluster_create_request(
    spec: RedshiftClusterSpec,
    *,
    role_arn: str,
    security_group_ids: Sequence[str],
    master_password: str = "",
) -> dict[str, Any]:
    """The ``CreateCluster`` arguments for ``spec``. Never log it: it may hold the password."""
    request: dict[str, Any] = {
        "ClusterIdentifier": spec.identifier,
        "ClusterType": spec.cluster_type,
        "NodeType": spec.node_type,
        "DBName": spec.database_name,
        "MasterUsername": spec.master_username,
        "Port": spec.port,
        "PubliclyAccessible": spec.publicly_accessible,
        "Encrypted": True,
        # Not DefaultIamRoleArn: a default role is offered to every database user (IAM_ROLE
        # default); the loads name the role, and its trust policy admits the ETL user only.
        "IamRoles": [role_arn],
        "VpcSecurityGroupIds": list(security_group_ids),
        "ClusterParameterGroupName": spec.parameter_group_name,
        "EnhancedVpcRouting": spec.enhanced_vpc_routing,
        "AutomatedSnapshotRetentionPeriod": spec.automated_snapshot_retention_days,
        "Tags": spec.tag_list(),
    }
    if spec.number_of_nodes > 1:
        request["NumberOfNodes"] = spec.number_of_nodes
    if spec.kms_key_id:
        request["KmsKeyId"] = spec.kms_key_id
    if spec.cluster_subnet_group_name:
        request["ClusterSubnetGroupName"] = spec.cluster_subnet_group_name
    if spec.manage_master_password:
        request["ManageMasterPassword"] = True
    else:
        if not master_password:
            raise RedshiftClusterError(
                "manage_master_password = false but no master password was given: set"
                " SPARKIFY_REDSHIFT_MASTER_PASSWORD (or the resource's master_password)"
            )
        problems = master_password_problems(master_password)
        if problems:
            raise RedshiftClusterError(
                "the master password does not meet Redshift's rules; it needs "
                + ", ".join(problems)
            )
        request["MasterUserPassword"] = master_password
    return request


def cluster_summary(cluster: ClusterTypeDef) -> dict[str, Any]:
    """What a person wants to see of a cluster: state, endpoint, nodes, role, security."""
    endpoint = cluster.get("Endpoint") or {}
    address = endpoint.get("Address", "")
    return {
        "status": cluster.get("ClusterStatus", "unknown"),
        "availability": cluster.get("ClusterAvailabilityStatus", ""),
        "node_type": cluster.get("NodeType", ""),
        "number_of_nodes": cluster.get("NumberOfNodes", 0),
        "endpoint": f"{address}:{endpoint.get('Port', '')}" if address else "",
        "database_name": cluster.get("DBName", ""),
        "master_username": cluster.get("MasterUsername", ""),
        "iam_roles": [role.get("IamRoleArn", "") for role in cluster.get("IamRoles", [])],
        "encrypted": bool(cluster.get("Encrypted", False)),
        "publicly_accessible": bool(cluster.get("PubliclyAccessible", False)),
        "security_groups": [
            group.get("VpcSecurityGroupId", "") for group in cluster.get("VpcSecurityGroups", [])
        ],
        "master_password_secret_arn": cluster.get("MasterPasswordSecretArn", ""),
        "enhanced_vpc_routing": bool(cluster.get("EnhancedVpcRouting", False)),
        "parameter_groups": [
            group.get("ParameterGroupName", "")
            for group in cluster.get("ClusterParameterGroups", [])
        ],
    }


def _cluster_status(response: Mapping[str, Any] | None) -> str:
    if not response:
        return "unknown"
    clusters = response.get("Clusters") or []
    if clusters:
        return str(clusters[0].get("ClusterStatus", "unknown"))
    return str(response.get("Error", {}).get("Code", "unknown"))


class RedshiftClusterLifecycle:
    """The cluster of ``spec`` and its role and security group, through ``clients``."""

    def __init__(
        self,
        spec: RedshiftClusterSpec,
        clients: ClusterAwsClients,
        log: ProgressLog,
        wait: WaitSettings | None = None,
    ) -> None:
        self.spec = spec
        self.clients = clients
        self.log = log
        self.wait = wait or WaitSettings()

    @cached_property
    def account(self) -> AccountContext:
        """The caller's account (STS GetCallerIdentity) and the region: what ARNs are made of."""
        identity = self.clients.sts.get_caller_identity()
        return AccountContext(str(identity["Account"]), self.clients.region)

    def _refuse(self, kind: str, name: str) -> RedshiftClusterError:
        return RedshiftClusterError(
            f"{kind} {name} exists but does not carry the tag managed-by ="
            f" {self.spec.managed_by}: it is not this project's, so the cluster jobs neither change"
            " nor delete it. Name another one in the spec, or tag it to hand it over."
        )

    # ---- ownership -----------------------------------------------------------------------------

    def ownership_problems(self) -> list[str]:
        """Resources with the spec's names that are not this project's (missing managed-by tag).

        Both ``up`` and ``down`` look here first and stop before any change if anything is listed.
        """
        problems = []
        for name in (self.spec.iam_role_name, self.spec.schedule.role_name):
            tags = self.role_tags(name)
            if tags is not None and not self.spec.is_managed(tags):
                problems.append(str(self._refuse("IAM role", name)))
        try:
            vpc_id = self.cluster_vpc_id()
        except RedshiftClusterError:
            vpc_id = ""
        group = self.security_group(vpc_id) if vpc_id else None
        if group is not None and not self.spec.is_managed(group.get("Tags")):
            problems.append(
                str(
                    self._refuse(
                        "security group", f"{self.spec.security_group_name} ({group['GroupId']})"
                    )
                )
            )
        cluster = self.describe_cluster()
        if cluster is not None and not self.spec.is_managed(cluster.get("Tags")):
            problems.append(str(self._refuse("Redshift cluster", self.spec.identifier)))
        parameter_group = self.parameter_group()
        if parameter_group is not None and not self.spec.is_managed(parameter_group.get("Tags")):
            problems.append(str(self._refuse("parameter group", self.spec.parameter_group_name)))
        for action in self.scheduled_actions().values():
            if not self._is_our_action(action):
                problems.append(
                    f"scheduled action {action.get('ScheduledActionName')} exists but does not"
                    f" pause/resume {self.spec.identifier} through role"
                    f" {self.spec.schedule.role_name}: it is not this project's; delete or"
                    " rename it"
                )
        return problems

    def refuse_foreign_resources(self) -> None:
        """Raises, naming every foreign resource, before anything is changed."""
        problems = self.ownership_problems()
        if problems:
            raise RedshiftClusterError("nothing was changed:\n  - " + "\n  - ".join(problems))

    # ---- the IAM roles -------------------------------------------------------------------------

    def iam_role_arn(self, name: str | None = None) -> str | None:
        """The role's ARN (the cluster role unless ``name``), or None when it does not exist."""
        try:
            return self.clients.iam.get_role(RoleName=name or self.spec.iam_role_name)["Role"][
                "Arn"
            ]
        except ClientError as error:
            if error_code(error) == NO_SUCH_ENTITY:
                return None
            raise

    def role_tags(self, name: str) -> list[dict[str, str]] | None:
        """The role's tags, or None when there is no such role."""
        try:
            return [
                {"Key": tag["Key"], "Value": tag["Value"]}
                for page in self.clients.iam.get_paginator("list_role_tags").paginate(RoleName=name)
                for tag in page["Tags"]
            ]
        except ClientError as error:
            if error_code(error) == NO_SUCH_ENTITY:
                return None
            raise

    def ensure_iam_role(self) -> str:
        """The cluster role (created or reused), its trust and permission policies; its ARN."""
        role = self.spec.cluster_role(self.account)
        arn = self.ensure_role(role)
        readable = "; ".join(
            f"s3://{access.bucket}/{{{','.join(access.prefixes)}}}"
            for access in self.spec.s3_read_access
        )
        self.log.info(
            f"IAM role {role.name}: inline policy {self.spec.iam_policy_name} allows reading"
            f" {readable} and nothing else; Redshift may assume it for database user"
            f" {self.spec.etl_user} only (sts:ExternalId {self.spec.etl_dbuser_arn(self.account)})"
        )
        return arn

    def ensure_role(self, role: RoleDefinition) -> str:
        """Creates ``role`` (or reuses it when it carries the managed-by tag and nothing beyond
        its listed policies), sets its trust policy and inline policies; its ARN.

        A role of that name without the tag is refused before its trust policy is touched."""
        iam = self.clients.iam
        tags = self.role_tags(role.name)
        if tags is None:
            try:
                arn = iam.create_role(
                    RoleName=role.name,
                    AssumeRolePolicyDocument=role.trust_policy,
                    Description=role.description,
                    Tags=self.spec.tag_list(),
                )["Role"]["Arn"]
                self.log.info(f"created IAM role {role.name} ({arn})")
            except ClientError as error:
                if error_code(error) != ENTITY_ALREADY_EXISTS:
                    raise
                self.log.info(
                    f"IAM role {role.name} was created meanwhile ({ENTITY_ALREADY_EXISTS})"
                )
                tags = self.role_tags(role.name)
                if not self.spec.is_managed(tags):
                    raise self._refuse("IAM role", role.name) from error
                self._refuse_extra_permissions(role)
                iam.update_assume_role_policy(RoleName=role.name, PolicyDocument=role.trust_policy)
                arn = self.iam_role_arn(role.name) or ""
            iam.get_waiter("role_exists").wait(
                RoleName=role.name, WaiterConfig={"Delay": 1, "MaxAttempts": 30}
            )
        else:
            if not self.spec.is_managed(tags):
                raise self._refuse("IAM role", role.name)
            arn = self.iam_role_arn(role.name) or ""
            self._refuse_extra_permissions(role)  # before its trust policy is touched
            self.log.info(
                f"IAM role {role.name} exists ({arn}): setting its policies to the spec's"
            )
            iam.update_assume_role_policy(RoleName=role.name, PolicyDocument=role.trust_policy)
        for policy in role.policies:
            iam.put_role_policy(
                RoleName=role.name, PolicyName=policy.name, PolicyDocument=policy.document
            )
        return arn

    def role_policies(self, name: str | None = None) -> tuple[list[str], list[str]]:
        """The role's inline policy names and attached managed policy ARNs."""
        iam = self.clients.iam
        name = name or self.spec.iam_role_name
        inline = [
            policy
            for page in iam.get_paginator("list_role_policies").paginate(RoleName=name)
            for policy in page["PolicyNames"]
        ]
        attached = [
            policy["PolicyArn"]
            for page in iam.get_paginator("list_attached_role_policies").paginate(RoleName=name)
            for policy in page["AttachedPolicies"]
            if "PolicyArn" in policy
        ]
        return inline, attached

    def _refuse_extra_permissions(self, role: RoleDefinition) -> None:
        inline, attached = self.role_policies(role.name)
        extra_inline = [policy for policy in inline if policy not in role.policy_names]
        if extra_inline or attached:
            raise RedshiftClusterError(
                f"IAM role {role.name} grants more than the spec's policies"
                f" ({', '.join(sorted(role.policy_names))}) (other inline policies:"
                f" {extra_inline or 'none'}; managed policies: {attached or 'none'})."
                " redshift_cluster_up never widens what a role can reach: detach those policies,"
                " or name another role in the spec."
            )

    def delete_iam_role(self) -> bool:
        """Deletes the cluster role. False when there was none."""
        return self.delete_role(self.spec.iam_role_name)

    def delete_role(self, name: str) -> bool:
        """Deletes the role's inline policies, detaches its managed ones, deletes the role.

        False when there was no role. A role without the managed-by tag is refused. A
        ``DeleteConflict`` (a policy added meanwhile) makes it look at the policies again, up to
        three times.
        """
        iam = self.clients.iam
        tags = self.role_tags(name)
        if tags is None:
            self.log.info(f"no IAM role {name} ({NO_SUCH_ENTITY}): nothing to delete")
            return False
        if not self.spec.is_managed(tags):
            raise self._refuse("IAM role", name)
        for attempt in range(1, 4):
            try:
                inline, attached = self.role_policies(name)
                for policy_name in inline:
                    iam.delete_role_policy(RoleName=name, PolicyName=policy_name)
                    self.log.info(f"deleted inline policy {policy_name} of IAM role {name}")
                for policy_arn in attached:
                    iam.detach_role_policy(RoleName=name, PolicyArn=policy_arn)
                    self.log.info(f"detached managed policy {policy_arn} from IAM role {name}")
                iam.delete_role(RoleName=name)
            except ClientError as error:
                code = error_code(error)
                if code == NO_SUCH_ENTITY:
                    self.log.info(f"no IAM role {name} ({code}): nothing to delete")
                    return False
                if code == DELETE_CONFLICT and attempt < 3:
                    self.log.warning(f"IAM role {name} still has policies ({code}): again")
                    continue
                raise
            self.log.info(f"deleted IAM role {name}")
            return True
        raise AssertionError("unreachable")  # pragma: no cover

    # ---- the parameter group -------------------------------------------------------------------

    def parameter_group(self) -> dict[str, Any] | None:
        """The spec's parameter group as DescribeClusterParameterGroups gives it, or None."""
        try:
            groups = self.clients.redshift.describe_cluster_parameter_groups(
                ParameterGroupName=self.spec.parameter_group_name
            )["ParameterGroups"]
        except ClientError as error:
            if error_code(error) == PARAMETER_GROUP_NOT_FOUND:
                return None
            raise
        return dict(groups[0]) if groups else None

    def ensure_parameter_group(self) -> dict[str, str]:
        """The parameter group with ``require_ssl`` and ``enable_user_activity_logging`` on; the
        parameters as Redshift then reports them."""
        redshift = self.clients.redshift
        name = self.spec.parameter_group_name
        group = self.parameter_group()
        if group is None:
            try:
                redshift.create_cluster_parameter_group(
                    ParameterGroupName=name,
                    ParameterGroupFamily=self.spec.parameter_group_family,
                    Description=f"Parameters of Redshift cluster {self.spec.identifier}",
                    Tags=[{"Key": key, "Value": value} for key, value in self.spec.tags],
                )
                self.log.info(
                    f"created parameter group {name} ({self.spec.parameter_group_family})"
                )
            except ClientError as error:
                if error_code(error) != PARAMETER_GROUP_ALREADY_EXISTS:
                    raise
                self.log.info(f"parameter group {name} was created meanwhile")
                if not self.spec.is_managed((self.parameter_group() or {}).get("Tags")):
                    raise self._refuse("parameter group", name) from error
        elif not self.spec.is_managed(group.get("Tags")):
            raise self._refuse("parameter group", name)
        redshift.modify_cluster_parameter_group(
            ParameterGroupName=name,
            Parameters=[
                {"ParameterName": key, "ParameterValue": value}
                for key, value in REQUIRED_CLUSTER_PARAMETERS.items()
            ],
        )
        found = self.parameter_values()
        wrong = {
            key: found.get(key)
            for key, value in REQUIRED_CLUSTER_PARAMETERS.items()
            if found.get(key) != value
        }
        if wrong:
            raise RedshiftClusterError(f"parameter group {name} still has {wrong} after the change")
        self.log.info(
            f"parameter group {name}: "
            + ", ".join(f"{key} = {value}" for key, value in REQUIRED_CLUSTER_PARAMETERS.items())
        )
        return found

    def parameter_values(self) -> dict[str, str]:
        """Every parameter of the spec's parameter group: name -> value."""
        paginator = self.clients.redshift.get_paginator("describe_cluster_parameters")
        return {
            parameter["ParameterName"]: parameter.get("ParameterValue", "")
            for page in paginator.paginate(ParameterGroupName=self.spec.parameter_group_name)
            for parameter in page["Parameters"]
            if "ParameterName" in parameter
        }

    def delete_parameter_group(self) -> bool:
        """Deletes the spec's parameter group (ours only). False when there was none."""
        name = self.spec.parameter_group_name
        group = self.parameter_group()
        if group is None:
            self.log.info(f"no parameter group {name}: nothing to delete")
            return False
        if not self.spec.is_managed(group.get("Tags")):
            raise self._refuse("parameter group", name)
        try:
            self.clients.redshift.delete_cluster_parameter_group(ParameterGroupName=name)
        except ClientError as error:
            if error_code(error) == PARAMETER_GROUP_NOT_FOUND:
                return False
            raise
        self.log.info(f"deleted parameter group {name}")
        return True

    # ---- the security group --------------------------------------------------------------------

    def cluster_vpc_id(self) -> str:
        """The VPC the cluster lives in: its subnet group's, else the region's default VPC."""
        if self.spec.cluster_subnet_group_name:
            groups = self.clients.redshift.describe_cluster_subnet_groups(
                ClusterSubnetGroupName=self.spec.cluster_subnet_group_name
            )["ClusterSubnetGroups"]
            return groups[0]["VpcId"]
        vpcs = self.clients.ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])[
            "Vpcs"
        ]
        if not vpcs:
            raise RedshiftClusterError(
                f"region {self.clients.region} has no default VPC: create a Redshift cluster"
                " subnet group in a VPC and name it in cluster.cluster_subnet_group_name"
            )
        return vpcs[0]["VpcId"]

    def security_group(self, vpc_id: str) -> dict[str, Any] | None:
        """The spec's security group in ``vpc_id`` (with its tags), or None."""
        groups = self.clients.ec2.describe_security_groups(
            Filters=[
                {"Name": "group-name", "Values": [self.spec.security_group_name]},
                {"Name": "vpc-id", "Values": [vpc_id]},
            ]
        )["SecurityGroups"]
        return dict(groups[0]) if groups else None

    def security_group_id(self, vpc_id: str) -> str | None:
        """The id of the spec's security group in ``vpc_id``, or None."""
        group = self.security_group(vpc_id)
        return str(group["GroupId"]) if group else None

    def ingress_rules(self, group_id: str) -> list[SecurityGroupRuleTypeDef]:
        """Every ingress rule of the security group ``group_id``."""
        paginator = self.clients.ec2.get_paginator("describe_security_group_rules")
        return [
            rule
            for page in paginator.paginate(Filters=[{"Name": "group-id", "Values": [group_id]}])
            for rule in page["SecurityGroupRules"]
            if not rule.get("IsEgress", False)
        ]

    def _tag_specifications(
        self, resource_type: Literal["security-group", "security-group-rule"]
    ) -> list[TagSpecificationTypeDef]:
        tags: list[TagTypeDef] = [{"Key": key, "Value": value} for key, value in self.spec.tags]
        return [{"ResourceType": resource_type, "Tags": tags}]

    def _is_spec_rule(self, rule: SecurityGroupRuleTypeDef) -> bool:
        return (
            rule.get("IpProtocol") == "tcp"
            and rule.get("FromPort") == self.spec.port
            and rule.get("ToPort") == self.spec.port
            and rule.get("CidrIpv4") == self.spec.allowed_cidr
        )

    def ensure_network_access(self) -> str:
        """The security group with exactly one ingress rule: the port from the spec's CIDR."""
        ec2 = self.clients.ec2
        name = self.spec.security_group_name
        vpc_id = self.cluster_vpc_id()
        group = self.security_group(vpc_id)
        if group is not None and not self.spec.is_managed(group.get("Tags")):
            raise self._refuse("security group", f"{name} ({group['GroupId']})")
        group_id = str(group["GroupId"]) if group else None
        if group_id is None:
            try:
                group_id = ec2.create_security_group(
                    GroupName=name,
                    Description=f"Clients of Redshift cluster {self.spec.identifier}",
                    VpcId=vpc_id,
                    TagSpecifications=self._tag_specifications("security-group"),
                )["GroupId"]
                self.log.info(f"created security group {name} ({group_id}) in {vpc_id}")
            except ClientError as error:
                if error_code(error) != DUPLICATE_GROUP:
                    raise
                group_id = self.security_group_id(vpc_id) or ""
                self.log.info(f"security group {name} was created meanwhile ({DUPLICATE_GROUP})")
        else:
            self.log.info(f"security group {name} exists ({group_id} in {vpc_id})")

        stale = [rule for rule in self.ingress_rules(group_id) if not self._is_spec_rule(rule)]
        if stale:
            ec2.revoke_security_group_ingress(
                GroupId=group_id,
                SecurityGroupRuleIds=[rule["SecurityGroupRuleId"] for rule in stale],
            )
            for rule in stale:
                self.log.warning(f"revoked ingress rule not in the spec: {_describe_rule(rule)}")

        try:
            ec2.authorize_security_group_ingress(
                GroupId=group_id,
                IpPermissions=[
                    {
                        "IpProtocol": "tcp",
                        "FromPort": self.spec.port,
                        "ToPort": self.spec.port,
                        "IpRanges": [
                            {
                                "CidrIp": self.spec.allowed_cidr,
                                "Description": f"Redshift clients of {self.spec.identifier}",
                            }
                        ],
                    }
                ],
                TagSpecifications=self._tag_specifications("security-group-rule"),
            )
            self.log.info(
                f"security group {group_id}: TCP {self.spec.port} allowed from"
                f" {self.spec.allowed_cidr} only"
            )
        except ClientError as error:
            if error_code(error) != DUPLICATE_PERMISSION:
                raise
            self.log.info(
                f"security group {group_id}: TCP {self.spec.port} from {self.spec.allowed_cidr}"
                f" is already allowed ({DUPLICATE_PERMISSION}): nothing to do"
            )
        return group_id

    def remove_network_access(self) -> bool:
        """Revokes the security group's ingress rules and deletes it. False when there was none."""
        ec2 = self.clients.ec2
        name = self.spec.security_group_name
        try:
            vpc_id = self.cluster_vpc_id()
        except RedshiftClusterError:
            vpc_id = ""
        group = self.security_group(vpc_id) if vpc_id else None
        if group is None:
            self.log.info(f"no security group {name}: no ingress rule to revoke, nothing to do")
            return False
        group_id = str(group["GroupId"])
        if not self.spec.is_managed(group.get("Tags")):
            raise self._refuse("security group", f"{name} ({group_id})")
        rules = self.ingress_rules(group_id)
        if rules:
            try:
                ec2.revoke_security_group_ingress(
                    GroupId=group_id,
                    SecurityGroupRuleIds=[rule["SecurityGroupRuleId"] for rule in rules],
                )
                for rule in rules:
                    self.log.info(f"revoked ingress rule {_describe_rule(rule)} of {group_id}")
            except ClientError as error:
                if error_code(error) != PERMISSION_NOT_FOUND:
                    raise
                self.log.info(f"ingress rules of {group_id} already gone: nothing to revoke")
        else:
            self.log.info(f"security group {group_id} has no ingress rule: nothing to revoke")
        self._delete_security_group(group_id)
        return True

    def _delete_security_group(self, group_id: str) -> None:
        # The cluster's network interfaces can outlive it by a few minutes: DependencyViolation.
        for attempt in range(1, self.wait.max_attempts + 1):
            try:
                self.clients.ec2.delete_security_group(GroupId=group_id)
            except ClientError as error:
                code = error_code(error)
                if code == GROUP_NOT_FOUND:
                    self.log.info(f"security group {group_id} already deleted: nothing to do")
                    return
                if code != DEPENDENCY_VIOLATION or attempt == self.wait.max_attempts:
                    raise
                self.log.info(
                    f"security group {group_id} is still in use ({code}), probably by the"
                    f" deleted cluster's network interfaces: check {attempt}, trying again"
                )
                self.wait.sleep(self.wait.delay_seconds)
                continue
            self.log.info(f"deleted security group {self.spec.security_group_name} ({group_id})")
            return

    # ---- the S3 gateway endpoint (enhanced VPC routing) ----------------------------------------

    @property
    def s3_service_name(self) -> str:
        return f"com.amazonaws.{self.clients.region}.s3"

    def cluster_route_table_ids(self, vpc_id: str) -> list[str]:
        """The route tables of the cluster's subnets: those associated with the subnet group's
        subnets, plus the VPC's main table when a subnet has none of its own (always so for the
        default VPC's default subnets)."""
        ec2 = self.clients.ec2
        subnet_ids: list[str] = []
        if self.spec.cluster_subnet_group_name:
            groups = self.clients.redshift.describe_cluster_subnet_groups(
                ClusterSubnetGroupName=self.spec.cluster_subnet_group_name
            )["ClusterSubnetGroups"]
            subnet_ids = [
                subnet["SubnetIdentifier"]
                for subnet in groups[0].get("Subnets", [])
                if "SubnetIdentifier" in subnet
            ]
        tables = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])[
            "RouteTables"
        ]
        chosen: list[str] = []
        explicitly_routed: set[str] = set()
        main = ""
        for table in tables:
            for association in table.get("Associations", []):
                if association.get("Main"):
                    main = table["RouteTableId"]
                elif association.get("SubnetId") in subnet_ids:
                    explicitly_routed.add(association["SubnetId"])
                    if table["RouteTableId"] not in chosen:
                        chosen.append(table["RouteTableId"])
        if (not subnet_ids or set(subnet_ids) - explicitly_routed) and main and main not in chosen:
            chosen.append(main)
        return chosen

    def s3_gateway_endpoints(self, vpc_id: str) -> list[dict[str, Any]]:
        """The VPC's gateway endpoints to S3 (ours and anybody else's)."""
        endpoints = self.clients.ec2.describe_vpc_endpoints(
            Filters=[
                {"Name": "vpc-id", "Values": [vpc_id]},
                {"Name": "service-name", "Values": [self.s3_service_name]},
                {"Name": "vpc-endpoint-type", "Values": ["Gateway"]},
            ]
        )["VpcEndpoints"]
        return [
            dict(endpoint)
            for endpoint in endpoints
            if endpoint.get("State", "available").lower() not in {"deleted", "deleting"}
        ]

    def ensure_s3_gateway_endpoint(self) -> str:
        """With enhanced VPC routing, COPY and UNLOAD reach S3 through the VPC: without a gateway
        endpoint (or a NAT) on the cluster's route tables every COPY fails. Route tables already
        served by somebody's S3 endpoint are left as they are; the rest get ours (created, or
        extended when it exists). Its id, or "" when none is needed."""
        if not self.spec.enhanced_vpc_routing:
            self.log.info("enhanced_vpc_routing = false: no S3 gateway endpoint needed")
            return ""
        ec2 = self.clients.ec2
        vpc_id = self.cluster_vpc_id()
        needed = self.cluster_route_table_ids(vpc_id)
        endpoints = self.s3_gateway_endpoints(vpc_id)
        ours = [endpoint for endpoint in endpoints if self.spec.is_managed(endpoint.get("Tags"))]
        served = {table for endpoint in endpoints for table in endpoint.get("RouteTableIds", [])}
        missing = [table for table in needed if table not in served]
        if not missing:
            ids = sorted(
                {
                    e["VpcEndpointId"]
                    for e in endpoints
                    if set(e.get("RouteTableIds", [])) & set(needed)
                }
            )
            self.log.info(
                f"route tables {needed} of {vpc_id} already reach S3 through gateway endpoint(s)"
                f" {ids}: nothing to do"
            )
            return ours[0]["VpcEndpointId"] if ours else (ids[0] if ids else "")
        if ours:
            endpoint_id = str(ours[0]["VpcEndpointId"])
            ec2.modify_vpc_endpoint(VpcEndpointId=endpoint_id, AddRouteTableIds=missing)
            self.log.info(f"S3 gateway endpoint {endpoint_id}: route tables {missing} added")
            return endpoint_id
        endpoint_id = str(
            ec2.create_vpc_endpoint(
                VpcEndpointType="Gateway",
                VpcId=vpc_id,
                ServiceName=self.s3_service_name,
                RouteTableIds=missing,
                TagSpecifications=[
                    {
                        "ResourceType": "vpc-endpoint",
                        "Tags": [{"Key": k, "Value": v} for k, v in self.spec.tags],
                    }
                ],
            )["VpcEndpoint"]["VpcEndpointId"]
        )
        self.log.info(
            f"created S3 gateway endpoint {endpoint_id} in {vpc_id} for route tables {missing}:"
            " COPY/UNLOAD reach S3 inside the VPC (enhanced VPC routing)"
        )
        return endpoint_id

    def remove_s3_gateway_endpoint(self) -> bool:
        """Deletes the S3 gateway endpoints this project created (tagged) in the cluster's VPC;
        anybody else's stay. False when there was none of ours."""
        try:
            vpc_id = self.cluster_vpc_id()
        except RedshiftClusterError:
            return False
        ours = [
            str(endpoint["VpcEndpointId"])
            for endpoint in self.s3_gateway_endpoints(vpc_id)
            if self.spec.is_managed(endpoint.get("Tags"))
        ]
        if not ours:
            self.log.info(f"no S3 gateway endpoint of this project in {vpc_id}: nothing to delete")
            return False
        self.clients.ec2.delete_vpc_endpoints(VpcEndpointIds=ours)
        self.log.info(f"deleted S3 gateway endpoint(s) {ours}")
        return True

    # ---- the cluster ---------------------------------------------------------------------------

    def describe_cluster(self) -> ClusterTypeDef | None:
        """The cluster as Redshift describes it, or None when there is none."""
        try:
            clusters = self.clients.redshift.describe_clusters(
                ClusterIdentifier=self.spec.identifier
            )["Clusters"]
        except ClientError as error:
            if error_code(error) == CLUSTER_NOT_FOUND:
                return None
            raise
        return clusters[0] if clusters else None

    def _existing_cluster(self) -> ClusterTypeDef:
        cluster = self.describe_cluster()
        if cluster is None:
            raise RedshiftClusterError(f"cluster {self.spec.identifier} disappeared meanwhile")
        return cluster

    def create_cluster(self, request: Mapping[str, Any]) -> bool:
        """Sends ``CreateCluster``; False when it answers ``ClusterAlreadyExists``."""
        try:
            self.clients.redshift.create_cluster(**request)
        except ClientError as error:
            if error_code(error) == CLUSTER_ALREADY_EXISTS:
                return False
            raise
        return True

    def ensure_cluster(
        self, role_arn: str, security_group_id: str, master_password: str = ""
    ) -> ClusterTypeDef:
        """Creates the cluster, or reuses the existing one (resuming it when paused)."""
        identifier = self.spec.identifier
        cluster = self.describe_cluster()
        if cluster is None and self.spec.restore_from_newest_snapshot:
            snapshot = self.newest_snapshot()
            if snapshot is not None:
                return self.restore_cluster(snapshot, role_arn, security_group_id)
            self.log.warning(
                f"restore.from_newest_snapshot = true but cluster {identifier} has no available"
                " snapshot: creating an EMPTY cluster"
            )
        if cluster is None:
            request = cluster_create_request(
                self.spec,
                role_arn=role_arn,
                security_group_ids=[security_group_id],
                master_password=master_password,
            )
            if self.create_cluster(request):
                self.log.info(
                    f"creating cluster {identifier}: {self.spec.number_of_nodes} x"
                    f" {self.spec.node_type} ({self.spec.cluster_type}), encrypted,"
                    f" {'publicly' if self.spec.publicly_accessible else 'not publicly'}"
                    f" accessible, role {role_arn}, security group {security_group_id},"
                    " master password "
                    + ("managed by Redshift" if self.spec.manage_master_password else "given")
                )
            else:
                self.log.info(
                    f"cluster {identifier} was created meanwhile ({CLUSTER_ALREADY_EXISTS}):"
                    " reusing it"
                )
            # DescribeClusters may lag CreateCluster for a moment; the wait that follows retries.
            return self.describe_cluster() or {
                "ClusterIdentifier": identifier,
                "ClusterStatus": "creating",
            }
        status = cluster.get("ClusterStatus", "unknown")
        if not self.spec.is_managed(cluster.get("Tags")):
            raise self._refuse("Redshift cluster", identifier)
        self.log.info(f"cluster {identifier} already exists ({status}): reusing it")
        if status in DELETING_STATES:
            raise RedshiftClusterError(
                f"cluster {identifier} is being deleted ({status}): run redshift_cluster_up"
                " again once redshift_cluster_down has finished"
            )
        if status == "pausing":
            self.log.info(f"cluster {identifier} is pausing: resuming it once paused")
            self.wait_until_paused()
            status = "paused"
        if status == "paused":
            self._change_state("resume", self.clients.redshift.resume_cluster)
            self.log.info(f"cluster {identifier} was paused: resuming it")
        return self._existing_cluster()

    def newest_snapshot(self) -> SnapshotTypeDef | None:
        """The newest available snapshot (manual or automated) of the spec's identifier."""
        paginator = self.clients.redshift.get_paginator("describe_cluster_snapshots")
        try:
            snapshots = [
                snapshot
                for page in paginator.paginate(ClusterIdentifier=self.spec.identifier)
                for snapshot in page["Snapshots"]
                if snapshot.get("ClusterIdentifier") == self.spec.identifier
                and snapshot.get("Status") == "available"
                and "SnapshotCreateTime" in snapshot
            ]
        except ClientError as error:
            if error_code(error) in {CLUSTER_NOT_FOUND, "ClusterSnapshotNotFound"}:
                return None
            raise
        return max(snapshots, key=lambda snapshot: snapshot["SnapshotCreateTime"], default=None)

    def restore_cluster(
        self, snapshot: SnapshotTypeDef, role_arn: str, security_group_id: str
    ) -> ClusterTypeDef:
        """``RestoreFromClusterSnapshot`` with the spec's network, role and controls, then the
        spec's tags (RestoreFromClusterSnapshot takes none)."""
        identifier = self.spec.identifier
        snapshot_id = snapshot.get("SnapshotIdentifier", "")
        request: dict[str, Any] = {
            "ClusterIdentifier": identifier,
            "SnapshotIdentifier": snapshot_id,
            "SnapshotClusterIdentifier": identifier,
            "Port": self.spec.port,
            "PubliclyAccessible": self.spec.publicly_accessible,
            "VpcSecurityGroupIds": [security_group_id],
            "ClusterParameterGroupName": self.spec.parameter_group_name,
            "EnhancedVpcRouting": self.spec.enhanced_vpc_routing,
            "AutomatedSnapshotRetentionPeriod": self.spec.automated_snapshot_retention_days,
            "IamRoles": [role_arn],
            "NodeType": self.spec.node_type,
            "NumberOfNodes": self.spec.number_of_nodes,
        }
        if self.spec.cluster_subnet_group_name:
            request["ClusterSubnetGroupName"] = self.spec.cluster_subnet_group_name
        if self.spec.kms_key_id:
            request["KmsKeyId"] = self.spec.kms_key_id
        if self.spec.manage_master_password:
            request["ManageMasterPassword"] = True
        try:
            self.clients.redshift.restore_from_cluster_snapshot(**request)
        except ClientError as error:
            if error_code(error) != CLUSTER_ALREADY_EXISTS:
                raise
            self.log.info(f"cluster {identifier} was created meanwhile: reusing it")
            return self._existing_cluster()
        self.clients.redshift.create_tags(
            ResourceName=self.spec.cluster_arn(self.account),
            Tags=[{"Key": key, "Value": value} for key, value in self.spec.tags],
        )
        self.log.warning(
            f"restoring cluster {identifier} from snapshot {snapshot_id} taken"
            f" {snapshot.get('SnapshotCreateTime')} (restore.from_newest_snapshot = true): its data"
            " is the snapshot's, not an empty warehouse"
        )
        return self.describe_cluster() or {
            "ClusterIdentifier": identifier,
            "ClusterStatus": "creating",
        }

    def drift(self, cluster: ClusterTypeDef) -> list[str]:
        """How an existing cluster differs from the spec in ways ``up`` does not change."""
        expected: dict[str, Any] = {
            "NodeType": self.spec.node_type,
            "NumberOfNodes": self.spec.number_of_nodes,
            "DBName": self.spec.database_name,
            "MasterUsername": self.spec.master_username,
        }
        found = [
            f"{key} is {cluster.get(key)!r}, the spec says {value!r} (resize or recreate to match)"
            for key, value in expected.items()
            if cluster.get(key) != value
        ]
        if not cluster.get("Encrypted", False):
            found.append("the cluster is NOT encrypted at rest: enable encryption on it")
        return found

    def converge_cluster(self, role_arn: str, security_group_id: str) -> ClusterTypeDef:
        """Makes an available cluster match the spec where that is cheap and safe to do: the role
        attached, only the spec's security group, public accessibility as the spec says."""
        identifier = self.spec.identifier
        redshift = self.clients.redshift
        cluster = self._existing_cluster()
        if not self.spec.is_managed(cluster.get("Tags")):
            raise self._refuse("Redshift cluster", identifier)
        for difference in self.drift(cluster):
            self.log.warning(f"cluster {identifier}: {difference}")
        changes: dict[str, Any] = {}
        groups = [group.get("VpcSecurityGroupId") for group in cluster.get("VpcSecurityGroups", [])]
        if groups != [security_group_id]:
            changes["VpcSecurityGroupIds"] = [security_group_id]
            self.log.warning(
                f"cluster {identifier}: security groups {groups} replaced by {security_group_id}"
            )
        if bool(cluster.get("PubliclyAccessible")) != self.spec.publicly_accessible:
            changes["PubliclyAccessible"] = self.spec.publicly_accessible
            self.log.warning(
                f"cluster {identifier}: publicly accessible set to {self.spec.publicly_accessible}"
            )
        groups_applied = [
            group.get("ParameterGroupName") for group in cluster.get("ClusterParameterGroups", [])
        ]
        if groups_applied != [self.spec.parameter_group_name]:
            changes["ClusterParameterGroupName"] = self.spec.parameter_group_name
            self.log.warning(
                f"cluster {identifier}: parameter group {groups_applied} replaced by"
                f" {self.spec.parameter_group_name}; require_ssl is a static parameter, applied"
                " at the next reboot (aws redshift reboot-cluster --cluster-identifier"
                f" {identifier})"
            )
        if bool(cluster.get("EnhancedVpcRouting")) != self.spec.enhanced_vpc_routing:
            changes["EnhancedVpcRouting"] = self.spec.enhanced_vpc_routing
            self.log.warning(
                f"cluster {identifier}: enhanced VPC routing set to"
                f" {self.spec.enhanced_vpc_routing}"
            )
        if changes:
            redshift.modify_cluster(ClusterIdentifier=identifier, **changes)
            self.wait_until_available()
        roles = [role.get("IamRoleArn") for role in cluster.get("IamRoles", [])]
        if role_arn not in roles:
            redshift.modify_cluster_iam_roles(ClusterIdentifier=identifier, AddIamRoles=[role_arn])
            self.log.info(f"cluster {identifier}: attached IAM role {role_arn}")
            self.wait_until_available()
        self.ensure_audit_logging()
        return self._existing_cluster()

    def ensure_audit_logging(self) -> dict[str, Any]:
        """Audit logging (connection, user and user activity logs) to the spec's destination;
        DescribeLoggingStatus afterwards."""
        redshift = self.clients.redshift
        identifier = self.spec.identifier
        wanted = self.spec.audit_logging
        status: dict[str, Any] = dict(
            redshift.describe_logging_status(ClusterIdentifier=identifier)
        )
        same = (
            status.get("LoggingEnabled")
            and status.get("LogDestinationType") == wanted.destination
            and sorted(status.get("LogExports") or []) == sorted(wanted.log_exports)
            and (wanted.destination != "s3" or status.get("BucketName") == wanted.bucket)
        )
        if same:
            self.log.info(f"cluster {identifier}: audit logging to {wanted.destination} already on")
            return status
        redshift.enable_logging(**wanted.enable_logging_request(identifier))
        status = dict(redshift.describe_logging_status(ClusterIdentifier=identifier))
        where = (
            f"s3://{wanted.bucket}/{wanted.s3_key_prefix}"
            if wanted.destination == "s3"
            else (f"CloudWatch log group /aws/redshift/cluster/{identifier}/<log type>")
        )
        self.log.info(
            f"cluster {identifier}: audit logging ({', '.join(wanted.log_exports)}) to {where}"
        )
        return status

    def connection(self, cluster: ClusterTypeDef, role_arn: str) -> ClusterConnection:
        """How the warehouse reaches ``cluster`` (which must have an endpoint)."""
        endpoint = cluster.get("Endpoint") or {}
        host = endpoint.get("Address", "")
        if not host:
            raise RedshiftClusterError(f"cluster {self.spec.identifier} has no endpoint yet")
        return ClusterConnection(
            cluster_identifier=self.spec.identifier,
            region=self.clients.region,
            host=host,
            port=int(endpoint.get("Port", self.spec.port)),
            database_name=cluster.get("DBName", self.spec.database_name),
            master_username=cluster.get("MasterUsername", self.spec.master_username),
            etl_user=self.spec.etl_user,
            iam_role_arn=role_arn,
            master_password_secret_arn=cluster.get("MasterPasswordSecretArn", ""),
        )

    def pause(self) -> bool:
        """Pauses an available cluster and waits until paused. False when there is no cluster."""
        identifier = self.spec.identifier
        cluster = self.describe_cluster()
        if cluster is None:
            self.log.info(f"no cluster {identifier}: nothing to pause, nothing is billed")
            return False
        status = cluster.get("ClusterStatus", "unknown")
        if status == "paused":
            self.log.info(f"cluster {identifier} is already paused: nothing to do")
            return True
        if status == "pausing":
            self.log.info(f"cluster {identifier} is already pausing")
        elif status == "available":
            self._change_state("pause", self.clients.redshift.pause_cluster)
            self.log.info(f"pausing cluster {identifier}: node hours stop; storage is still billed")
        else:
            raise RedshiftClusterError(
                f"cluster {identifier} is {status}: it can be paused only when available"
            )
        self.wait_until_paused()
        return True

    def resume(self) -> None:
        """Resumes a paused cluster and waits until it is available."""
        identifier = self.spec.identifier
        cluster = self.describe_cluster()
        if cluster is None:
            raise RedshiftClusterError(
                f"no cluster {identifier} to resume: run redshift_cluster_up to create it"
            )
        status = cluster.get("ClusterStatus", "unknown")
        if status == "available":
            self.log.info(f"cluster {identifier} is already available: nothing to do")
            return
        if status == "paused":
            self._change_state("resume", self.clients.redshift.resume_cluster)
            self.log.info(f"resuming cluster {identifier}")
        elif status != "resuming":
            raise RedshiftClusterError(
                f"cluster {identifier} is {status}: only a paused cluster can be resumed"
            )
        self.wait_until_available()

    def _change_state(self, verb: str, call: Callable[..., Any]) -> None:
        try:
            call(ClusterIdentifier=self.spec.identifier)
        except ClientError as error:
            if error_code(error) == INVALID_CLUSTER_STATE:
                raise RedshiftClusterError(
                    f"cannot {verb} cluster {self.spec.identifier} now ({INVALID_CLUSTER_STATE}:"
                    f" {error.response.get('Error', {}).get('Message', '')}); try again later"
                ) from error
            raise

    def delete_cluster(self, now: datetime | None = None) -> bool:
        """Deletes the cluster (final snapshot if the spec asks) and waits until it is gone.

        False when there was no cluster.
        """
        identifier = self.spec.identifier
        cluster = self.describe_cluster()
        if cluster is None:
            self.log.info(f"no cluster {identifier} ({CLUSTER_NOT_FOUND}): nothing to delete")
            return False
        status = cluster.get("ClusterStatus", "unknown")
        if not self.spec.is_managed(cluster.get("Tags")):
            raise self._refuse("Redshift cluster", identifier)
        if status in DELETING_STATES:
            self.log.info(f"cluster {identifier} is already being deleted ({status})")
        else:
            request: dict[str, Any] = {"ClusterIdentifier": identifier}
            if self.spec.final_snapshot:
                stamp = (now or datetime.now(UTC)).strftime("%Y%m%d-%H%M%S")
                snapshot = f"{self.spec.final_snapshot_prefix}-{stamp}"
                request.update(
                    SkipFinalClusterSnapshot=False, FinalClusterSnapshotIdentifier=snapshot
                )
                self.log.info(f"deleting cluster {identifier} after a final snapshot {snapshot}")
            else:
                request["SkipFinalClusterSnapshot"] = True
                self.log.warning(
                    f"NO FINAL SNAPSHOT: deleting cluster {identifier} without one"
                    f" (teardown.final_snapshot = false in {self.spec.source_path.name}): every"
                    " table, load_quarantine's history included, is gone for good"
                )
            try:
                self.clients.redshift.delete_cluster(**request)
            except ClientError as error:
                if error_code(error) == CLUSTER_NOT_FOUND:
                    self.log.info(f"cluster {identifier} vanished meanwhile: nothing to delete")
                    return False
                raise
        self.wait_until_deleted()
        return True

    # ---- the pause/resume schedule -------------------------------------------------------------

    def scheduled_actions(self) -> dict[str, dict[str, Any]]:
        """The spec's two scheduled actions that exist, by name."""
        found: dict[str, dict[str, Any]] = {}
        for name in self.spec.scheduled_action_names:
            try:
                actions = self.clients.redshift.describe_scheduled_actions(
                    ScheduledActionName=name
                )["ScheduledActions"]
            except ClientError as error:
                if error_code(error) == SCHEDULED_ACTION_NOT_FOUND:
                    continue
                raise
            if actions:
                found[name] = dict(actions[0])
        return found

    def _is_our_action(self, action: Mapping[str, Any]) -> bool:
        target = action.get("TargetAction") or {}
        clusters = {
            str(details.get("ClusterIdentifier", ""))
            for details in target.values()
            if isinstance(details, dict)
        }
        role = str(action.get("IamRole", ""))
        return clusters == {self.spec.identifier} and role.endswith(
            f":role/{self.spec.schedule.role_name}"
        )

    def ensure_schedule(self) -> list[str]:
        """With ``schedule.enabled``: the scheduler role and the resume and pause actions, as the
        spec says. Without: removes ours if a previous spec made them. The actions' names."""
        schedule = self.spec.schedule
        if not schedule.enabled:
            removed = self.remove_schedule()
            self.log.info(
                "schedule.enabled = false: the cluster is paused and resumed by hand"
                + (f" (removed {removed})" if removed else "")
            )
            return []
        redshift = self.clients.redshift
        role_arn = self.ensure_role(self.spec.scheduler_role(self.account))
        existing = self.scheduled_actions()
        resume_name, pause_name = self.spec.scheduled_action_names
        wanted = {
            resume_name: ("ResumeCluster", schedule.resume_at_utc),
            pause_name: ("PauseCluster", schedule.pause_at_utc),
        }
        for name, (action, at) in wanted.items():
            arguments: dict[str, Any] = {
                "ScheduledActionName": name,
                "TargetAction": {action: {"ClusterIdentifier": self.spec.identifier}},
                "Schedule": schedule.cron(at),
                "IamRole": role_arn,
                "ScheduledActionDescription": (
                    f"{action} {self.spec.identifier} at {at} UTC on {schedule.days}"
                    f" ({self.spec.managed_by})"
                ),
                "Enable": True,
            }
            if name in existing:
                if not self._is_our_action(existing[name]):
                    raise RedshiftClusterError(
                        f"scheduled action {name} is not this project's: nothing was changed"
                    )
                redshift.modify_scheduled_action(**arguments)
            else:
                try:
                    redshift.create_scheduled_action(**arguments)
                except ClientError as error:
                    if error_code(error) != SCHEDULED_ACTION_ALREADY_EXISTS:
                        raise
                    redshift.modify_scheduled_action(**arguments)
            self.log.info(f"scheduled action {name}: {action} at {schedule.cron(at)} (UTC)")
        return list(wanted)

    def remove_schedule(self) -> list[str]:
        """Deletes our scheduled actions and the scheduler role. The actions deleted."""
        removed = []
        for name, action in self.scheduled_actions().items():
            if not self._is_our_action(action):
                raise RedshiftClusterError(
                    f"scheduled action {name} is not this project's: it was left as it is"
                )
            try:
                self.clients.redshift.delete_scheduled_action(ScheduledActionName=name)
            except ClientError as error:
                if error_code(error) != SCHEDULED_ACTION_NOT_FOUND:
                    raise
            removed.append(name)
            self.log.info(f"deleted scheduled action {name}")
        self.delete_role(self.spec.schedule.role_name)
        return removed

    # ---- waiting -------------------------------------------------------------------------------

    def wait_until_available(self) -> None:
        self._wait(self.clients.redshift.get_waiter("cluster_available"), "available")

    def wait_until_deleted(self) -> None:
        self._wait(self.clients.redshift.get_waiter("cluster_deleted"), "deleted")

    def wait_until_paused(self) -> None:
        waiter = create_waiter_with_client(
            "ClusterPaused", _PAUSED_WAITER_MODEL, self.clients.redshift
        )
        self._wait(waiter, "paused")

    def _wait(self, waiter: Any, goal: str) -> None:
        """Runs ``waiter`` one check at a time, so that every check is logged with the state."""
        identifier = self.spec.identifier
        started = time.monotonic()
        status = "unknown"
        for attempt in range(1, self.wait.max_attempts + 1):
            try:
                waiter.wait(
                    ClusterIdentifier=identifier, WaiterConfig={"Delay": 1, "MaxAttempts": 1}
                )
            except WaiterError as error:
                reason = str(error.kwargs.get("reason", ""))
                if not reason.startswith("Max attempts exceeded"):
                    raise RedshiftClusterError(
                        f"cluster {identifier} will not become {goal}: {reason}"
                    ) from error
                status = _cluster_status(error.last_response)
                elapsed = time.monotonic() - started
                self.log.info(
                    f"waiting for cluster {identifier} to be {goal}: {status} after"
                    f" {elapsed:.0f}s (check {attempt} of {self.wait.max_attempts})"
                )
                if attempt < self.wait.max_attempts:
                    self.wait.sleep(self.wait.delay_seconds)
                continue
            elapsed = time.monotonic() - started
            self.log.info(f"cluster {identifier} is {goal} (after {elapsed:.0f}s)")
            return
        raise RedshiftClusterWaitTimeout(
            f"cluster {identifier} was still {status}, not {goal}, after"
            f" {self.wait.max_attempts} checks {self.wait.delay_seconds:g}s apart (about"
            f" {self.wait.timeout_seconds:.0f}s). AWS goes on with it: run the job again to keep"
            " waiting, or raise wait_max_attempts."
        )


def _describe_rule(rule: SecurityGroupRuleTypeDef) -> str:
    source = (
        rule.get("CidrIpv4")
        or rule.get("CidrIpv6")
        or rule.get("PrefixListId")
        or (rule.get("ReferencedGroupInfo") or {}).get("GroupId", "?")
    )
    protocol = rule.get("IpProtocol", "?")
    ports = f"{rule.get('FromPort')}-{rule.get('ToPort')}"
    return f"{rule.get('SecurityGroupRuleId', '?')} ({protocol} {ports} from {source})"
