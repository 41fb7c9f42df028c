"""The whole cluster lifecycle on one object, and the ownership check that runs before any change
(docs/cluster_security.md says what the cluster is given and why)."""

from __future__ import annotations

from sparkify_assets.cluster.errors import RedshiftClusterError
from sparkify_assets.cluster.network import NetworkAccess
from sparkify_assets.cluster.parameter_group import ParameterGroup
from sparkify_assets.cluster.provisioned_cluster import ProvisionedCluster
from sparkify_assets.cluster.scheduled_actions import ScheduledActions


class RedshiftClusterLifecycle(ScheduledActions, ProvisionedCluster, NetworkAccess, ParameterGroup):
    """The cluster of ``spec``, its roles, network, parameters and schedule, through ``clients``.

    Every step first looks at what exists and does only what is missing; a resource with a
    configured name but without the spec's ``managed-by`` tag is somebody else's and is neither
    changed nor deleted.
    """

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
