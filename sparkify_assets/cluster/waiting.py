"""Waiting for a cluster state (available, paused, deleted), one logged check at a time."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from botocore.exceptions import WaiterError
from botocore.waiter import WaiterModel, create_waiter_with_client

from sparkify_assets.cluster.aws_context import ClusterAwsContext
from sparkify_assets.cluster.errors import (
    CLUSTER_NOT_FOUND,
    RedshiftClusterError,
    RedshiftClusterWaitTimeout,
)

# boto3 has waiters for "available" and "deleted" but none for "paused": the same machinery with
# botocore's own waiter model format.
_PAUSED_WAITER_MODEL = WaiterModel(
    {
        "version": 2,
        "waiters": {
            "ClusterPaused": {
                "operation": "DescribeClusters",
                "delay": 30,
                "maxAttempts": 40,
                "acceptors": [
                    {
                        "state": "success",
                        "matcher": "pathAll",
                        "argument": "Clusters[].ClusterStatus",
                        "expected": "paused",
                    },
                    {
                        "state": "failure",
                        "matcher": "pathAny",
                        "argument": "Clusters[].ClusterStatus",
                        "expected": "deleting",
                    },
                    {"state": "failure", "matcher": "error", "expected": CLUSTER_NOT_FOUND},
                ],
            }
        },
    }
)


def _cluster_status(response: Mapping[str, Any] | None) -> str:
    if not response:
        return "unknown"
    clusters = response.get("Clusters") or []
    if clusters:
        return str(clusters[0].get("ClusterStatus", "unknown"))
    return str(response.get("Error", {}).get("Code", "unknown"))


class ClusterWaits(ClusterAwsContext):
    """Waits for the spec's cluster, within the context's :class:`WaitSettings`."""

    def wait_until_available(self) -> None:
        self._wait(self.clients.redshift.get_waiter("cluster_available"), "available")

    def wait_until_deleted(self) -> None:
        self._wait(self.clients.redshift.get_waiter("cluster_deleted"), "deleted")

    def wait_until_paused(self) -> None:
        waiter = create_waiter_with_client(
            "ClusterPaused", _PAUSED_WAITER_MODEL, self.clients.redshift
        )
        self._wait(waiter, "paused")

    def _wait(self, waiter: Any, goal: str) -> None:
        """Runs ``waiter`` one check at a time, so that every check is logged with the state."""
        identifier = self.spec.identifier
        started = time.monotonic()
        status = "unknown"
        for attempt in range(1, self.wait.max_attempts + 1):
            try:
                waiter.wait(
                    ClusterIdentifier=identifier, WaiterConfig={"Delay": 1, "MaxAttempts": 1}
                )
            except WaiterError as error:
                reason = str(error.kwargs.get("reason", ""))
                if not reason.startswith("Max attempts exceeded"):
                    raise RedshiftClusterError(
                        f"cluster {identifier} will not become {goal}: {reason}"
                    ) from error
                status = _cluster_status(error.last_response)
                elapsed = time.monotonic() - started
                self.log.info(
                    f"waiting for cluster {identifier} to be {goal}: {status} after"
                    f" {elapsed:.0f}s (check {attempt} of {self.wait.max_attempts})"
                )
                if attempt < self.wait.max_attempts:
                    self.wait.sleep(self.wait.delay_seconds)
                continue
            elapsed = time.monotonic() - started
            self.log.info(f"cluster {identifier} is {goal} (after {elapsed:.0f}s)")
            return
        raise RedshiftClusterWaitTimeout(
            f"cluster {identifier} was still {status}, not {goal}, after"
            f" {self.wait.max_attempts} checks {self.wait.delay_seconds:g}s apart (about"
            f" {self.wait.timeout_seconds:.0f}s). AWS goes on with it: run the job again to keep"
            " waiting, or raise wait_max_attempts."
        )
