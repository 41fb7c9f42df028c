"""Redshift API calls moto (5.2) lacks, added to moto's own Redshift service for the tests.

The cluster jobs call ``ModifyClusterParameterGroup`` and ``Create/Describe/Delete/
ModifyScheduledAction``; moto answers them with "not implemented", and it lets
``CreateClusterParameterGroup`` silently replace an existing group. :func:`install` adds those
actions to moto's Redshift response class and backend, shaped as AWS documents them (the request
and response shapes are botocore's, the error codes the API reference's):

- a parameter group keeps the parameters set on it; ``DescribeClusterParameters`` lists them
  (``Source`` ``user``) over moto's engine defaults; an unknown parameter name is refused;
- ``CreateClusterParameterGroup`` of an existing name answers ``ClusterParameterGroupAlreadyExists``;
- a scheduled action is stored with its target, schedule, role and state; the target's cluster must
  exist; names are unique (``ScheduledActionAlreadyExists``); an unknown name is
  ``ScheduledActionNotFound``; a schedule must be ``at(...)`` or ``cron(...)`` (``InvalidSchedule``).

What moto still does not do with them, and neither does this: apply a parameter (``require_ssl``
refuses nothing here), run a scheduled action at its time, or check the role it names. Installing
is idempotent and affects only this process (the threaded moto server runs in it).
"""

from __future__ import annotations

import re
from typing import Any

from moto.core.responses import ActionResult, EmptyResult
from moto.redshift.exceptions import ClusterNotFoundError, RedshiftClientError
from moto.redshift.models import ParameterGroup, RedshiftBackend
from moto.redshift.responses import RedshiftResponse

_SCHEDULE = re.compile(r"^(at\([0-9T:-]+\)|cron\([^()]+\))$")
_INSTALLED = "_sparkify_additions_installed"


class _Fault(RedshiftClientError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(code, message)


def _scheduled_actions(backend: RedshiftBackend) -> dict[str, dict[str, Any]]:
    store: dict[str, dict[str, Any]] | None = getattr(backend, "_sparkify_scheduled_actions", None)
    if store is None:
        store = {}
        backend._sparkify_scheduled_actions = store  # type: ignore[attr-defined]
    return store


def _group_parameters(group: ParameterGroup) -> dict[str, str]:
    parameters: dict[str, str] | None = getattr(group, "_sparkify_parameters", None)
    if parameters is None:
        parameters = {}
        group._sparkify_parameters = parameters  # type: ignore[attr-defined]
    return parameters


def _group(backend: RedshiftBackend, name: str) -> ParameterGroup:
    return backend.describe_cluster_parameter_groups(name)[0]


def _check_target(backend: RedshiftBackend, target: dict[str, Any]) -> None:
    if len(target) != 1 or next(iter(target)) not in {"PauseCluster", "ResumeCluster"}:
        raise _Fault("ScheduledActionTypeUnsupported", f"unsupported target action {target}")
    identifier = next(iter(target.values())).get("ClusterIdentifier", "")
    if identifier not in backend.clusters:
        raise ClusterNotFoundError(identifier)


def _check_schedule(schedule: str) -> None:
    if not _SCHEDULE.match(schedule or ""):
        raise _Fault("InvalidSchedule", f"Schedule {schedule!r} is not at( ) or cron( )")


def _action_view(action: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in action.items() if value is not None}


def modify_cluster_parameter_group(self: RedshiftResponse) -> ActionResult:
    backend = self.redshift_backend
    name = self._get_param("ParameterGroupName")
    group = _group(backend, name)
    known = set(backend.default_params)
    parameters = self._get_param("Parameters", [])
    for parameter in parameters:
        if parameter.get("ParameterName") not in known:
            raise _Fault(
                "InvalidParameterValue",
                f"Could not find parameter with name: {parameter.get('ParameterName')}",
            )
    for parameter in parameters:
        _group_parameters(group)[parameter["ParameterName"]] = parameter["ParameterValue"]
    return ActionResult(
        {
            "ParameterGroupName": name,
            "ParameterGroupStatus": "Your parameter group has been updated. If you changed only"
            " dynamic parameters, associated clusters are being modified now.",
        }
    )


def describe_cluster_parameters(self: RedshiftResponse) -> ActionResult:
    backend = self.redshift_backend
    group = _group(backend, self._get_param("ParameterGroupName"))
    values = _group_parameters(group)
    source = self._get_param("Source")
    parameters = [
        {
            **parameter,
            "ParameterValue": values.get(parameter["ParameterName"], parameter["ParameterValue"]),
            "Source": "user" if parameter["ParameterName"] in values else "engine-default",
            "IsModifiable": True,
        }
        for parameter in backend.describe_default_cluster_parameters()
    ]
    if source:
        parameters = [parameter for parameter in parameters if parameter["Source"] == source]
    return ActionResult({"Parameters": parameters})


def create_cluster_parameter_group(self: RedshiftResponse) -> ActionResult:
    name = self._get_param("ParameterGroupName")
    if name in self.redshift_backend.parameter_groups:
        raise _Fault(
            "ClusterParameterGroupAlreadyExists",
            f"Parameter group {name} already exists",
        )
    return _ORIGINAL_CREATE_PARAMETER_GROUP(self)


def create_scheduled_action(self: RedshiftResponse) -> ActionResult:
    backend = self.redshift_backend
    store = _scheduled_actions(backend)
    name = self._get_param("ScheduledActionName")
    if name in store:
        raise _Fault("ScheduledActionAlreadyExists", f"Scheduled action {name} already exists")
    target = self._get_param("TargetAction") or {}
    _check_target(backend, target)
    schedule = self._get_param("Schedule")
    _check_schedule(schedule)
    if not self._get_param("IamRole"):
        raise _Fault("InvalidParameterValue", "IamRole is required")
    action = {
        "ScheduledActionName": name,
        "TargetAction": target,
        "Schedule": schedule,
        "IamRole": self._get_param("IamRole"),
        "ScheduledActionDescription": self._get_param("ScheduledActionDescription"),
        "State": "ACTIVE" if self._get_bool_param("Enable", True) else "DISABLED",
    }
    store[name] = action
    return ActionResult(_action_view(action))


def modify_scheduled_action(self: RedshiftResponse) -> ActionResult:
    backend = self.redshift_backend
    store = _scheduled_actions(backend)
    name = self._get_param("ScheduledActionName")
    if name not in store:
        raise _Fault("ScheduledActionNotFound", f"Scheduled action {name} not found")
    action = store[name]
    target = self._get_param("TargetAction")
    if target:
        _check_target(backend, target)
        action["TargetAction"] = target
    schedule = self._get_param("Schedule")
    if schedule:
        _check_schedule(schedule)
        action["Schedule"] = schedule
    for key in ("IamRole", "ScheduledActionDescription"):
        if self._get_param(key):
            action[key] = self._get_param(key)
    enable = self._get_bool_param("Enable")
    if enable is not None:
        action["State"] = "ACTIVE" if enable else "DISABLED"
    return ActionResult(_action_view(action))


def describe_scheduled_actions(self: RedshiftResponse) -> ActionResult:
    store = _scheduled_actions(self.redshift_backend)
    name = self._get_param("ScheduledActionName")
    if name:
        if name not in store:
            raise _Fault("ScheduledActionNotFound", f"Scheduled action {name} not found")
        actions = [store[name]]
    else:
        actions = list(store.values())
    return ActionResult({"ScheduledActions": [_action_view(action) for action in actions]})


def delete_scheduled_action(self: RedshiftResponse) -> EmptyResult:
    store = _scheduled_actions(self.redshift_backend)
    name = self._get_param("ScheduledActionName")
    if store.pop(name, None) is None:
        raise _Fault("ScheduledActionNotFound", f"Scheduled action {name} not found")
    return EmptyResult()


_ORIGINAL_CREATE_PARAMETER_GROUP = RedshiftResponse.create_cluster_parameter_group


def install() -> None:
    """Adds the actions above to moto's Redshift service (once per process)."""
    if getattr(RedshiftResponse, _INSTALLED, False):
        return
    for function in (
        modify_cluster_parameter_group,
        describe_cluster_parameters,
        create_cluster_parameter_group,
        create_scheduled_action,
        modify_scheduled_action,
        describe_scheduled_actions,
        delete_scheduled_action,
    ):
        setattr(RedshiftResponse, function.__name__, function)
    setattr(RedshiftResponse, _INSTALLED, True)
