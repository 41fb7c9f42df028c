"""The Redshift cluster specification: ``infra/redshift_cluster.toml`` and its IAM policy documents,
loaded into one typed, validated value.

Everything a cluster job needs to know about *what* to build is here, checked before any AWS call:
names follow Redshift's and IAM's rules, the node count makes a multi-node cluster, the CIDR allowed
to connect is not the whole internet unless the spec says so explicitly, the role is trusted by
Redshift only, for the ETL database user only (``sts:ExternalId``), and its permission policy reads
the configured buckets and prefixes only; the parameter group requires SSL, audit logging goes to
CloudWatch or S3, the pause/resume schedule (off by default) has a role of its own trusted by the
Redshift scheduler of this account only, and the ``managed-by`` tag that marks what the jobs own is
there. docs/cluster_security.md says which AWS control each of these satisfies.

Where the spec lives: ``$SPARKIFY_CLUSTER_SPEC`` if set, else ``infra/`` in a checkout, else the
copy packaged in the wheel as ``sparkify_assets/_infra``. Policy files named in the spec are looked
up beside the spec first, then in that ``infra/`` directory.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import os
import re
import string
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypedDict

SPEC_PATH_ENV_VAR = "SPARKIFY_CLUSTER_SPEC"
SPEC_FILE_NAME = "redshift_cluster.toml"
REDSHIFT_SERVICE_PRINCIPAL = "redshift.amazonaws.com"
REDSHIFT_SCHEDULER_PRINCIPAL = "scheduler.redshift.amazonaws.com"
MANAGED_BY_TAG = "managed-by"
# Parameters the cluster's parameter group always has (Security Hub Redshift.2 / CT.REDSHIFT.PR.9,
# and the user activity log that Redshift.4's audit logging needs for queries).
REQUIRED_CLUSTER_PARAMETERS: Mapping[str, str] = {
    "require_ssl": "true",
    "enable_user_activity_logging": "true",
}
AUDIT_LOG_TYPES = ("connectionlog", "userlog", "useractivitylog")
WEEKDAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")

_CLUSTER_IDENTIFIER = re.compile(r"^[a-z](?!.*--)[a-z0-9-]{0,62}(?<!-)$")
_DATABASE_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_MASTER_USERNAME = re.compile(r"^[a-z][a-z0-9_+.@-]{0,127}$")
_IAM_NAME = re.compile(r"^[\w+=,.@-]{1,64}$")
_IAM_POLICY_NAME = re.compile(r"^[\w+=,.@-]{1,128}$")
_BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_SECURITY_GROUP_NAME = re.compile(r"^[A-Za-z0-9 ._\-:/()#,@\[\]+=&;{}!$*]{1,255}$")
_SNAPSHOT_PREFIX = re.compile(r"^[a-z](?!.*--)[a-z0-9-]{0,200}(?<!-)$")
_NODE_TYPE = re.compile(r"^[a-z0-9]+\.[a-z0-9]+$")
_REGION = re.compile(r"^[a-z]{2}(-gov)?-[a-z]+-\d$")
_PARAMETER_GROUP_NAME = re.compile(r"^[a-z](?!.*--)[a-z0-9-]{0,254}(?<!-)$")
_PARAMETER_GROUP_FAMILY = re.compile(r"^redshift-\d+\.\d+$")
# A database user name the project splices into SQL and ARNs: lower case, no quoting ever needed.
_DATABASE_USER = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
_SCHEMA_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
_S3_KEY_PREFIX = re.compile(r"^[A-Za-z0-9_.:/=+@-]{0,512}$")
_TIME_OF_DAY = re.compile(r"^(?P<hour>[01]\d|2[0-3]):(?P<minute>[0-5]\d)$")
_DAYS = re.compile(
    r"^(?:SUN|MON|TUE|WED|THU|FRI|SAT)(?:-(?:SUN|MON|TUE|WED|THU|FRI|SAT))?(?:,(?:SUN|MON|TUE|WED|THU|FRI|SAT)(?:-(?:SUN|MON|TUE|WED|THU|FRI|SAT))?)*$"
)
# Names a database user must not take (Redshift's reserved ones, SQL words we would have to quote).
_RESERVED_USERS = frozenset({"public", "rdsdb", "user", "admin", "root", "all", "group"})
_WHOLE_PLACEHOLDER = re.compile(r"^\$\{(\w+)\}$")

# Redshift's own rule: RA3 (and RG) nodes listen on 5431-5455 or 8191-8215, other types 1150-65535.
_RA3_PORTS = (range(5431, 5456), range(8191, 8216))


class AwsTag(TypedDict):
    """One tag as the AWS APIs take it."""

    Key: str
    Value: str


class RedshiftClusterSpecError(ValueError):
    """The cluster specification (or a policy document it names) is missing or invalid."""


@dataclass(frozen=True)
class S3ReadAccess:
    """One bucket the cluster may read, restricted to key prefixes (a "folder" or one object)."""

    bucket: str
    prefixes: tuple[str, ...]


@dataclass(frozen=True)
class AccountContext:
    """Where the roles and ARNs are rendered for: the caller's account and the resolved region."""

    account_id: str
    region: str

    @property
    def partition(self) -> str:
        return aws_partition(self.region)

    def redshift_arn(self, resource: str) -> str:
        """``arn:<partition>:redshift:<region>:<account>:<resource>``."""
        return f"arn:{self.partition}:redshift:{self.region}:{self.account_id}:{resource}"


@dataclass(frozen=True)
class RolePolicy:
    """One inline policy of a role: its name and its rendered JSON document."""

    name: str
    document: str


@dataclass(frozen=True)
class RoleDefinition:
    """An IAM role the jobs own: its name, purpose, trust policy and *only* inline policies."""

    name: str
    description: str
    trust_policy: str
    policies: tuple[RolePolicy, ...]

    @property
    def policy_names(self) -> frozenset[str]:
        return frozenset(policy.name for policy in self.policies)


@dataclass(frozen=True)
class AuditLogging:
    """Where Redshift's audit logs go (EnableLogging's LogDestinationType, LogExports, bucket)."""

    destination: str  # "cloudwatch" or "s3"
    log_exports: tuple[str, ...]
    bucket: str
    s3_key_prefix: str

    def enable_logging_request(self, cluster_identifier: str) -> dict[str, Any]:
        """The ``EnableLogging`` arguments."""
        request: dict[str, Any] = {
            "ClusterIdentifier": cluster_identifier,
            "LogDestinationType": self.destination,
            "LogExports": list(self.log_exports),
        }
        if self.destination == "s3":
            request["BucketName"] = self.bucket
            if self.s3_key_prefix:
                request["S3KeyPrefix"] = self.s3_key_prefix
        return request


@dataclass(frozen=True)
class PauseSchedule:
    """When Redshift's scheduler resumes and pauses the cluster (UTC, cron day-of-week names)."""

    enabled: bool
    role_name: str
    days: str
    resume_at_utc: str
    pause_at_utc: str

    def cron(self, time_of_day: str) -> str:
        """``cron(minute hour ? * days *)``: Redshift's scheduled-action cron format."""
        hour, minute = time_of_day.split(":")
        return f"cron({int(minute)} {int(hour)} ? * {self.days} *)"


@dataclass(frozen=True)
class RedshiftClusterSpec:
    """The whole declarative description of the cluster and what surrounds it."""

    source_path: Path
    identifier: str
    region: str
    node_type: str
    number_of_nodes: int
    database_name: str
    master_username: str
    port: int
    publicly_accessible: bool
    manage_master_password: bool
    kms_key_id: str
    cluster_subnet_group_name: str
    enhanced_vpc_routing: bool
    automated_snapshot_retention_days: int
    parameter_group_name: str
    parameter_group_family: str
    audit_logging: AuditLogging
    etl_user: str
    etl_schema: str
    iam_role_name: str
    iam_policy_name: str
    s3_read_access: tuple[S3ReadAccess, ...]
    trust_policy_template: str
    permission_policy_template: str
    security_group_name: str
    allowed_cidr: str
    allow_public_ingress: bool
    schedule: PauseSchedule
    scheduler_trust_policy_template: str
    scheduler_policy_template: str
    etl_connect_policy_template: str
    final_snapshot: bool
    final_snapshot_prefix: str
    restore_from_newest_snapshot: bool
    tags: tuple[tuple[str, str], ...]

    @property
    def cluster_type(self) -> str:
        """``multi-node`` for two nodes or more, as Redshift names it."""
        return "multi-node" if self.number_of_nodes > 1 else "single-node"

    @property
    def opens_to_internet(self) -> bool:
        """Whether ``allowed_cidr`` is every address (0.0.0.0/0)."""
        return ipaddress.ip_network(self.allowed_cidr).prefixlen == 0

    def tag_list(self) -> list[AwsTag]:
        """The tags in the ``[{"Key": ..., "Value": ...}]`` form every AWS API here takes."""
        return [{"Key": key, "Value": value} for key, value in self.tags]

    @property
    def managed_by(self) -> str:
        """The value of the ``managed-by`` tag: what marks a resource as the jobs' own."""
        return dict(self.tags)[MANAGED_BY_TAG]

    def is_managed(self, tags: Sequence[Mapping[str, Any]] | None) -> bool:
        """Whether ``tags`` (AWS's ``[{"Key", "Value"}]`` form) carry this project's marker."""
        return any(
            tag.get("Key") == MANAGED_BY_TAG and tag.get("Value") == self.managed_by
            for tag in tags or []
        )

    def permission_policy_document(self, region: str) -> str:
        """The role's permission policy for ``region``'s partition (aws, aws-cn, aws-us-gov)."""
        return render_permission_policy(
            self.permission_policy_template, self.s3_read_access, aws_partition(region)
        )

    def etl_dbuser_arn(self, account: AccountContext) -> str:
        """The ETL user's ``dbuser`` ARN: what ``sts:ExternalId`` and GetClusterCredentials name."""
        return account.redshift_arn(f"dbuser:{self.identifier}/{self.etl_user}")

    def cluster_arn(self, account: AccountContext) -> str:
        return account.redshift_arn(f"cluster:{self.identifier}")

    def trust_policy_document(self, account: AccountContext) -> str:
        """Redshift may assume the cluster role only on behalf of the ETL database user."""
        return render_policy_document(
            self.trust_policy_template, {"etl_dbuser_arns": [self.etl_dbuser_arn(account)]}
        )

    def cluster_role(self, account: AccountContext) -> RoleDefinition:
        """The role COPY (and UNLOAD) use: trusted as above, reading the configured prefixes.

        Further inline policies (a backup prefix to write, say) are added to ``policies``; the
        role is refused if it carries any policy that is not listed here.
        """
        return RoleDefinition(
            name=self.iam_role_name,
            description=f"Lets Redshift cluster {self.identifier} read source data",
            trust_policy=self.trust_policy_document(account),
            policies=(
                RolePolicy(self.iam_policy_name, self.permission_policy_document(account.region)),
            ),
        )

    def scheduler_role(self, account: AccountContext) -> RoleDefinition:
        """The role Redshift's scheduler assumes to pause and resume this cluster, nothing else."""
        return RoleDefinition(
            name=self.schedule.role_name,
            description=f"Lets Redshift's scheduler pause and resume cluster {self.identifier}",
            trust_policy=render_policy_document(
                self.scheduler_trust_policy_template, {"account_id": account.account_id}
            ),
            policies=(
                RolePolicy(
                    f"{self.schedule.role_name}-pause-resume",
                    render_policy_document(
                        self.scheduler_policy_template,
                        {"cluster_arn": self.cluster_arn(account)},
                    ),
                ),
            ),
        )

    def etl_connect_policy_document(self, account: AccountContext) -> str:
        """What the identity running the loads needs: temporary credentials for the ETL user."""
        return render_policy_document(
            self.etl_connect_policy_template,
            {
                "etl_dbuser_arn": self.etl_dbuser_arn(account),
                "etl_dbname_arn": account.redshift_arn(
                    f"dbname:{self.identifier}/{self.database_name}"
                ),
                "cluster_arn": self.cluster_arn(account),
            },
        )

    @property
    def scheduled_action_names(self) -> tuple[str, str]:
        """(resume, pause): the names of the two scheduled actions."""
        return (f"{self.identifier}-resume", f"{self.identifier}-pause")

    def warnings(self) -> list[str]:
        """Settings that are allowed but deserve a loud mention in the run's log."""
        found = []
        if self.opens_to_internet:
            found.append(
                f"allowed_cidr {self.allowed_cidr} lets every address on the internet reach port"
                f" {self.port} (allow_public_ingress = true in {self.source_path.name}); narrow it"
                " to your own address (x.x.x.x/32) as soon as you can"
            )
        if self.publicly_accessible:
            found.append(
                "publicly_accessible = true: the cluster gets a public IP address; only the"
                f" security group rule ({self.allowed_cidr}) stands between it and the internet"
            )
        if not self.enhanced_vpc_routing:
            found.append(
                "enhanced_vpc_routing = false: COPY and UNLOAD traffic leaves the VPC's controls"
                " (Security Hub Redshift.7)"
            )
        if not self.final_snapshot:
            found.append(
                "teardown.final_snapshot = false: redshift_cluster_down deletes the cluster's data"
                " with it, load_quarantine's history included"
            )
        return found


def aws_partition(region: str) -> str:
    """The ARN partition of ``region``."""
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def infra_directory() -> Path:
    """``infra/`` of a checkout, else the copy the wheel packages as ``sparkify_assets/_infra``."""
    here = Path(__file__).resolve()
    candidates = (here.parents[2] / "infra", here.parents[1] / "_infra")
    for candidate in candidates:
        if (candidate / SPEC_FILE_NAME).is_file():
            return candidate
    raise RedshiftClusterSpecError(
        f"no {SPEC_FILE_NAME} in {' or '.join(str(path) for path in candidates)}; set"
        f" {SPEC_PATH_ENV_VAR} to the specification's path"
    )


def default_spec_path() -> Path:
    """``$SPARKIFY_CLUSTER_SPEC`` when set, else the infra directory's ``redshift_cluster.toml``."""
    configured = os.environ.get(SPEC_PATH_ENV_VAR, "").strip()
    if configured:
        return Path(configured).expanduser()
    return infra_directory() / SPEC_FILE_NAME


def load_redshift_cluster_spec(path: Path | str | None = None) -> RedshiftClusterSpec:
    """Reads and validates the specification at ``path`` (default: :func:`default_spec_path`).

    Every problem found is reported at once in one :class:`RedshiftClusterSpecError`.
    """
    spec_path = Path(path).expanduser() if path else default_spec_path()
    try:
        document = tomllib.loads(spec_path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise RedshiftClusterSpecError(f"no cluster specification at {spec_path}") from error
    except tomllib.TOMLDecodeError as error:
        raise RedshiftClusterSpecError(f"{spec_path} is not valid TOML: {error}") from error
    return _SpecReader(spec_path, document).read()


def render_permission_policy(
    template: str, s3_read_access: Sequence[S3ReadAccess], partition: str = "aws"
) -> str:
    """The permission policy: the template's statements once per bucket, placeholders filled.

    A string that is exactly ``${bucket_arn}``, ``${object_arns}`` or ``${prefix_patterns}`` is
    replaced by that value (a string or a list); ``${index}`` may appear inside a string (in a
    ``Sid``). A prefix ``p`` grants ``s3:ListBucket`` with ``s3:prefix`` ``p`` or ``p/*`` and
    ``s3:GetObject`` on the object ``p`` and the objects under ``p/``.
    """
    parsed = json.loads(template)
    statements = []
    for index, access in enumerate(s3_read_access, start=1):
        bucket_arn = f"arn:{partition}:s3:::{access.bucket}"
        values: dict[str, str | list[str]] = {
            "index": str(index),
            "bucket": access.bucket,
            "bucket_arn": bucket_arn,
            "object_arns": [
                arn
                for prefix in access.prefixes
                for arn in (f"{bucket_arn}/{prefix}", f"{bucket_arn}/{prefix}/*")
            ],
            "prefix_patterns": [
                pattern for prefix in access.prefixes for pattern in (prefix, f"{prefix}/*")
            ],
        }
        for statement in parsed["Statement"]:
            statements.append(_fill_placeholders(statement, values))
    return json.dumps({"Version": parsed["Version"], "Statement": statements}, indent=2)


def render_policy_document(template: str, values: Mapping[str, str | list[str]]) -> str:
    """``template`` with its placeholders filled (see :func:`render_permission_policy`)."""
    return json.dumps(_fill_placeholders(json.loads(template), values), indent=2)


def _fill_placeholders(node: Any, values: Mapping[str, str | list[str]]) -> Any:
    if isinstance(node, dict):
        return {key: _fill_placeholders(value, values) for key, value in node.items()}
    if isinstance(node, list):
        return [_fill_placeholders(item, values) for item in node]
    if isinstance(node, str):
        whole = _WHOLE_PLACEHOLDER.match(node)
        if whole:
            if whole.group(1) not in values:
                raise RedshiftClusterSpecError(f"unknown placeholder {node} in the policy template")
            return values[whole.group(1)]
        scalars = {key: value for key, value in values.items() if isinstance(value, str)}
        try:
            return string.Template(node).substitute(scalars)
        except (KeyError, ValueError) as error:
            raise RedshiftClusterSpecError(
                f"policy template string {node!r} has a placeholder that is not a single value"
            ) from error
    return node


def permission_policy_problems(document: str, s3_read_access: Sequence[S3ReadAccess]) -> list[str]:
    """Why ``document`` grants more than reading the configured buckets (empty: it does not)."""
    problems = []
    allowed_buckets = {access.bucket for access in s3_read_access}
    statements = json.loads(document).get("Statement", [])
    if not statements:
        problems.append("the permission policy has no statements")
    for statement in statements:
        if "NotAction" in statement or "NotResource" in statement:
            problems.append("NotAction/NotResource grant everything else: not allowed")
        if statement.get("Effect") != "Allow":
            continue
        for action in _as_list(statement.get("Action")):
            if "*" in action or not re.match(r"^s3:(Get|List)\w+$", action):
                problems.append(f"action {action!r} is not a read-only S3 action")
        resources = _as_list(statement.get("Resource"))
        if not resources:
            problems.append(f"statement {statement.get('Sid', '?')} names no resource")
        for resource in resources:
            match = re.match(r"^arn:aws[\w-]*:s3:::([^/*]+)(/.*)?$", resource)
            if not match or match.group(1) not in allowed_buckets:
                problems.append(f"resource {resource!r} is not in a configured bucket")
            elif match.group(2) and match.group(2).rstrip("*").rstrip("/") == "":
                problems.append(f"resource {resource!r} covers the whole bucket, not a prefix")
    return problems


def trust_policy_problems(
    document: str,
    service: str = REDSHIFT_SERVICE_PRINCIPAL,
    condition_key: str = "sts:ExternalId",
    allowed_values: Sequence[str] = (),
) -> list[str]:
    """Why ``document`` is not "``service``, and only it, may assume the role, and only when
    ``condition_key`` equals one of ``allowed_values``" (empty: it is)."""
    problems = []
    statements = json.loads(document).get("Statement", [])
    if not statements:
        problems.append("the trust policy has no statements")
    for statement in statements:
        if statement.get("Effect") != "Allow":
            continue
        principal = statement.get("Principal")
        services = _as_list(principal.get("Service")) if isinstance(principal, dict) else []
        if not isinstance(principal, dict) or set(principal) != {"Service"}:
            problems.append(f"the trust policy's principal {principal!r} is not a service")
        elif services != [service]:
            problems.append(f"the trust policy trusts {services}, not {service}")
        if _as_list(statement.get("Action")) != ["sts:AssumeRole"]:
            problems.append(
                f"the trust policy allows {statement.get('Action')!r}, not sts:AssumeRole"
            )
        condition = statement.get("Condition")
        equals = condition.get("StringEquals") if isinstance(condition, dict) else None
        values = _as_list(equals.get(condition_key)) if isinstance(equals, dict) else []
        if not values:
            problems.append(
                f"the trust policy has no StringEquals {condition_key} condition: any caller"
                f" {service} acts for could use the role"
            )
        elif allowed_values and not set(values) <= set(allowed_values):
            problems.append(
                f"the trust policy's {condition_key} allows"
                f" {sorted(set(values) - set(allowed_values))}"
            )
    return problems


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return [str(item) for item in value]


class _SpecReader:
    """Reads one TOML document, collecting every problem instead of stopping at the first."""

    _SECTIONS: Mapping[str, frozenset[str]] = {
        "cluster": frozenset(
            {
                "identifier",
                "region",
                "node_type",
                "number_of_nodes",
                "database_name",
                "master_username",
                "port",
                "publicly_accessible",
                "manage_master_password",
                "kms_key_id",
                "cluster_subnet_group_name",
                "enhanced_vpc_routing",
                "automated_snapshot_retention_days",
            }
        ),
        "parameter_group": frozenset({"name", "family"}),
        "audit_logging": frozenset({"destination", "log_exports", "bucket", "s3_key_prefix"}),
        "etl_user": frozenset({"name", "schema"}),
        "iam_role": frozenset(
            {"name", "policy_name", "trust_policy", "permission_policy", "s3_read"}
        ),
        "network": frozenset({"security_group_name", "allowed_cidr", "allow_public_ingress"}),
        "schedule": frozenset(
            {
                "enabled",
                "role_name",
                "days",
                "resume_at_utc",
                "pause_at_utc",
                "trust_policy",
                "permission_policy",
            }
        ),
        "teardown": frozenset({"final_snapshot", "final_snapshot_prefix"}),
        "restore": frozenset({"from_newest_snapshot"}),
        "tags": frozenset(),
    }

    def __init__(self, path: Path, document: Mapping[str, Any]) -> None:
        self.path = path
        self.document = document
        self.problems: list[str] = []

    def read(self) -> RedshiftClusterSpec:
        self._check_known_keys()
        cluster = self._section("cluster")
        role = self._section("iam_role")
        network = self._section("network")
        teardown = self._section("teardown")
        schedule_section = self._section("schedule")
        etl = self._section("etl_user")

        identifier = self._text(cluster, "cluster.identifier", _CLUSTER_IDENTIFIER)
        region = self._text(cluster, "cluster.region", _REGION)
        node_type = self._text(cluster, "cluster.node_type", _NODE_TYPE)
        number_of_nodes = self._integer(cluster, "cluster.number_of_nodes", 1, 128)
        port = self._integer(cluster, "cluster.port", 1150, 65535, default=5439)
        if node_type.startswith(("ra3.", "rg.")) and not any(port in r for r in _RA3_PORTS):
            self.problems.append(f"cluster.port {port}: {node_type} listens on 5431-5455/8191-8215")
        manage_master_password = self._flag(cluster, "cluster.manage_master_password", True)
        cidr = self._cidr(network)
        allow_public_ingress = self._flag(network, "network.allow_public_ingress", False)
        if cidr and ipaddress.ip_network(cidr).prefixlen == 0 and not allow_public_ingress:
            self.problems.append(
                f"network.allowed_cidr {cidr} opens port {port} to the whole internet; use your"
                " own range, or set network.allow_public_ingress = true to really mean it"
            )
        s3_read_access = self._s3_read_access(role)
        etl_user = self._text(etl, "etl_user.name", _DATABASE_USER, default="sparkify_etl")
        master_username = self._master_username(cluster)
        if etl_user in _RESERVED_USERS or (etl_user and etl_user == master_username):
            self.problems.append(
                f"etl_user.name {etl_user!r} must be a user of its own, not the master user or a"
                " reserved name"
            )
        trust_policy = self._policy_file(
            role, "iam_role.trust_policy", "redshift_trust_policy.json"
        )
        permission_template = self._policy_file(
            role, "iam_role.permission_policy", "redshift_s3_read_policy.json"
        )
        if trust_policy:
            sample = AccountContext("123456789012", region or "us-west-2")
            expected = [
                sample.redshift_arn(f"dbuser:{identifier}/{etl_user}"),
            ]
            try:
                rendered_trust = render_policy_document(trust_policy, {"etl_dbuser_arns": expected})
                self.problems.extend(trust_policy_problems(rendered_trust, allowed_values=expected))
            except RedshiftClusterSpecError as error:
                self.problems.append(str(error))
        if permission_template and s3_read_access:
            try:
                rendered = render_permission_policy(permission_template, s3_read_access)
                self.problems.extend(permission_policy_problems(rendered, s3_read_access))
            except RedshiftClusterSpecError as error:
                self.problems.append(str(error))

        schedule = self._schedule(schedule_section, identifier)
        scheduler_trust = self._policy_file(
            schedule_section, "schedule.trust_policy", "redshift_scheduler_trust_policy.json"
        )
        scheduler_policy = self._policy_file(
            schedule_section, "schedule.permission_policy", "redshift_scheduler_policy.json"
        )
        if scheduler_trust:
            try:
                rendered = render_policy_document(scheduler_trust, {"account_id": "123456789012"})
                self.problems.extend(
                    trust_policy_problems(
                        rendered,
                        service=REDSHIFT_SCHEDULER_PRINCIPAL,
                        condition_key="aws:SourceAccount",
                        allowed_values=["123456789012"],
                    )
                )
            except RedshiftClusterSpecError as error:
                self.problems.append(str(error))
        etl_connect_policy = self._policy_file(
            {}, "etl_user.connect_policy", "redshift_etl_connect_policy.json"
        )
        tags = self._tags()
        if MANAGED_BY_TAG not in dict(tags):
            self.problems.append(
                f"tags.{MANAGED_BY_TAG} is required: it marks what the cluster jobs own and may"
                " change or delete"
            )

        spec = RedshiftClusterSpec(
            source_path=self.path,
            identifier=identifier,
            region=region,
            node_type=node_type,
            number_of_nodes=number_of_nodes,
            database_name=self._text(cluster, "cluster.database_name", _DATABASE_NAME),
            master_username=master_username,
            port=port,
            publicly_accessible=self._flag(cluster, "cluster.publicly_accessible", False),
            manage_master_password=manage_master_password,
            kms_key_id=self._text(cluster, "cluster.kms_key_id", None, default=""),
            cluster_subnet_group_name=self._text(
                cluster, "cluster.cluster_subnet_group_name", None, default=""
            ),
            enhanced_vpc_routing=self._flag(cluster, "cluster.enhanced_vpc_routing", True),
            automated_snapshot_retention_days=self._integer(
                cluster, "cluster.automated_snapshot_retention_days", 1, 35, default=7
            ),
            parameter_group_name=self._text(
                self._section("parameter_group"),
                "parameter_group.name",
                _PARAMETER_GROUP_NAME,
                default=f"{identifier}-parameters",
            ),
            parameter_group_family=self._text(
                self._section("parameter_group"),
                "parameter_group.family",
                _PARAMETER_GROUP_FAMILY,
                default="redshift-1.0",
            ),
            audit_logging=self._audit_logging(),
            etl_user=etl_user,
            etl_schema=self._text(etl, "etl_user.schema", _SCHEMA_NAME, default="public"),
            iam_role_name=self._text(role, "iam_role.name", _IAM_NAME),
            iam_policy_name=self._text(role, "iam_role.policy_name", _IAM_POLICY_NAME),
            s3_read_access=s3_read_access,
            trust_policy_template=trust_policy,
            permission_policy_template=permission_template,
            security_group_name=self._text(
                network, "network.security_group_name", _SECURITY_GROUP_NAME
            ),
            allowed_cidr=cidr,
            allow_public_ingress=allow_public_ingress,
            schedule=schedule,
            scheduler_trust_policy_template=scheduler_trust,
            scheduler_policy_template=scheduler_policy,
            etl_connect_policy_template=etl_connect_policy,
            final_snapshot=self._flag(teardown, "teardown.final_snapshot", True),
            final_snapshot_prefix=self._text(
                teardown, "teardown.final_snapshot_prefix", _SNAPSHOT_PREFIX, default=identifier
            ),
            restore_from_newest_snapshot=self._flag(
                self._section("restore"), "restore.from_newest_snapshot", False
            ),
            tags=tags,
        )
        if self.problems:
            listed = "\n  - ".join(self.problems)
            raise RedshiftClusterSpecError(
                f"invalid cluster specification {self.path}:\n  - {listed}"
            )
        return spec

    def _check_known_keys(self) -> None:
        for section in self.document:
            if section not in self._SECTIONS:
                self.problems.append(f"unknown section [{section}]")
        for section, known in self._SECTIONS.items():
            value = self.document.get(section, {})
            if not isinstance(value, dict):
                self.problems.append(f"[{section}] must be a table")
            elif known:
                for key in value:
                    if key not in known:
                        self.problems.append(f"unknown setting {section}.{key}")

    def _section(self, name: str) -> Mapping[str, Any]:
        value = self.document.get(name, {})
        return value if isinstance(value, dict) else {}

    def _text(
        self,
        table: Mapping[str, Any],
        dotted: str,
        pattern: re.Pattern[str] | None,
        default: str | None = None,
    ) -> str:
        key = dotted.rsplit(".", 1)[1]
        value = table.get(key, default)
        if value is None:
            self.problems.append(f"{dotted} is required")
            return ""
        if not isinstance(value, str):
            self.problems.append(f"{dotted} must be a string, got {value!r}")
            return ""
        if pattern is not None and value != default and not pattern.match(value):
            self.problems.append(f"{dotted} {value!r} is not a valid name for it")
        return value

    def _integer(
        self, table: Mapping[str, Any], dotted: str, low: int, high: int, default: int | None = None
    ) -> int:
        value = table.get(dotted.rsplit(".", 1)[1], default)
        if isinstance(value, bool) or not isinstance(value, int):
            self.problems.append(f"{dotted} must be an integer, got {value!r}")
            return low
        if not low <= value <= high:
            self.problems.append(f"{dotted} {value} is outside {low}..{high}")
        return value

    def _flag(self, table: Mapping[str, Any], dotted: str, default: bool) -> bool:
        value = table.get(dotted.rsplit(".", 1)[1], default)
        if not isinstance(value, bool):
            self.problems.append(f"{dotted} must be true or false, got {value!r}")
            return default
        return value

    def _master_username(self, cluster: Mapping[str, Any]) -> str:
        name = self._text(cluster, "cluster.master_username", _MASTER_USERNAME)
        if name in {"public", "rdsdb", "user"}:
            self.problems.append(f"cluster.master_username {name!r} is reserved; choose another")
        return name

    def _cidr(self, network: Mapping[str, Any]) -> str:
        value = self._text(network, "network.allowed_cidr", None)
        if not value:
            return ""
        try:
            parsed = ipaddress.ip_network(value, strict=True)
        except ValueError as error:
            self.problems.append(f"network.allowed_cidr {value!r}: {error}")
            return ""
        if parsed.version != 4:
            self.problems.append(f"network.allowed_cidr {value!r} must be an IPv4 CIDR")
            return ""
        return str(parsed)

    def _s3_read_access(self, role: Mapping[str, Any]) -> tuple[S3ReadAccess, ...]:
        entries = role.get("s3_read", [])
        if not isinstance(entries, list) or not entries:
            self.problems.append("[[iam_role.s3_read]]: at least one bucket the cluster may read")
            return ()
        accesses = []
        for number, entry in enumerate(entries, start=1):
            where = f"iam_role.s3_read #{number}"
            if not isinstance(entry, dict) or set(entry) - {"bucket", "prefixes"}:
                self.problems.append(f"{where}: only 'bucket' and 'prefixes' are allowed")
                continue
            bucket = entry.get("bucket")
            if not isinstance(bucket, str) or not _BUCKET_NAME.match(bucket):
                self.problems.append(f"{where}: bucket {bucket!r} is not an S3 bucket name")
                continue
            prefixes = entry.get("prefixes")
            if not isinstance(prefixes, list) or not prefixes:
                self.problems.append(f"{where}: prefixes must list at least one key prefix")
                continue
            cleaned = []
            for prefix in prefixes:
                text = prefix.strip("/") if isinstance(prefix, str) else ""
                if not text or "*" in text or "?" in text or "$" in text:
                    self.problems.append(
                        f"{where}: prefix {prefix!r} must be a non-empty key prefix without"
                        " wildcards (the whole bucket is never granted)"
                    )
                    continue
                cleaned.append(text)
            accesses.append(S3ReadAccess(bucket=bucket, prefixes=tuple(cleaned)))
        return tuple(accesses)

    def _policy_file(self, table: Mapping[str, Any], dotted: str, default_name: str) -> str:
        relative = table.get(dotted.rsplit(".", 1)[1], f"policies/{default_name}")
        if not isinstance(relative, str) or not relative:
            self.problems.append(f"{dotted} must name a JSON file")
            return ""
        candidates = [self.path.parent / relative]
        with contextlib.suppress(RedshiftClusterSpecError):  # no infra/: beside the spec only
            candidates.append(infra_directory() / relative)
        for candidate in candidates:
            if candidate.is_file():
                text = candidate.read_text(encoding="utf-8")
                try:
                    json.loads(text)
                except json.JSONDecodeError as error:
                    self.problems.append(f"{dotted}: {candidate} is not JSON: {error}")
                    return ""
                return text
        self.problems.append(f"{dotted}: no {relative} beside {self.path} or in infra/")
        return ""

    def _audit_logging(self) -> AuditLogging:
        section = self._section("audit_logging")
        destination = self._text(section, "audit_logging.destination", None, default="cloudwatch")
        if destination not in {"cloudwatch", "s3"}:
            self.problems.append(
                f"audit_logging.destination {destination!r} must be 'cloudwatch' or 's3'"
            )
        exports = section.get("log_exports", list(AUDIT_LOG_TYPES))
        if (
            not isinstance(exports, list)
            or not exports
            or any(item not in AUDIT_LOG_TYPES for item in exports)
        ):
            self.problems.append(
                f"audit_logging.log_exports {exports!r}: a non-empty list of {AUDIT_LOG_TYPES}"
            )
            exports = list(AUDIT_LOG_TYPES)
        bucket = self._text(section, "audit_logging.bucket", None, default="")
        prefix = self._text(section, "audit_logging.s3_key_prefix", _S3_KEY_PREFIX, default="")
        if destination == "s3" and not _BUCKET_NAME.match(bucket):
            self.problems.append(
                f"audit_logging.bucket {bucket!r}: destination 's3' needs an S3 bucket name"
            )
        if destination == "cloudwatch" and (bucket or prefix):
            self.problems.append("audit_logging.bucket/s3_key_prefix are for destination 's3' only")
        return AuditLogging(destination, tuple(exports), bucket, prefix)

    def _schedule(self, section: Mapping[str, Any], identifier: str) -> PauseSchedule:
        schedule = PauseSchedule(
            enabled=self._flag(section, "schedule.enabled", False),
            role_name=self._text(
                section, "schedule.role_name", _IAM_NAME, default=f"{identifier}-scheduler"
            ),
            days=self._text(section, "schedule.days", _DAYS, default="MON-FRI"),
            resume_at_utc=self._text(
                section, "schedule.resume_at_utc", _TIME_OF_DAY, default="07:00"
            ),
            pause_at_utc=self._text(
                section, "schedule.pause_at_utc", _TIME_OF_DAY, default="19:00"
            ),
        )
        if schedule.resume_at_utc == schedule.pause_at_utc:
            self.problems.append("schedule.resume_at_utc and pause_at_utc must differ")
        return schedule

    def _tags(self) -> tuple[tuple[str, str], ...]:
        tags = self._section("tags")
        pairs = []
        for key, value in tags.items():
            if not isinstance(value, str) or not key or len(key) > 127 or len(value) > 255:
                self.problems.append(f"tags.{key} must be a string (key <= 127, value <= 255)")
                continue
            if key.lower().startswith("aws:"):
                self.problems.append(f"tags.{key}: the aws: prefix is reserved")
                continue
            pairs.append((key, value))
        return tuple(pairs)
