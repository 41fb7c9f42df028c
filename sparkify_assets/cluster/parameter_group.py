"""The cluster's parameter group: SSL required and user activity logged, always."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from botocore.exceptions import ClientError

from sparkify_assets.cluster.aws_context import ClusterAwsContext
from sparkify_assets.cluster.errors import (
    PARAMETER_GROUP_ALREADY_EXISTS,
    PARAMETER_GROUP_NOT_FOUND,
    RedshiftClusterError,
    error_code,
)

# Parameters the cluster's parameter group always has (Security Hub Redshift.2 / CT.REDSHIFT.PR.9,
# and the user activity log that Redshift.4's audit logging needs for queries).
REQUIRED_CLUSTER_PARAMETERS: Mapping[str, str] = {
    "require_ssl": "true",
    "enable_user_activity_logging": "true",
}


class ParameterGroup(ClusterAwsContext):
    """The spec's parameter group: described, created or reused (ours only), set, deleted."""

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
                    Tags=[{"Key": key, "Value": value} for key, value in self.spec.tags.items()],
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
