"""What the cluster code raises, and the AWS error codes it turns into "nothing to do"."""

from __future__ import annotations

from botocore.exceptions import ClientError


class RedshiftClusterSpecError(ValueError):
    """The cluster specification (or a policy document it names) is missing or invalid."""


class RedshiftClusterError(RuntimeError):
    """The cluster cannot be brought to the requested state; the message says why and what to do."""


class RedshiftClusterWaitTimeout(RedshiftClusterError):
    """The cluster did not reach a state within the configured number of checks."""


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


def error_code(error: ClientError) -> str:
    """The AWS error code of ``error`` (``ClusterNotFound``, ``NoSuchEntity``, ...)."""
    return str(error.response.get("Error", {}).get("Code", ""))
