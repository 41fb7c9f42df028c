"""The Redshift cluster specification: ``infra/redshift_cluster.toml`` and the policy files it
names, validated by strict pydantic models into one typed value (docs/redshift_cluster.md)."""

from __future__ import annotations

import contextlib
import ipaddress
import json
import os
import re
import tomllib
from collections.abc import Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal, Self, TypedDict

from pydantic import (
    AfterValidator,
    AliasPath,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    model_validator,
)

from sparkify_assets.cluster.errors import RedshiftClusterSpecError
from sparkify_assets.cluster.policy_documents import (
    BUCKET_NAME_PATTERN,
    REDSHIFT_SCHEDULER_PRINCIPAL,
    AccountContext,
    RoleDefinition,
    RolePolicy,
    S3ReadAccess,
    aws_partition,
    permission_policy_problems,
    render_permission_policy,
    render_policy_document,
    trust_policy_problems,
)

SPEC_PATH_ENV_VAR = "SPARKIFY_CLUSTER_SPEC"
SPEC_FILE_NAME = "redshift_cluster.toml"
MANAGED_BY_TAG = "managed-by"
AuditLogType = Literal["connectionlog", "userlog", "useractivitylog"]
AUDIT_LOG_TYPES: tuple[AuditLogType, ...] = ("connectionlog", "userlog", "useractivitylog")
ETL_CONNECT_POLICY_FILE = "policies/redshift_etl_connect_policy.json"
# Redshift's own rule: RA3 (and RG) nodes listen on 5431-5455 or 8191-8215, other types 1150-65535.
_RA3_PORTS = (range(5431, 5456), range(8191, 8216))
# Names a database user must not take (Redshift's reserved ones, SQL words we would have to quote).
_RESERVED_USERS = frozenset({"public", "rdsdb", "user", "admin", "root", "all", "group"})
_RESERVED_MASTER_USERS = frozenset({"public", "rdsdb", "user"})
_SAMPLE_ACCOUNT = "123456789012"  # the policies are checked as rendered for this account
_DAY = "(?:SUN|MON|TUE|WED|THU|FRI|SAT)"
# python-re: Redshift's naming rules need look-arounds, which pydantic's default engine lacks.
_STRICT = ConfigDict(strict=True, extra="forbid", frozen=True, regex_engine="python-re")


def _not_in(reserved: frozenset[str], why: str) -> AfterValidator:
    def check(name: str) -> str:
        if name in reserved:
            raise ValueError(f"{name!r} {why}")
        return name

    return AfterValidator(check)


def _ipv4_network(value: str) -> str:
    network = ipaddress.ip_network(value, strict=True)  # "... has host bits set"
    if network.version != 4:
        raise ValueError(f"{value!r} must be an IPv4 CIDR")
    return str(network)


def _tag_key(key: str) -> str:
    if key.lower().startswith("aws:"):
        raise ValueError("the aws: prefix is reserved")
    return key


def _policy_file(relative: str, info: ValidationInfo) -> str:
    context: Mapping[str, Path] = info.context or {}
    return _read_policy(relative, context["spec_path"])


def _read_policy(relative: str, spec_path: Path) -> str:
    """The text of a policy file: beside the spec, else in the infra directory; JSON or refused."""
    candidates = [spec_path.parent / relative]
    with contextlib.suppress(RedshiftClusterSpecError):  # no infra/: beside the spec only
        candidates.append(infra_directory() / relative)
    for candidate in candidates:
        if candidate.is_file():
            text = candidate.read_text(encoding="utf-8")
            try:
                json.loads(text)
            except json.JSONDecodeError as error:
                raise ValueError(f"{candidate} is not JSON: {error}") from error
            return text
    raise ValueError(f"no {relative} beside {spec_path} or in infra/")


ClusterIdentifier = Annotated[str, Field(pattern=r"^[a-z](?!.*--)[a-z0-9-]{0,62}(?<!-)$")]
Region = Annotated[str, Field(pattern=r"^[a-z]{2}(-gov)?-[a-z]+-\d$")]
NodeType = Annotated[str, Field(pattern=r"^[a-z0-9]+\.[a-z0-9]+$")]
DatabaseName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
MasterUsername = Annotated[
    str,
    Field(pattern=r"^[a-z][a-z0-9_+.@-]{0,127}$"),
    _not_in(_RESERVED_MASTER_USERS, "is reserved; choose another"),
]
# A database user name the project splices into SQL and ARNs: lower case, no quoting ever needed.
DatabaseUser = Annotated[
    str,
    Field(pattern=r"^[a-z][a-z0-9_]{0,62}$"),
    _not_in(_RESERVED_USERS, "must be a user of its own, not the master user or a reserved name"),
]
SchemaName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,62}$")]
IamName = Annotated[str, Field(pattern=r"^[\w+=,.@-]{1,64}$")]
IamPolicyName = Annotated[str, Field(pattern=r"^[\w+=,.@-]{1,128}$")]
SecurityGroupName = Annotated[str, Field(pattern=r"^[A-Za-z0-9 ._\-:/()#,@\[\]+=&;{}!$*]{1,255}$")]
SnapshotPrefix = Annotated[str, Field(pattern=r"^[a-z](?!.*--)[a-z0-9-]{0,200}(?<!-)$")]
ParameterGroupName = Annotated[str, Field(pattern=r"^[a-z](?!.*--)[a-z0-9-]{0,254}(?<!-)$")]
ParameterGroupFamily = Annotated[str, Field(pattern=r"^redshift-\d+\.\d+$")]
S3KeyPrefix = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.:/=+@-]{0,512}$")]
TimeOfDay = Annotated[str, Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")]
CronDays = Annotated[str, Field(pattern=rf"^{_DAY}(-{_DAY})?(,{_DAY}(-{_DAY})?)*$")]
Ipv4Network = Annotated[str, AfterValidator(_ipv4_network)]
TagKey = Annotated[str, Field(min_length=1, max_length=127), AfterValidator(_tag_key)]
TagValue = Annotated[str, Field(max_length=255)]
# A policy file named in the spec (relative to the spec or infra/), validated into its JSON text.
PolicyFile = Annotated[
    str, Field(min_length=1, validate_default=True), AfterValidator(_policy_file)
]


def _setting(section: str, key: str, default: Any = ..., **constraints: Any) -> Any:
    """A field read from ``key`` of the TOML table ``[section]``."""
    return Field(default, validation_alias=AliasPath(section, key), **constraints)


class AwsTag(TypedDict):
    """One tag as the AWS APIs take it."""

    Key: str
    Value: str


class AuditLogging(BaseModel):
    """``[audit_logging]``: where Redshift's audit logs go (EnableLogging's arguments)."""

    model_config = _STRICT

    destination: Literal["cloudwatch", "s3"] = "cloudwatch"
    log_exports: tuple[AuditLogType, ...] = Field(
        default=AUDIT_LOG_TYPES, min_length=1, strict=False
    )
    bucket: str = ""
    s3_key_prefix: S3KeyPrefix = ""

    @model_validator(mode="after")
    def _bucket_only_for_s3(self) -> Self:
        if self.destination == "s3" and not re.match(BUCKET_NAME_PATTERN, self.bucket):
            raise ValueError(f"bucket {self.bucket!r}: destination 's3' needs an S3 bucket name")
        if self.destination == "cloudwatch" and (self.bucket or self.s3_key_prefix):
            raise ValueError("bucket/s3_key_prefix are for destination 's3' only")
        return self

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


class PauseSchedule(BaseModel):
    """``[schedule]``: when Redshift's scheduler resumes and pauses the cluster (UTC, cron day
    names), through a role of its own trusted by the scheduler of this account only."""

    model_config = _STRICT

    enabled: bool = False
    role_name: IamName = ""  # "": <cluster identifier>-scheduler
    days: CronDays = "MON-FRI"
    resume_at_utc: TimeOfDay = "07:00"
    pause_at_utc: TimeOfDay = "19:00"
    trust_policy_template: PolicyFile = Field(
        "policies/redshift_scheduler_trust_policy.json", alias="trust_policy"
    )
    policy_template: PolicyFile = Field(
        "policies/redshift_scheduler_policy.json", alias="permission_policy"
    )

    @model_validator(mode="after")
    def _distinct_times_and_a_narrow_trust(self) -> Self:
        if self.resume_at_utc == self.pause_at_utc:
            raise ValueError("resume_at_utc and pause_at_utc must differ")
        trust = render_policy_document(self.trust_policy_template, {"account_id": _SAMPLE_ACCOUNT})
        problems = trust_policy_problems(
            trust,
            service=REDSHIFT_SCHEDULER_PRINCIPAL,
            condition_key="aws:SourceAccount",
            allowed_values=[_SAMPLE_ACCOUNT],
        )
        if problems:
            raise ValueError("\n  - ".join(problems))
        return self

    def cron(self, time_of_day: str) -> str:
        """``cron(minute hour ? * days *)``: Redshift's scheduled-action cron format."""
        hour, minute = time_of_day.split(":")
        return f"cron({int(minute)} {int(hour)} ? * {self.days} *)"


class BackupWriteAccess(BaseModel):
    """``[iam_role.s3_backup]``: the backup prefix the cluster role may write (UNLOAD) and read
    back (COPY) — ``SPARKIFY_BACKUP_URL`` with the Redshift engine — as a second inline policy."""

    model_config = _STRICT

    bucket: str = Field(pattern=BUCKET_NAME_PATTERN)
    prefix: str = Field(min_length=1)
    policy_name: IamPolicyName = "sparkify-s3-backup"
    permission_policy_template: PolicyFile = Field(
        "policies/redshift_s3_backup_write_policy.json", alias="permission_policy"
    )

    @property
    def access(self) -> S3ReadAccess:
        """The bucket and prefix in the form the policy templates render (one "prefix")."""
        return S3ReadAccess(self.bucket, (self.prefix,))

    @model_validator(mode="after")
    def _writes_the_prefix_only(self) -> Self:
        try:
            access = self.access
        except ValidationError as error:
            raise ValueError(error.errors()[0]["msg"]) from None
        rendered = render_permission_policy(self.permission_policy_template, [access])
        problems = permission_policy_problems(rendered, [access], may_write=True)
        if problems:
            raise ValueError("\n  - ".join(problems))
        return self

    def policy_document(self, region: str) -> str:
        """The backup policy for ``region``'s partition."""
        return render_permission_policy(
            self.permission_policy_template, [self.access], aws_partition(region)
        )


class RedshiftClusterSpec(BaseModel):
    """The whole declarative description of the cluster and what surrounds it, one field per
    setting, each read from its ``[table] key`` of the TOML."""

    model_config = _STRICT

    identifier: ClusterIdentifier = _setting("cluster", "identifier")
    region: Region = _setting("cluster", "region")
    node_type: NodeType = _setting("cluster", "node_type")
    number_of_nodes: int = _setting("cluster", "number_of_nodes", ge=1, le=128)
    database_name: DatabaseName = _setting("cluster", "database_name")
    master_username: MasterUsername = _setting("cluster", "master_username")
    port: int = _setting("cluster", "port", 5439, ge=1150, le=65535)
    publicly_accessible: bool = _setting("cluster", "publicly_accessible", False)
    manage_master_password: bool = _setting("cluster", "manage_master_password", True)
    kms_key_id: str = _setting("cluster", "kms_key_id", "")
    cluster_subnet_group_name: str = _setting("cluster", "cluster_subnet_group_name", "")
    enhanced_vpc_routing: bool = _setting("cluster", "enhanced_vpc_routing", True)
    automated_snapshot_retention_days: int = _setting(
        "cluster", "automated_snapshot_retention_days", 7, ge=1, le=35
    )
    # "": <identifier>-parameters
    parameter_group_name: ParameterGroupName = _setting("parameter_group", "name", "")
    parameter_group_family: ParameterGroupFamily = _setting(
        "parameter_group", "family", "redshift-1.0"
    )
    audit_logging: AuditLogging = AuditLogging()
    etl_user: DatabaseUser = _setting("etl_user", "name", "sparkify_etl")
    etl_schema: SchemaName = _setting("etl_user", "schema", "public")
    iam_role_name: IamName = _setting("iam_role", "name")
    iam_policy_name: IamPolicyName = _setting("iam_role", "policy_name")
    s3_read_access: tuple[S3ReadAccess, ...] = _setting(
        "iam_role", "s3_read", min_length=1, strict=False
    )
    trust_policy_template: PolicyFile = _setting(
        "iam_role", "trust_policy", "policies/redshift_trust_policy.json"
    )
    permission_policy_template: PolicyFile = _setting(
        "iam_role", "permission_policy", "policies/redshift_s3_read_policy.json"
    )
    s3_backup: BackupWriteAccess | None = _setting("iam_role", "s3_backup", None)
    security_group_name: SecurityGroupName = _setting("network", "security_group_name")
    allowed_cidr: Ipv4Network = _setting("network", "allowed_cidr")
    allow_public_ingress: bool = _setting("network", "allow_public_ingress", False)
    schedule: PauseSchedule = Field(default_factory=dict, validate_default=True)
    final_snapshot: bool = _setting("teardown", "final_snapshot", True)
    final_snapshot_prefix: SnapshotPrefix = _setting("teardown", "final_snapshot_prefix", "")
    restore_from_newest_snapshot: bool = _setting("restore", "from_newest_snapshot", False)
    tags: dict[TagKey, TagValue] = {}

    _source_path: Path = PrivateAttr()
    _etl_connect_policy_template: str = PrivateAttr()

    @model_validator(mode="before")
    @classmethod
    def _refuse_unknown_settings(cls, document: Any) -> Any:
        """extra="forbid" sees the top-level tables only: an unknown key of a table read through
        ``_setting`` is lifted to the top as ``table.key``, where it is refused as well."""
        if not isinstance(document, dict):
            return document
        lifted = dict(document)
        for section, keys in _keys_by_table().items():
            table = document.get(section, {})
            if not isinstance(table, dict):
                raise ValueError(f"[{section}] must be a table")
            lifted |= {f"{section}.{key}": value for key, value in table.items() if key not in keys}
        return lifted

    def model_post_init(self, context: Any, /) -> None:
        self._source_path = context["spec_path"]
        try:
            self._etl_connect_policy_template = _read_policy(
                ETL_CONNECT_POLICY_FILE, self.source_path
            )
        except ValueError as error:
            raise ValueError(f"etl_user.connect_policy: {error}") from error

    @model_validator(mode="after")
    def _rules_across_settings(self) -> Self:
        problems = []
        if self.node_type.startswith(("ra3.", "rg.")) and not any(
            self.port in ports for ports in _RA3_PORTS
        ):
            problems.append(
                f"cluster.port {self.port}: {self.node_type} listens on 5431-5455/8191-8215"
            )
        if self.opens_to_internet and not self.allow_public_ingress:
            problems.append(
                f"network.allowed_cidr {self.allowed_cidr} opens port {self.port} to the whole"
                " internet; use your own range, or set network.allow_public_ingress = true to"
                " really mean it"
            )
        if self.etl_user == self.master_username:
            problems.append(
                f"etl_user.name {self.etl_user!r} must be a user of its own, not the master user"
                " or a reserved name"
            )
        if MANAGED_BY_TAG not in self.tags:
            problems.append(
                f"tags.{MANAGED_BY_TAG} is required: it marks what the cluster jobs own and may"
                " change or delete"
            )
        sample = AccountContext(_SAMPLE_ACCOUNT, self.region)
        try:
            problems += trust_policy_problems(
                self.trust_policy_document(sample), allowed_values=[self.etl_dbuser_arn(sample)]
            )
            rendered = render_permission_policy(
                self.permission_policy_template, self.s3_read_access
            )
            problems += permission_policy_problems(rendered, self.s3_read_access)
        except RedshiftClusterSpecError as error:
            problems.append(str(error))
        if problems:
            raise ValueError("\n  - ".join(problems))
        return self.model_copy(
            update={
                "parameter_group_name": self.parameter_group_name
                or f"{self.identifier}-parameters",
                "final_snapshot_prefix": self.final_snapshot_prefix or self.identifier,
                "schedule": self.schedule.model_copy(
                    update={"role_name": self.schedule.role_name or f"{self.identifier}-scheduler"}
                ),
            }
        )

    @property
    def source_path(self) -> Path:
        """The TOML file this spec was read from."""
        return self._source_path

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
        return [{"Key": key, "Value": value} for key, value in self.tags.items()]

    @property
    def managed_by(self) -> str:
        """The value of the ``managed-by`` tag: what marks a resource as the jobs' own."""
        return self.tags[MANAGED_BY_TAG]

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

        With ``[iam_role.s3_backup]``, a second inline policy lets it write and read back the
        backup prefix; the role is refused if it carries any policy that is not listed here.
        """
        return RoleDefinition(
            name=self.iam_role_name,
            description=f"Lets Redshift cluster {self.identifier} read source data",
            trust_policy=self.trust_policy_document(account),
            policies=(
                RolePolicy(self.iam_policy_name, self.permission_policy_document(account.region)),
                *(
                    (
                        RolePolicy(
                            self.s3_backup.policy_name,
                            self.s3_backup.policy_document(account.region),
                        ),
                    )
                    if self.s3_backup
                    else ()
                ),
            ),
        )

    def scheduler_role(self, account: AccountContext) -> RoleDefinition:
        """The role Redshift's scheduler assumes to pause and resume this cluster, nothing else."""
        return RoleDefinition(
            name=self.schedule.role_name,
            description=f"Lets Redshift's scheduler pause and resume cluster {self.identifier}",
            trust_policy=render_policy_document(
                self.schedule.trust_policy_template, {"account_id": account.account_id}
            ),
            policies=(
                RolePolicy(
                    f"{self.schedule.role_name}-pause-resume",
                    render_policy_document(
                        self.schedule.policy_template, {"cluster_arn": self.cluster_arn(account)}
                    ),
                ),
            ),
        )

    def etl_connect_policy_document(self, account: AccountContext) -> str:
        """What the identity running the loads needs: temporary credentials for the ETL user."""
        return render_policy_document(
            self._etl_connect_policy_template,
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


@cache
def _keys_by_table() -> dict[str, frozenset[str]]:
    """The keys of each TOML table whose settings are fields of :class:`RedshiftClusterSpec`."""
    paths = [
        field.validation_alias.path
        for field in RedshiftClusterSpec.model_fields.values()
        if isinstance(field.validation_alias, AliasPath)
    ]
    return {
        str(table): frozenset(str(key) for other, key in paths if other == table)
        for table, _ in paths
    }


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
    """Reads and validates the specification at ``path`` (default: :func:`default_spec_path`);
    the problems found are reported together in one :class:`RedshiftClusterSpecError`."""
    spec_path = Path(path).expanduser() if path else default_spec_path()
    try:
        document = tomllib.loads(spec_path.read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise RedshiftClusterSpecError(f"no cluster specification at {spec_path}") from error
    except tomllib.TOMLDecodeError as error:
        raise RedshiftClusterSpecError(f"{spec_path} is not valid TOML: {error}") from error
    try:
        return RedshiftClusterSpec.model_validate(document, context={"spec_path": spec_path})
    except ValidationError as error:
        listed = "\n  - ".join(_problems(error))
        raise RedshiftClusterSpecError(
            f"invalid cluster specification {spec_path}:\n  - {listed}"
        ) from None


def _problems(error: ValidationError) -> list[str]:
    """One line per problem, each naming its ``table.key`` (and the value when it helps)."""
    items = error.errors(include_url=False)
    lines = []
    for item in items:
        where = item["loc"]
        if item["type"] == "too_short" and any(
            len(other["loc"]) > len(where) and other["loc"][: len(where)] == where
            for other in items
        ):
            continue  # a list whose items failed: said for each item
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] not in {"missing", "value_error"} and not isinstance(item["input"], dict):
            message += f" (got {item['input']!r})"
        lines.append(f"{'.'.join(str(part) for part in where)}: {message}" if where else message)
    return lines
