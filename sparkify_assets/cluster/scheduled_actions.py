"""The optional pause/resume schedule: two Redshift scheduled actions and the scheduler's role."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from botocore.exceptions import ClientError

from sparkify_assets.cluster.errors import (
    SCHEDULED_ACTION_ALREADY_EXISTS,
    SCHEDULED_ACTION_NOT_FOUND,
    RedshiftClusterError,
    error_code,
)
from sparkify_assets.cluster.iam_roles import IamRoles


class ScheduledActions(IamRoles):
    """The spec's resume and pause actions; scheduled actions cannot be tagged, so one is ours
    when it targets this cluster through our scheduler role."""

    def scheduled_actions(self) -> dict[str, dict[str, Any]]:
        """The spec's two scheduled actions that exist, by name."""
        found: dict[str, dict[str, Any]] = {}
        for name in self.spec.scheduled_action_names:
            try:
                actions = self.clients.redshift.describe_scheduled_actions(
                    ScheduledActionName=name
                )["ScheduledActions"]
            except ClientError as error:
                if error_code(error) == SCHEDULED_ACTION_NOT_FOUND:
                    continue
                raise
            if actions:
                found[name] = dict(actions[0])
        return found

    def _is_our_action(self, action: Mapping[str, Any]) -> bool:
        target = action.get("TargetAction") or {}
        clusters = {
            str(details.get("ClusterIdentifier", ""))
            for details in target.values()
            if isinstance(details, dict)
        }
        role = str(action.get("IamRole", ""))
        return clusters == {self.spec.identifier} and role.endswith(
            f":role/{self.spec.schedule.role_name}"
        )

    def ensure_schedule(self) -> list[str]:
        """With ``schedule.enabled``: the scheduler role and the resume and pause actions, as the
        spec says. Without: removes ours if a previous spec made them. The actions' names."""
        schedule = self.spec.schedule
        if not schedule.enabled:
            removed = self.remove_schedule()
            self.log.info(
                "schedule.enabled = false: the cluster is paused and resumed by hand"
                + (f" (removed {removed})" if removed else "")
            )
            return []
        redshift = self.clients.redshift
        role_arn = self.ensure_role(self.spec.scheduler_role(self.account))
        existing = self.scheduled_actions()
        resume_name, pause_name = self.spec.scheduled_action_names
        wanted = {
            resume_name: ("ResumeCluster", schedule.resume_at_utc),
            pause_name: ("PauseCluster", schedule.pause_at_utc),
        }
        for name, (action, at) in wanted.items():
            arguments: dict[str, Any] = {
                "ScheduledActionName": name,
                "TargetAction": {action: {"ClusterIdentifier": self.spec.identifier}},
                "Schedule": schedule.cron(at),
                "IamRole": role_arn,
                "ScheduledActionDescription": (
                    f"{action} {self.spec.identifier} at {at} UTC on {schedule.days}"
                    f" ({self.spec.managed_by})"
                ),
                "Enable": True,
            }
            if name in existing:
                if not self._is_our_action(existing[name]):
                    raise RedshiftClusterError(
                        f"scheduled action {name} is not this project's: nothing was changed"
                    )
                redshift.modify_scheduled_action(**arguments)
            else:
                try:
                    redshift.create_scheduled_action(**arguments)
                except ClientError as error:
                    if error_code(error) != SCHEDULED_ACTION_ALREADY_EXISTS:
                        raise
                    redshift.modify_scheduled_action(**arguments)
            self.log.info(f"scheduled action {name}: {action} at {schedule.cron(at)} (UTC)")
        return list(wanted)

    def remove_schedule(self) -> list[str]:
        """Deletes our scheduled actions and the scheduler role. The actions deleted."""
        removed = []
        for name, action in self.scheduled_actions().items():
            if not self._is_our_action(action):
                raise RedshiftClusterError(
                    f"scheduled action {name} is not this project's: it was left as it is"
                )
            try:
                self.clients.redshift.delete_scheduled_action(ScheduledActionName=name)
            except ClientError as error:
                if error_code(error) != SCHEDULED_ACTION_NOT_FOUND:
                    raise
            removed.append(name)
            self.log.info(f"deleted scheduled action {name}")
        self.delete_role(self.spec.schedule.role_name)
        return removed
