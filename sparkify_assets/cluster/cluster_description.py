"""What a described cluster tells: a summary for people, the connection for the warehouse."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

if TYPE_CHECKING:
    from mypy_boto3_redshift.type_defs import ClusterTypeDef


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
