"""The IAM roles the jobs own: created or reused (never widened), their policies set, deleted."""

from __future__ import annotations

from botocore.exceptions import ClientError

from sparkify_assets.cluster.aws_context import ClusterAwsContext
from sparkify_assets.cluster.errors import (
    DELETE_CONFLICT,
    ENTITY_ALREADY_EXISTS,
    NO_SUCH_ENTITY,
    RedshiftClusterError,
    error_code,
)
from sparkify_assets.cluster.policy_documents import RoleDefinition


class IamRoles(ClusterAwsContext):
    """The cluster role (COPY/UNLOAD) and any other role of a :class:`RoleDefinition`."""

    def iam_role_arn(self, name: str | None = None) -> str | None:
        """The role's ARN (the cluster role unless ``name``), or None when it does not exist."""
        try:
            return self.clients.iam.get_role(RoleName=name or self.spec.iam_role_name)["Role"][
                "Arn"
            ]
        except ClientError as error:
            if error_code(error) == NO_SUCH_ENTITY:
                return None
            raise

    def role_tags(self, name: str) -> list[dict[str, str]] | None:
        """The role's tags, or None when there is no such role."""
        try:
            return [
                {"Key": tag["Key"], "Value": tag["Value"]}
                for page in self.clients.iam.get_paginator("list_role_tags").paginate(RoleName=name)
                for tag in page["Tags"]
            ]
        except ClientError as error:
            if error_code(error) == NO_SUCH_ENTITY:
                return None
            raise

    def ensure_iam_role(self) -> str:
        """The cluster role (created or reused), its trust and permission policies; its ARN."""
        role = self.spec.cluster_role(self.account)
        arn = self.ensure_role(role)
        readable = "; ".join(
            f"s3://{access.bucket}/{{{','.join(access.prefixes)}}}"
            for access in self.spec.s3_read_access
        )
        backup = self.spec.s3_backup
        writable = (
            f"; inline policy {backup.policy_name} allows writing and reading back"
            f" s3://{backup.bucket}/{backup.access.prefixes[0]}/ (backups; no delete)"
            if backup
            else ""
        )
        self.log.info(
            f"IAM role {role.name}: inline policy {self.spec.iam_policy_name} allows reading"
            f" {readable}{writable} and nothing else; Redshift may assume it for database user"
            f" {self.spec.etl_user} only (sts:ExternalId {self.spec.etl_dbuser_arn(self.account)})"
        )
        return arn

    def ensure_role(self, role: RoleDefinition) -> str:
        """Creates ``role`` (or reuses it when it carries the managed-by tag and nothing beyond
        its listed policies), sets its trust policy and inline policies; its ARN.

        A role of that name without the tag is refused before its trust policy is touched."""
        iam = self.clients.iam
        tags = self.role_tags(role.name)
        if tags is None:
            try:
                arn = iam.create_role(
                    RoleName=role.name,
                    AssumeRolePolicyDocument=role.trust_policy,
                    Description=role.description,
                    Tags=self.spec.tag_list(),
                )["Role"]["Arn"]
                self.log.info(f"created IAM role {role.name} ({arn})")
            except ClientError as error:
                if error_code(error) != ENTITY_ALREADY_EXISTS:
                    raise
                self.log.info(
                    f"IAM role {role.name} was created meanwhile ({ENTITY_ALREADY_EXISTS})"
                )
                tags = self.role_tags(role.name)
                if not self.spec.is_managed(tags):
                    raise self._refuse("IAM role", role.name) from error
                self._refuse_extra_permissions(role)
                iam.update_assume_role_policy(RoleName=role.name, PolicyDocument=role.trust_policy)
                arn = self.iam_role_arn(role.name) or ""
            iam.get_waiter("role_exists").wait(
                RoleName=role.name, WaiterConfig={"Delay": 1, "MaxAttempts": 30}
            )
        else:
            if not self.spec.is_managed(tags):
                raise self._refuse("IAM role", role.name)
            arn = self.iam_role_arn(role.name) or ""
            self._refuse_extra_permissions(role)  # before its trust policy is touched
            self.log.info(
                f"IAM role {role.name} exists ({arn}): setting its policies to the spec's"
            )
            iam.update_assume_role_policy(RoleName=role.name, PolicyDocument=role.trust_policy)
        for policy in role.policies:
            iam.put_role_policy(
                RoleName=role.name, PolicyName=policy.name, PolicyDocument=policy.document
            )
        return arn

    def role_policies(self, name: str | None = None) -> tuple[list[str], list[str]]:
        """The role's inline policy names and attached managed policy ARNs."""
        iam = self.clients.iam
        name = name or self.spec.iam_role_name
        inline = [
            policy
            for page in iam.get_paginator("list_role_policies").paginate(RoleName=name)
            for policy in page["PolicyNames"]
        ]
        attached = [
            policy["PolicyArn"]
            for page in iam.get_paginator("list_attached_role_policies").paginate(RoleName=name)
            for policy in page["AttachedPolicies"]
            if "PolicyArn" in policy
        ]
        return inline, attached

    def _refuse_extra_permissions(self, role: RoleDefinition) -> None:
        inline, attached = self.role_policies(role.name)
        extra_inline = [policy for policy in inline if policy not in role.policy_names]
        if extra_inline or attached:
            raise RedshiftClusterError(
                f"IAM role {role.name} grants more than the spec's policies"
                f" ({', '.join(sorted(role.policy_names))}) (other inline policies:"
                f" {extra_inline or 'none'}; managed policies: {attached or 'none'})."
                " redshift_cluster_up never widens what a role can reach: detach those policies,"
                " or name another role in the spec."
            )

    def delete_iam_role(self) -> bool:
        """Deletes the cluster role. False when there was none."""
        return self.delete_role(self.spec.iam_role_name)

    def delete_role(self, name: str) -> bool:
        """Deletes the role's inline policies, detaches its managed ones, deletes the role.

        False when there was no role. A role without the managed-by tag is refused. A
        ``DeleteConflict`` (a policy added meanwhile) makes it look at the policies again, up to
        three times.
        """
        iam = self.clients.iam
        tags = self.role_tags(name)
        if tags is None:
            self.log.info(f"no IAM role {name} ({NO_SUCH_ENTITY}): nothing to delete")
            return False
        if not self.spec.is_managed(tags):
            raise self._refuse("IAM role", name)
        for attempt in range(1, 4):
            try:
                inline, attached = self.role_policies(name)
                for policy_name in inline:
                    iam.delete_role_policy(RoleName=name, PolicyName=policy_name)
                    self.log.info(f"deleted inline policy {policy_name} of IAM role {name}")
                for policy_arn in attached:
                    iam.detach_role_policy(RoleName=name, PolicyArn=policy_arn)
                    self.log.info(f"detached managed policy {policy_arn} from IAM role {name}")
                iam.delete_role(RoleName=name)
            except ClientError as error:
                code = error_code(error)
                if code == NO_SUCH_ENTITY:
                    self.log.info(f"no IAM role {name} ({code}): nothing to delete")
                    return False
                if code == DELETE_CONFLICT and attempt < 3:
                    self.log.warning(f"IAM role {name} still has policies ({code}): again")
                    continue
                raise
            self.log.info(f"deleted IAM role {name}")
            return True
        raise AssertionError("unreachable")  # pragma: no cover
