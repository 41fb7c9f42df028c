"""IAM policy documents: the templates in ``infra/policies/`` filled in, and checked for what they
grant; the roles they make."""

from __future__ import annotations

import json
import re
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ConfigDict, Field, StrictStr, field_validator
from pydantic.dataclasses import dataclass as validated_dataclass

from sparkify_assets.cluster.errors import RedshiftClusterSpecError

REDSHIFT_SERVICE_PRINCIPAL = "redshift.amazonaws.com"
REDSHIFT_SCHEDULER_PRINCIPAL = "scheduler.redshift.amazonaws.com"
BUCKET_NAME_PATTERN = r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$"
_WHOLE_PLACEHOLDER = re.compile(r"^\$\{(\w+)\}$")


@validated_dataclass(frozen=True, config=ConfigDict(extra="forbid"))
class S3ReadAccess:
    """One bucket the cluster may read, restricted to key prefixes (a "folder" or one object)."""

    bucket: StrictStr = Field(pattern=BUCKET_NAME_PATTERN)
    prefixes: tuple[StrictStr, ...] = Field(min_length=1)

    @field_validator("prefixes")
    @classmethod
    def _prefixes_not_buckets(cls, prefixes: tuple[str, ...]) -> tuple[str, ...]:
        cleaned = tuple(prefix.strip("/") for prefix in prefixes)
        for prefix in cleaned:
            if not prefix or any(wildcard in prefix for wildcard in "*?$"):
                raise ValueError(
                    f"prefix {prefix!r} must be a non-empty key prefix without wildcards (the"
                    " whole bucket is never granted)"
                )
        return cleaned


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


def aws_partition(region: str) -> str:
    """The ARN partition of ``region``."""
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


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


def permission_policy_problems(
    document: str, s3_read_access: Sequence[S3ReadAccess], *, may_write: bool = False
) -> list[str]:
    """Why ``document`` grants more than reading the configured buckets (empty: it does not);
    ``may_write``: ``s3:PutObject`` is allowed too (the backup prefix), never a delete."""
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
            allowed = r"^s3:(Get|List)\w+$|^s3:PutObject$" if may_write else r"^s3:(Get|List)\w+$"
            if "*" in action or not re.match(allowed, action):
                kind = "read or write (no delete)" if may_write else "read-only"
                problems.append(f"action {action!r} is not a {kind} S3 action")
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
