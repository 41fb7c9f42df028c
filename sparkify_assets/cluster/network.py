"""Who reaches the cluster and how it reaches S3: its VPC, its security group (one ingress rule:
the spec's CIDR on the port) and the S3 gateway endpoint that enhanced VPC routing needs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from botocore.exceptions import ClientError

from sparkify_assets.cluster.aws_context import ClusterAwsContext
from sparkify_assets.cluster.errors import (
    DEPENDENCY_VIOLATION,
    DUPLICATE_GROUP,
    DUPLICATE_PERMISSION,
    GROUP_NOT_FOUND,
    PERMISSION_NOT_FOUND,
    RedshiftClusterError,
    error_code,
)

if TYPE_CHECKING:
    from mypy_boto3_ec2.type_defs import (
        SecurityGroupRuleTypeDef,
        TagSpecificationTypeDef,
        TagTypeDef,
    )


class NetworkAccess(ClusterAwsContext):
    """The cluster's VPC, security group and S3 gateway endpoint."""

    def cluster_vpc_id(self) -> str:
        """The VPC the cluster lives in: its subnet group's, else the region's default VPC."""
        if self.spec.cluster_subnet_group_name:
            groups = self.clients.redshift.describe_cluster_subnet_groups(
                ClusterSubnetGroupName=self.spec.cluster_subnet_group_name
            )["ClusterSubnetGroups"]
            return groups[0]["VpcId"]
        vpcs = self.clients.ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])[
            "Vpcs"
        ]
        if not vpcs:
            raise RedshiftClusterError(
                f"region {self.clients.region} has no default VPC: create a Redshift cluster"
                " subnet group in a VPC and name it in cluster.cluster_subnet_group_name"
            )
        return vpcs[0]["VpcId"]

    def security_group(self, vpc_id: str) -> dict[str, Any] | None:
        """The spec's security group in ``vpc_id`` (with its tags), or None."""
        groups = self.clients.ec2.describe_security_groups(
            Filters=[
                {"Name": "group-name", "Values": [self.spec.security_group_name]},
                {"Name": "vpc-id", "Values": [vpc_id]},
            ]
        )["SecurityGroups"]
        return dict(groups[0]) if groups else None

    def security_group_id(self, vpc_id: str) -> str | None:
        """The id of the spec's security group in ``vpc_id``, or None."""
        group = self.security_group(vpc_id)
        return str(group["GroupId"]) if group else None

    def ingress_rules(self, group_id: str) -> list[SecurityGroupRuleTypeDef]:
        """Every ingress rule of the security group ``group_id``."""
        paginator = self.clients.ec2.get_paginator("describe_security_group_rules")
        return [
            rule
            for page in paginator.paginate(Filters=[{"Name": "group-id", "Values": [group_id]}])
            for rule in page["SecurityGroupRules"]
            if not rule.get("IsEgress", False)
        ]

    def _tag_specifications(
        self, resource_type: Literal["security-group", "security-group-rule"]
    ) -> list[TagSpecificationTypeDef]:
        tags: list[TagTypeDef] = [
            {"Key": key, "Value": value} for key, value in self.spec.tags.items()
        ]
        return [{"ResourceType": resource_type, "Tags": tags}]

    def _is_spec_rule(self, rule: SecurityGroupRuleTypeDef) -> bool:
        return (
            rule.get("IpProtocol") == "tcp"
            and rule.get("FromPort") == self.spec.port
            and rule.get("ToPort") == self.spec.port
            and rule.get("CidrIpv4") == self.spec.allowed_cidr
        )

    def ensure_network_access(self) -> str:
        """The security group with exactly one ingress rule: the port from the spec's CIDR."""
        ec2 = self.clients.ec2
        name = self.spec.security_group_name
        vpc_id = self.cluster_vpc_id()
        group = self.security_group(vpc_id)
        if group is not None and not self.spec.is_managed(group.get("Tags")):
            raise self._refuse("security group", f"{name} ({group['GroupId']})")
        group_id = str(group["GroupId"]) if group else None
        if group_id is None:
            try:
                group_id = ec2.create_security_group(
                    GroupName=name,
                    Description=f"Clients of Redshift cluster {self.spec.identifier}",
                    VpcId=vpc_id,
                    TagSpecifications=self._tag_specifications("security-group"),
                )["GroupId"]
                self.log.info(f"created security group {name} ({group_id}) in {vpc_id}")
            except ClientError as error:
                if error_code(error) != DUPLICATE_GROUP:
                    raise
                group_id = self.security_group_id(vpc_id) or ""
                self.log.info(f"security group {name} was created meanwhile ({DUPLICATE_GROUP})")
        else:
            self.log.info(f"security group {name} exists ({group_id} in {vpc_id})")

        stale = [rule for rule in self.ingress_rules(group_id) if not self._is_spec_rule(rule)]
        if stale:
            ec2.revoke_security_group_ingress(
                GroupId=group_id,
                SecurityGroupRuleIds=[rule["SecurityGroupRuleId"] for rule in stale],
            )
            for rule in stale:
                self.log.warning(f"revoked ingress rule not in the spec: {_describe_rule(rule)}")

        try:
            ec2.authorize_security_group_ingress(
                GroupId=group_id,
                IpPermissions=[
                    {
                        "IpProtocol": "tcp",
                        "FromPort": self.spec.port,
                        "ToPort": self.spec.port,
                        "IpRanges": [
                            {
                                "CidrIp": self.spec.allowed_cidr,
                                "Description": f"Redshift clients of {self.spec.identifier}",
                            }
                        ],
                    }
                ],
                TagSpecifications=self._tag_specifications("security-group-rule"),
            )
            self.log.info(
                f"security group {group_id}: TCP {self.spec.port} allowed from"
                f" {self.spec.allowed_cidr} only"
            )
        except ClientError as error:
            if error_code(error) != DUPLICATE_PERMISSION:
                raise
            self.log.info(
                f"security group {group_id}: TCP {self.spec.port} from {self.spec.allowed_cidr}"
                f" is already allowed ({DUPLICATE_PERMISSION}): nothing to do"
            )
        return group_id

    def remove_network_access(self) -> bool:
        """Revokes the security group's ingress rules and deletes it. False when there was none."""
        ec2 = self.clients.ec2
        name = self.spec.security_group_name
        try:
            vpc_id = self.cluster_vpc_id()
        except RedshiftClusterError:
            vpc_id = ""
        group = self.security_group(vpc_id) if vpc_id else None
        if group is None:
            self.log.info(f"no security group {name}: no ingress rule to revoke, nothing to do")
            return False
        group_id = str(group["GroupId"])
        if not self.spec.is_managed(group.get("Tags")):
            raise self._refuse("security group", f"{name} ({group_id})")
        rules = self.ingress_rules(group_id)
        if rules:
            try:
                ec2.revoke_security_group_ingress(
                    GroupId=group_id,
                    SecurityGroupRuleIds=[rule["SecurityGroupRuleId"] for rule in rules],
                )
                for rule in rules:
                    self.log.info(f"revoked ingress rule {_describe_rule(rule)} of {group_id}")
            except ClientError as error:
                if error_code(error) != PERMISSION_NOT_FOUND:
                    raise
                self.log.info(f"ingress rules of {group_id} already gone: nothing to revoke")
        else:
            self.log.info(f"security group {group_id} has no ingress rule: nothing to revoke")
        self._delete_security_group(group_id)
        return True

    def _delete_security_group(self, group_id: str) -> None:
        # The cluster's network interfaces can outlive it by a few minutes: DependencyViolation.
        for attempt in range(1, self.wait.max_attempts + 1):
            try:
                self.clients.ec2.delete_security_group(GroupId=group_id)
            except ClientError as error:
                code = error_code(error)
                if code == GROUP_NOT_FOUND:
                    self.log.info(f"security group {group_id} already deleted: nothing to do")
                    return
                if code != DEPENDENCY_VIOLATION or attempt == self.wait.max_attempts:
                    raise
                self.log.info(
                    f"security group {group_id} is still in use ({code}), probably by the"
                    f" deleted cluster's network interfaces: check {attempt}, trying again"
                )
                self.wait.sleep(self.wait.delay_seconds)
                continue
            self.log.info(f"deleted security group {self.spec.security_group_name} ({group_id})")
            return

    # ---- the S3 gateway endpoint (enhanced VPC routing) ----------------------------------------

    @property
    def s3_service_name(self) -> str:
        return f"com.amazonaws.{self.clients.region}.s3"

    def cluster_route_table_ids(self, vpc_id: str) -> list[str]:
        """The route tables of the cluster's subnets: those associated with the subnet group's
        subnets, plus the VPC's main table when a subnet has none of its own (always so for the
        default VPC's default subnets)."""
        ec2 = self.clients.ec2
        subnet_ids: list[str] = []
        if self.spec.cluster_subnet_group_name:
            groups = self.clients.redshift.describe_cluster_subnet_groups(
                ClusterSubnetGroupName=self.spec.cluster_subnet_group_name
            )["ClusterSubnetGroups"]
            subnet_ids = [
                subnet["SubnetIdentifier"]
                for subnet in groups[0].get("Subnets", [])
                if "SubnetIdentifier" in subnet
            ]
        tables = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])[
            "RouteTables"
        ]
        chosen: list[str] = []
        explicitly_routed: set[str] = set()
        main = ""
        for table in tables:
            for association in table.get("Associations", []):
                if association.get("Main"):
                    main = table["RouteTableId"]
                elif association.get("SubnetId") in subnet_ids:
                    explicitly_routed.add(association["SubnetId"])
                    if table["RouteTableId"] not in chosen:
                        chosen.append(table["RouteTableId"])
        if (not subnet_ids or set(subnet_ids) - explicitly_routed) and main and main not in chosen:
            chosen.append(main)
        return chosen

    def s3_gateway_endpoints(self, vpc_id: str) -> list[dict[str, Any]]:
        """The VPC's gateway endpoints to S3 (ours and anybody else's)."""
        endpoints = self.clients.ec2.describe_vpc_endpoints(
            Filters=[
                {"Name": "vpc-id", "Values": [vpc_id]},
                {"Name": "service-name", "Values": [self.s3_service_name]},
                {"Name": "vpc-endpoint-type", "Values": ["Gateway"]},
            ]
        )["VpcEndpoints"]
        return [
            dict(endpoint)
            for endpoint in endpoints
            if endpoint.get("State", "available").lower() not in {"deleted", "deleting"}
        ]

    def ensure_s3_gateway_endpoint(self) -> str:
        """With enhanced VPC routing, COPY and UNLOAD reach S3 through the VPC: without a gateway
        endpoint (or a NAT) on the cluster's route tables every COPY fails. Route tables already
        served by somebody's S3 endpoint are left as they are; the rest get ours (created, or
        extended when it exists). Its id, or "" when none is needed."""
        if not self.spec.enhanced_vpc_routing:
            self.log.info("enhanced_vpc_routing = false: no S3 gateway endpoint needed")
            return ""
        ec2 = self.clients.ec2
        vpc_id = self.cluster_vpc_id()
        needed = self.cluster_route_table_ids(vpc_id)
        endpoints = self.s3_gateway_endpoints(vpc_id)
        ours = [endpoint for endpoint in endpoints if self.spec.is_managed(endpoint.get("Tags"))]
        served = {table for endpoint in endpoints for table in endpoint.get("RouteTableIds", [])}
        missing = [table for table in needed if table not in served]
        if not missing:
            ids = sorted(
                {
                    e["VpcEndpointId"]
                    for e in endpoints
                    if set(e.get("RouteTableIds", [])) & set(needed)
                }
            )
            self.log.info(
                f"route tables {needed} of {vpc_id} already reach S3 through gateway endpoint(s)"
                f" {ids}: nothing to do"
            )
            return ours[0]["VpcEndpointId"] if ours else (ids[0] if ids else "")
        if ours:
            endpoint_id = str(ours[0]["VpcEndpointId"])
            ec2.modify_vpc_endpoint(VpcEndpointId=endpoint_id, AddRouteTableIds=missing)
            self.log.info(f"S3 gateway endpoint {endpoint_id}: route tables {missing} added")
            return endpoint_id
        endpoint_id = str(
            ec2.create_vpc_endpoint(
                VpcEndpointType="Gateway",
                VpcId=vpc_id,
                ServiceName=self.s3_service_name,
                RouteTableIds=missing,
                TagSpecifications=[
                    {
                        "ResourceType": "vpc-endpoint",
                        "Tags": [{"Key": k, "Value": v} for k, v in self.spec.tags.items()],
                    }
                ],
            )["VpcEndpoint"]["VpcEndpointId"]
        )
        self.log.info(
            f"created S3 gateway endpoint {endpoint_id} in {vpc_id} for route tables {missing}:"
            " COPY/UNLOAD reach S3 inside the VPC (enhanced VPC routing)"
        )
        return endpoint_id

    def remove_s3_gateway_endpoint(self) -> bool:
        """Deletes the S3 gateway endpoints this project created (tagged) in the cluster's VPC;
        anybody else's stay. False when there was none of ours."""
        try:
            vpc_id = self.cluster_vpc_id()
        except RedshiftClusterError:
            return False
        ours = [
            str(endpoint["VpcEndpointId"])
            for endpoint in self.s3_gateway_endpoints(vpc_id)
            if self.spec.is_managed(endpoint.get("Tags"))
        ]
        if not ours:
            self.log.info(f"no S3 gateway endpoint of this project in {vpc_id}: nothing to delete")
            return False
        self.clients.ec2.delete_vpc_endpoints(VpcEndpointIds=ours)
        self.log.info(f"deleted S3 gateway endpoint(s) {ours}")
        return True


def _describe_rule(rule: SecurityGroupRuleTypeDef) -> str:
    source = (
        rule.get("CidrIpv4")
        or rule.get("CidrIpv6")
        or rule.get("PrefixListId")
        or (rule.get("ReferencedGroupInfo") or {}).get("GroupId", "?")
    )
    protocol = rule.get("IpProtocol", "?")
    ports = f"{rule.get('FromPort')}-{rule.get('ToPort')}"
    return f"{rule.get('SecurityGroupRuleId', '?')} ({protocol} {ports} from {source})"
