"""The provisioned cluster itself: created or restored from a snapshot, made to match the spec
(network, role, parameters, audit logging), paused, resumed, deleted."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from sparkify_assets.cluster.cluster_description import ClusterConnection
from sparkify_assets.cluster.create_request import cluster_create_request
from sparkify_assets.cluster.errors import (
    CLUSTER_ALREADY_EXISTS,
    CLUSTER_NOT_FOUND,
    INVALID_CLUSTER_STATE,
    RedshiftClusterError,
    error_code,
)
from sparkify_assets.cluster.waiting import ClusterWaits

if TYPE_CHECKING:
    from mypy_boto3_redshift.type_defs import ClusterTypeDef, SnapshotTypeDef

# Cluster states in which "up" waits instead of creating, and "down" waits instead of deleting.
DELETING_STATES = frozenset({"deleting", "final-snapshot"})


class ProvisionedCluster(ClusterWaits):
    """The spec's cluster, through Redshift's API."""

    def describe_cluster(self) -> ClusterTypeDef | None:
        """The cluster as Redshift describes it, or None when there is none."""
        try:
            clusters = self.clients.redshift.describe_clusters(
                ClusterIdentifier=self.spec.identifier
            )["Clusters"]
        except ClientError as error:
            if error_code(error) == CLUSTER_NOT_FOUND:
                return None
            raise
        return clusters[0] if clusters else None

    def _existing_cluster(self) -> ClusterTypeDef:
        cluster = self.describe_cluster()
        if cluster is None:
            raise RedshiftClusterError(f"cluster {self.spec.identifier} disappeared meanwhile")
        return cluster

    def create_cluster(self, request: Mapping[str, Any]) -> bool:
        """Sends ``CreateCluster``; False when it answers ``ClusterAlreadyExists``."""
        try:
            self.clients.redshift.create_cluster(**request)
        except ClientError as error:
            if error_code(error) == CLUSTER_ALREADY_EXISTS:
                return False
            raise
        return True

    def ensure_cluster(
        self, role_arn: str, security_group_id: str, master_password: str = ""
    ) -> ClusterTypeDef:
        """Creates the cluster, or reuses the existing one (resuming it when paused)."""
        identifier = self.spec.identifier
        cluster = self.describe_cluster()
        if cluster is None and self.spec.restore_from_newest_snapshot:
            snapshot = self.newest_snapshot()
            if snapshot is not None:
                return self.restore_cluster(snapshot, role_arn, security_group_id)
            self.log.warning(
                f"restore.from_newest_snapshot = true but cluster {identifier} has no available"
                " snapshot: creating an EMPTY cluster"
            )
        if cluster is None:
            request = cluster_create_request(
                self.spec,
                role_arn=role_arn,
                security_group_ids=[security_group_id],
                master_password=master_password,
            )
            if self.create_cluster(request):
                self.log.info(
                    f"creating cluster {identifier}: {self.spec.number_of_nodes} x"
                    f" {self.spec.node_type} ({self.spec.cluster_type}), encrypted,"
                    f" {'publicly' if self.spec.publicly_accessible else 'not publicly'}"
                    f" accessible, role {role_arn}, security group {security_group_id},"
                    " master password "
                    + ("managed by Redshift" if self.spec.manage_master_password else "given")
                )
            else:
                self.log.info(
                    f"cluster {identifier} was created meanwhile ({CLUSTER_ALREADY_EXISTS}):"
                    " reusing it"
                )
            # DescribeClusters may lag CreateCluster for a moment; the wait that follows retries.
            return self.describe_cluster() or {
                "ClusterIdentifier": identifier,
                "ClusterStatus": "creating",
            }
        status = cluster.get("ClusterStatus", "unknown")
        if not self.spec.is_managed(cluster.get("Tags")):
            raise self._refuse("Redshift cluster", identifier)
        self.log.info(f"cluster {identifier} already exists ({status}): reusing it")
        if status in DELETING_STATES:
            raise RedshiftClusterError(
                f"cluster {identifier} is being deleted ({status}): run redshift_cluster_up"
                " again once redshift_cluster_down has finished"
            )
        if status == "pausing":
            self.log.info(f"cluster {identifier} is pausing: resuming it once paused")
            self.wait_until_paused()
            status = "paused"
        if status == "paused":
            self._change_state("resume", self.clients.redshift.resume_cluster)
            self.log.info(f"cluster {identifier} was paused: resuming it")
        return self._existing_cluster()

    def newest_snapshot(self) -> SnapshotTypeDef | None:
        """The newest available snapshot (manual or automated) of the spec's identifier."""
        paginator = self.clients.redshift.get_paginator("describe_cluster_snapshots")
        try:
            snapshots = [
                snapshot
                for page in paginator.paginate(ClusterIdentifier=self.spec.identifier)
                for snapshot in page["Snapshots"]
                if snapshot.get("ClusterIdentifier") == self.spec.identifier
                and snapshot.get("Status") == "available"
                and "SnapshotCreateTime" in snapshot
            ]
        except ClientError as error:
            if error_code(error) in {CLUSTER_NOT_FOUND, "ClusterSnapshotNotFound"}:
                return None
            raise
        return max(snapshots, key=lambda snapshot: snapshot["SnapshotCreateTime"], default=None)

    def restore_cluster(
        self, snapshot: SnapshotTypeDef, role_arn: str, security_group_id: str
    ) -> ClusterTypeDef:
        """``RestoreFromClusterSnapshot`` with the spec's network, role and controls, then the
        spec's tags (RestoreFromClusterSnapshot takes none)."""
        identifier = self.spec.identifier
        snapshot_id = snapshot.get("SnapshotIdentifier", "")
        request: dict[str, Any] = {
            "ClusterIdentifier": identifier,
            "SnapshotIdentifier": snapshot_id,
            "SnapshotClusterIdentifier": identifier,
            "Port": self.spec.port,
            "PubliclyAccessible": self.spec.publicly_accessible,
            "VpcSecurityGroupIds": [security_group_id],
            "ClusterParameterGroupName": self.spec.parameter_group_name,
            "EnhancedVpcRouting": self.spec.enhanced_vpc_routing,
            "AutomatedSnapshotRetentionPeriod": self.spec.automated_snapshot_retention_days,
            "IamRoles": [role_arn],
            "NodeType": self.spec.node_type,
            "NumberOfNodes": self.spec.number_of_nodes,
        }
        if self.spec.cluster_subnet_group_name:
            request["ClusterSubnetGroupName"] = self.spec.cluster_subnet_group_name
        if self.spec.kms_key_id:
            request["KmsKeyId"] = self.spec.kms_key_id
        if self.spec.manage_master_password:
            request["ManageMasterPassword"] = True
        try:
            self.clients.redshift.restore_from_cluster_snapshot(**request)
        except ClientError as error:
            if error_code(error) != CLUSTER_ALREADY_EXISTS:
                raise
            self.log.info(f"cluster {identifier} was created meanwhile: reusing it")
            return self._existing_cluster()
        self.clients.redshift.create_tags(
            ResourceName=self.spec.cluster_arn(self.account),
            Tags=[{"Key": key, "Value": value} for key, value in self.spec.tags.items()],
        )
        self.log.warning(
            f"restoring cluster {identifier} from snapshot {snapshot_id} taken"
            f" {snapshot.get('SnapshotCreateTime')} (restore.from_newest_snapshot = true): its data"
            " is the snapshot's, not an empty warehouse"
        )
        return self.describe_cluster() or {
            "ClusterIdentifier": identifier,
            "ClusterStatus": "creating",
        }

    def drift(self, cluster: ClusterTypeDef) -> list[str]:
        """How an existing cluster differs from the spec in ways ``up`` does not change."""
        expected: dict[str, Any] = {
            "NodeType": self.spec.node_type,
            "NumberOfNodes": self.spec.number_of_nodes,
            "DBName": self.spec.database_name,
            "MasterUsername": self.spec.master_username,
        }
        found = [
            f"{key} is {cluster.get(key)!r}, the spec says {value!r} (resize or recreate to match)"
            for key, value in expected.items()
            if cluster.get(key) != value
        ]
        if not cluster.get("Encrypted", False):
            found.append("the cluster is NOT encrypted at rest: enable encryption on it")
        return found

    def converge_cluster(self, role_arn: str, security_group_id: str) -> ClusterTypeDef:
        """Makes an available cluster match the spec where that is cheap and safe to do: the role
        attached, only the spec's security group, public accessibility as the spec says."""
        identifier = self.spec.identifier
        redshift = self.clients.redshift
        cluster = self._existing_cluster()
        if not self.spec.is_managed(cluster.get("Tags")):
            raise self._refuse("Redshift cluster", identifier)
        for difference in self.drift(cluster):
            self.log.warning(f"cluster {identifier}: {difference}")
        changes: dict[str, Any] = {}
        groups = [group.get("VpcSecurityGroupId") for group in cluster.get("VpcSecurityGroups", [])]
        if groups != [security_group_id]:
            changes["VpcSecurityGroupIds"] = [security_group_id]
            self.log.warning(
                f"cluster {identifier}: security groups {groups} replaced by {security_group_id}"
            )
        if bool(cluster.get("PubliclyAccessible")) != self.spec.publicly_accessible:
            changes["PubliclyAccessible"] = self.spec.publicly_accessible
            self.log.warning(
                f"cluster {identifier}: publicly accessible set to {self.spec.publicly_accessible}"
            )
        groups_applied = [
            group.get("ParameterGroupName") for group in cluster.get("ClusterParameterGroups", [])
        ]
        if groups_applied != [self.spec.parameter_group_name]:
            changes["ClusterParameterGroupName"] = self.spec.parameter_group_name
            self.log.warning(
                f"cluster {identifier}: parameter group {groups_applied} replaced by"
                f" {self.spec.parameter_group_name}; require_ssl is a static parameter, applied"
                " at the next reboot (aws redshift reboot-cluster --cluster-identifier"
                f" {identifier})"
            )
        if bool(cluster.get("EnhancedVpcRouting")) != self.spec.enhanced_vpc_routing:
            changes["EnhancedVpcRouting"] = self.spec.enhanced_vpc_routing
            self.log.warning(
                f"cluster {identifier}: enhanced VPC routing set to"
                f" {self.spec.enhanced_vpc_routing}"
            )
        if changes:
            redshift.modify_cluster(ClusterIdentifier=identifier, **changes)
            self.wait_until_available()
        roles = [role.get("IamRoleArn") for role in cluster.get("IamRoles", [])]
        if role_arn not in roles:
            redshift.modify_cluster_iam_roles(ClusterIdentifier=identifier, AddIamRoles=[role_arn])
            self.log.info(f"cluster {identifier}: attached IAM role {role_arn}")
            self.wait_until_available()
        self.ensure_audit_logging()
        return self._existing_cluster()

    def ensure_audit_logging(self) -> dict[str, Any]:
        """Audit logging (connection, user and user activity logs) to the spec's destination;
        DescribeLoggingStatus afterwards."""
        redshift = self.clients.redshift
        identifier = self.spec.identifier
        wanted = self.spec.audit_logging
        status: dict[str, Any] = dict(
            redshift.describe_logging_status(ClusterIdentifier=identifier)
        )
        same = (
            status.get("LoggingEnabled")
            and status.get("LogDestinationType") == wanted.destination
            and sorted(status.get("LogExports") or []) == sorted(wanted.log_exports)
            and (wanted.destination != "s3" or status.get("BucketName") == wanted.bucket)
        )
        if same:
            self.log.info(f"cluster {identifier}: audit logging to {wanted.destination} already on")
            return status
        redshift.enable_logging(**wanted.enable_logging_request(identifier))
        status = dict(redshift.describe_logging_status(ClusterIdentifier=identifier))
        where = (
            f"s3://{wanted.bucket}/{wanted.s3_key_prefix}"
            if wanted.destination == "s3"
            else (f"CloudWatch log group /aws/redshift/cluster/{identifier}/<log type>")
        )
        self.log.info(
            f"cluster {identifier}: audit logging ({', '.join(wanted.log_exports)}) to {where}"
        )
        return status

    def connection(self, cluster: ClusterTypeDef, role_arn: str) -> ClusterConnection:
        """How the warehouse reaches ``cluster`` (which must have an endpoint)."""
        endpoint = cluster.get("Endpoint") or {}
        host = endpoint.get("Address", "")
        if not host:
            raise RedshiftClusterError(f"cluster {self.spec.identifier} has no endpoint yet")
        return ClusterConnection(
            cluster_identifier=self.spec.identifier,
            region=self.clients.region,
            host=host,
            port=int(endpoint.get("Port", self.spec.port)),
            database_name=cluster.get("DBName", self.spec.database_name),
            master_username=cluster.get("MasterUsername", self.spec.master_username),
            etl_user=self.spec.etl_user,
            iam_role_arn=role_arn,
            master_password_secret_arn=cluster.get("MasterPasswordSecretArn", ""),
        )

    def pause(self) -> bool:
        """Pauses an available cluster and waits until paused. False when there is no cluster."""
        identifier = self.spec.identifier
        cluster = self.describe_cluster()
        if cluster is None:
            self.log.info(f"no cluster {identifier}: nothing to pause, nothing is billed")
            return False
        status = cluster.get("ClusterStatus", "unknown")
        if status == "paused":
            self.log.info(f"cluster {identifier} is already paused: nothing to do")
            return True
        if status == "pausing":
            self.log.info(f"cluster {identifier} is already pausing")
        elif status == "available":
            self._change_state("pause", self.clients.redshift.pause_cluster)
            self.log.info(f"pausing cluster {identifier}: node hours stop; storage is still billed")
        else:
            raise RedshiftClusterError(
                f"cluster {identifier} is {status}: it can be paused only when available"
            )
        self.wait_until_paused()
        return True

    def resume(self) -> None:
        """Resumes a paused cluster and waits until it is available."""
        identifier = self.spec.identifier
        cluster = self.describe_cluster()
        if cluster is None:
            raise RedshiftClusterError(
                f"no cluster {identifier} to resume: run redshift_cluster_up to create it"
            )
        status = cluster.get("ClusterStatus", "unknown")
        if status == "available":
            self.log.info(f"cluster {identifier} is already available: nothing to do")
            return
        if status == "paused":
            self._change_state("resume", self.clients.redshift.resume_cluster)
            self.log.info(f"resuming cluster {identifier}")
        elif status != "resuming":
            raise RedshiftClusterError(
                f"cluster {identifier} is {status}: only a paused cluster can be resumed"
            )
        self.wait_until_available()

    def _change_state(self, verb: str, call: Callable[..., Any]) -> None:
        try:
            call(ClusterIdentifier=self.spec.identifier)
        except ClientError as error:
            if error_code(error) == INVALID_CLUSTER_STATE:
                raise RedshiftClusterError(
                    f"cannot {verb} cluster {self.spec.identifier} now ({INVALID_CLUSTER_STATE}:"
                    f" {error.response.get('Error', {}).get('Message', '')}); try again later"
                ) from error
            raise

    def delete_cluster(self, now: datetime | None = None) -> bool:
        """Deletes the cluster (final snapshot if the spec asks) and waits until it is gone.

        False when there was no cluster.
        """
        identifier = self.spec.identifier
        cluster = self.describe_cluster()
        if cluster is None:
            self.log.info(f"no cluster {identifier} ({CLUSTER_NOT_FOUND}): nothing to delete")
            return False
        status = cluster.get("ClusterStatus", "unknown")
        if not self.spec.is_managed(cluster.get("Tags")):
            raise self._refuse("Redshift cluster", identifier)
        if status in DELETING_STATES:
            self.log.info(f"cluster {identifier} is already being deleted ({status})")
        else:
            request: dict[str, Any] = {"ClusterIdentifier": identifier}
            if self.spec.final_snapshot:
                stamp = (now or datetime.now(UTC)).strftime("%Y%m%d-%H%M%S")
                snapshot = f"{self.spec.final_snapshot_prefix}-{stamp}"
                request.update(
                    SkipFinalClusterSnapshot=False, FinalClusterSnapshotIdentifier=snapshot
                )
                self.log.info(f"deleting cluster {identifier} after a final snapshot {snapshot}")
            else:
                request["SkipFinalClusterSnapshot"] = True
                self.log.warning(
                    f"NO FINAL SNAPSHOT: deleting cluster {identifier} without one"
                    f" (teardown.final_snapshot = false in {self.spec.source_path.name}): every"
                    " table, load_quarantine's history included, is gone for good"
                )
            try:
                self.clients.redshift.delete_cluster(**request)
            except ClientError as error:
                if error_code(error) == CLUSTER_NOT_FOUND:
                    self.log.info(f"cluster {identifier} vanished meanwhile: nothing to delete")
                    return False
                raise
        self.wait_until_deleted()
        return True
