"""infra/policies/redshift_s3_backup_write_policy.json: what the cluster's role may do with the
backup prefix (UNLOAD writes there, COPY reads the backup back), and nothing more.

The template uses the placeholders of the read policy (``${bucket_arn}``, ``${object_arns}``,
``${prefix_patterns}``, ``${index}``), so it is rendered by the same function, given the backup
bucket and prefix as the one "prefix" of an ``S3ReadAccess``.
"""

from __future__ import annotations

import json
import re

import pytest

from sparkify_assets.cluster.policy_documents import S3ReadAccess, render_permission_policy
from sparkify_assets.cluster.spec import infra_directory

TEMPLATE = infra_directory() / "policies" / "redshift_s3_backup_write_policy.json"
BUCKET = "sparkify-backups"
PREFIX = "warehouse"
# What UNLOAD (PutObject, ListBucket to find existing files), COPY from the backup (GetObject) and
# the region lookup need. No DeleteObject: the backup never uses CLEANPATH or ALLOWOVERWRITE; the
# Dagster process itself removes replaced files with its own credentials.
NEEDED = {"s3:PutObject", "s3:GetObject", "s3:ListBucket", "s3:GetBucketLocation"}


def rendered(partition: str = "aws") -> list[dict[str, object]]:
    document = render_permission_policy(
        TEMPLATE.read_text(), [S3ReadAccess(BUCKET, (PREFIX,))], partition
    )
    statements: list[dict[str, object]] = json.loads(document)["Statement"]
    return statements


def actions(statement: dict[str, object]) -> list[str]:
    value = statement["Action"]
    return [value] if isinstance(value, str) else list(value)  # type: ignore[arg-type]


def resources(statement: dict[str, object]) -> list[str]:
    value = statement["Resource"]
    return [value] if isinstance(value, str) else list(value)  # type: ignore[arg-type]


def test_the_role_may_write_and_read_exactly_the_backup_prefix() -> None:
    statements = rendered()
    assert all(s["Effect"] == "Allow" for s in statements)
    assert not any("NotAction" in s or "NotResource" in s for s in statements)
    granted = {a for s in statements for a in actions(s)}
    assert granted == NEEDED
    for statement in statements:
        for resource in resources(statement):
            assert re.fullmatch(rf"arn:aws:s3:::{BUCKET}(/{PREFIX}(/\*)?)?", resource), resource
        if "s3:PutObject" in actions(statement) or "s3:GetObject" in actions(statement):
            # objects under the prefix only: never the bucket, never another prefix
            assert resources(statement) == [
                f"arn:aws:s3:::{BUCKET}/{PREFIX}",
                f"arn:aws:s3:::{BUCKET}/{PREFIX}/*",
            ]
        if "s3:ListBucket" in actions(statement):
            assert statement["Condition"] == {"StringLike": {"s3:prefix": [PREFIX, f"{PREFIX}/*"]}}


def test_the_policy_follows_the_partition() -> None:
    china = rendered("aws-cn")
    assert all(r.startswith("arn:aws-cn:s3:::") for s in china for r in resources(s))


@pytest.mark.parametrize("forbidden", ["s3:DeleteObject", "s3:*", "*", "s3:PutBucketPolicy"])
def test_no_wider_action_is_granted(forbidden: str) -> None:
    assert forbidden not in {a for s in rendered() for a in actions(s)}
