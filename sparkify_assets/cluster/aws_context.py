"""What every lifecycle step works with: the spec, the region's boto3 clients (made on first use),
the progress log, the wait settings, the caller's account; and the refusal of what is not ours."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, Protocol

from sparkify_assets.cluster.errors import RedshiftClusterError
from sparkify_assets.cluster.policy_documents import AccountContext
from sparkify_assets.cluster.spec import RedshiftClusterSpec

if TYPE_CHECKING:
    from mypy_boto3_ec2 import EC2Client
    from mypy_boto3_iam import IAMClient
    from mypy_boto3_redshift import RedshiftClient


class ProgressLog(Protocol):
    """Where progress goes: a Dagster ``context.log`` or a ``logging.Logger``."""

    def info(self, msg: str) -> None: ...

    def warning(self, msg: str) -> None: ...


@dataclass(frozen=True)
class WaitSettings:
    """How long to wait for a state: ``max_attempts`` checks, ``delay_seconds`` apart."""

    delay_seconds: float = 30.0
    max_attempts: int = 80
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False, repr=False)

    @property
    def timeout_seconds(self) -> float:
        return self.delay_seconds * max(self.max_attempts - 1, 0)


class ClusterAwsClients:
    """The boto3 clients the lifecycle needs, all for one region, each made on first use.

    ``make_client(service_name)`` returns a boto3 client; making one loads the service's model
    (about a second for EC2), so a step that needs only IAM never pays for EC2.
    """

    def __init__(self, region: str, make_client: Callable[[str], Any]) -> None:
        self.region = region
        self._make_client = make_client

    @cached_property
    def redshift(self) -> RedshiftClient:
        client: RedshiftClient = self._make_client("redshift")
        return client

    @cached_property
    def iam(self) -> IAMClient:
        client: IAMClient = self._make_client("iam")
        return client

    @cached_property
    def ec2(self) -> EC2Client:
        client: EC2Client = self._make_client("ec2")
        return client

    @cached_property
    def sts(self) -> Any:  # no boto3-stubs for STS in the project: one call, GetCallerIdentity
        return self._make_client("sts")


class ClusterAwsContext:
    """The spec's resources on AWS through ``clients``: the base of each lifecycle concern."""

    def __init__(
        self,
        spec: RedshiftClusterSpec,
        clients: ClusterAwsClients,
        log: ProgressLog,
        wait: WaitSettings | None = None,
    ) -> None:
        self.spec = spec
        self.clients = clients
        self.log = log
        self.wait = wait or WaitSettings()

    @cached_property
    def account(self) -> AccountContext:
        """The caller's account (STS GetCallerIdentity) and the region: what ARNs are made of."""
        identity = self.clients.sts.get_caller_identity()
        return AccountContext(str(identity["Account"]), self.clients.region)

    def _refuse(self, kind: str, name: str) -> RedshiftClusterError:
        return RedshiftClusterError(
            f"{kind} {name} exists but does not carry the tag managed-by ="
            f" {self.spec.managed_by}: it is not this project's, so the cluster jobs neither change"
            " nor delete it. Name another one in the spec, or tag it to hand it over."
        )
