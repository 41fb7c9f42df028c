"""The Redshift cluster specification: ``infra/redshift_cluster.toml`` and its IAM policy documents,
loaded into one typed, validated value.

Everything a cluster job needs to know about *what* to build is here, checked before any AWS call:
names follow Redshift's and IAM's rules, the node count makes a multi-node cluster, the CIDR allowed
to connect is not the whole internet unless the spec says so explicitly, the role is trusted by
Redshift only and its permission policy reads the configured buckets and prefixes only.

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
    iam_role_name: str
    iam_policy_name: str
    s3_read_access: tuple[S3ReadAccess, ...]
    trust_policy_document: str
    permission_policy_template: str
    security_group_name: str
    allowed_cidr: str
    allow_public_ingress: bool
    final_snapshot: bool
    final_snapshot_prefix: str
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

    def permission_policy_document(self, region: str) -> str:
        """The role's permission policy for ``region``'s partition (aws, aws-cn, aws-us-gov)."""
        return render_permission_policy(
            self.permission_policy_template, self.s3_read_access, aws_partition(region)
        )

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


def trust_policy_problems(document: str) -> list[str]:
    """Why ``document`` is not "Redshift, and only Redshift, may assume the role"."""
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
        elif services != [REDSHIFT_SERVICE_PRINCIPAL]:
            problems.append(f"the trust policy trusts {services}, not {REDSHIFT_SERVICE_PRINCIPAL}")
        if _as_list(statement.get("Action")) != ["sts:AssumeRole"]:
            problems.append(
                f"the trust policy allows {statement.get('Action')!r}, not sts:AssumeRole"
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
            }
        ),
        "iam_role": frozenset(
            {"name", "policy_name", "trust_policy", "permission_policy", "s3_read"}
        ),
        "network": frozenset({"security_group_name", "allowed_cidr", "allow_public_ingress"}),
        "teardown": frozenset({"final_snapshot", "final_snapshot_prefix"}),
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
        trust_policy = self._policy_file(role, "trust_policy", "redshift_trust_policy.json")
        permission_template = self._policy_file(
            role, "permission_policy", "redshift_s3_read_policy.json"
        )
        if trust_policy:
            self.problems.extend(trust_policy_problems(trust_policy))
        if permission_template and s3_read_access:
            try:
                rendered = render_permission_policy(permission_template, s3_read_access)
                self.problems.extend(permission_policy_problems(rendered, s3_read_access))
            except RedshiftClusterSpecError as error:
                self.problems.append(str(error))

        spec = RedshiftClusterSpec(
            source_path=self.path,
            identifier=identifier,
            region=region,
            node_type=node_type,
            number_of_nodes=number_of_nodes,
            database_name=self._text(cluster, "cluster.database_name", _DATABASE_NAME),
            master_username=self._master_username(cluster),
            port=port,
            publicly_accessible=self._flag(cluster, "cluster.publicly_accessible", False),
            manage_master_password=manage_master_password,
            kms_key_id=self._text(cluster, "cluster.kms_key_id", None, default=""),
            cluster_subnet_group_name=self._text(
                cluster, "cluster.cluster_subnet_group_name", None, default=""
            ),
            iam_role_name=self._text(role, "iam_role.name", _IAM_NAME),
            iam_policy_name=self._text(role, "iam_role.policy_name", _IAM_POLICY_NAME),
            s3_read_access=s3_read_access,
            trust_policy_document=trust_policy,
            permission_policy_template=permission_template,
            security_group_name=self._text(
                network, "network.security_group_name", _SECURITY_GROUP_NAME
            ),
            allowed_cidr=cidr,
            allow_public_ingress=allow_public_ingress,
            final_snapshot=self._flag(teardown, "teardown.final_snapshot", False),
            final_snapshot_prefix=self._text(
                teardown, "teardown.final_snapshot_prefix", _SNAPSHOT_PREFIX, default=identifier
            ),
            tags=self._tags(),
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

    def _policy_file(self, role: Mapping[str, Any], key: str, default_name: str) -> str:
        relative = role.get(key, f"policies/{default_name}")
        if not isinstance(relative, str) or not relative:
            self.problems.append(f"iam_role.{key} must name a JSON file")
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
                    self.problems.append(f"iam_role.{key}: {candidate} is not JSON: {error}")
                    return ""
                return text
        self.problems.append(f"iam_role.{key}: no {relative} beside {self.path} or in infra/")
        return ""

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
