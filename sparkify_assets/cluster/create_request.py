"""The ``CreateCluster`` request for a spec, and Redshift's rules for a master password."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sparkify_assets.cluster.errors import RedshiftClusterError
from sparkify_assets.cluster.spec import RedshiftClusterSpec

_PASSWORD_FORBIDDEN = frozenset("'\"\\/@")


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
