"""IAM: one delivery role per streaming table, and the managed policy for Dagster's run workers."""

import json
from typing import Any

from dw_platform.provisioning.managed_resource import AwsClients, Observed, Resource
from dw_platform.provisioning.naming import StackNames
from dw_platform.provisioning.policies import (
    firehose_delivery_policy,
    firehose_trust_policy,
    run_worker_policy,
)

INLINE_POLICY = "delivery"
MAX_POLICY_VERSIONS = 5


class FirehoseRole(Resource):
    kind = "iam role"

    def __init__(self, names: StackNames, clients: AwsClients, table: str) -> None:
        super().__init__(names, clients, names.firehose_role(table))
        self.table = table

    @property
    def iam(self) -> Any:
        return self.client("iam")

    def desired(self) -> dict[str, Any]:
        return {
            "trust": firehose_trust_policy(self.names),
            "policy": firehose_delivery_policy(self.names, self.table),
        }

    def read(self) -> Observed | None:
        try:
            role = self.iam.get_role(RoleName=self.name)["Role"]
        except self.iam.exceptions.NoSuchEntityException:
            return None
        try:
            policy = self.iam.get_role_policy(RoleName=self.name, PolicyName=INLINE_POLICY)["PolicyDocument"]
        except self.iam.exceptions.NoSuchEntityException:
            policy = None
        config = {"trust": role["AssumeRolePolicyDocument"], "policy": policy}
        return Observed(config, owner=self.names.owner(role.get("Tags", [])))

    def create(self) -> None:
        self.iam.create_role(
            RoleName=self.name,
            AssumeRolePolicyDocument=_json(self.desired()["trust"]),
            Description=f"Firehose delivery of {self.table} in stack {self.names.stack}",
            Tags=self.names.tag_list,
        )
        self.update(["policy"])

    def update(self, fields: list[str]) -> None:
        desired = self.desired()
        if "trust" in fields:
            self.iam.update_assume_role_policy(RoleName=self.name, PolicyDocument=_json(desired["trust"]))
        if "policy" in fields:
            self.iam.put_role_policy(
                RoleName=self.name, PolicyName=INLINE_POLICY, PolicyDocument=_json(desired["policy"])
            )

    def delete(self) -> None:
        for policy in self.iam.list_role_policies(RoleName=self.name)["PolicyNames"]:
            self.iam.delete_role_policy(RoleName=self.name, PolicyName=policy)
        self.iam.delete_role(RoleName=self.name)


class RunWorkerPolicy(Resource):
    """A customer-managed policy to attach to the run workers' role (ECS task role or Dagster+
    agent); the same document is generated into infra/ for review."""

    kind = "iam policy"

    def __init__(self, names: StackNames, clients: AwsClients) -> None:
        super().__init__(names, clients, names.run_worker_policy)
        self.arn = names.policy_arn(self.name)

    @property
    def iam(self) -> Any:
        return self.client("iam")

    def desired(self) -> dict[str, Any]:
        return {"document": run_worker_policy(self.names)}

    def read(self) -> Observed | None:
        try:
            policy = self.iam.get_policy(PolicyArn=self.arn)["Policy"]
        except self.iam.exceptions.NoSuchEntityException:
            return None
        version = self.iam.get_policy_version(PolicyArn=self.arn, VersionId=policy["DefaultVersionId"])
        tags = self.iam.list_policy_tags(PolicyArn=self.arn)["Tags"]
        return Observed({"document": version["PolicyVersion"]["Document"]}, owner=self.names.owner(tags))

    def create(self) -> None:
        self.iam.create_policy(
            PolicyName=self.name,
            PolicyDocument=_json(self.desired()["document"]),
            Description=f"What Dagster run workers of stack {self.names.stack} need",
            Tags=self.names.tag_list,
        )

    def _old_versions(self) -> list[str]:
        versions = self.iam.list_policy_versions(PolicyArn=self.arn)["Versions"]
        old = [v for v in versions if not v["IsDefaultVersion"]]
        return [v["VersionId"] for v in sorted(old, key=lambda v: v["CreateDate"])]

    def update(self, fields: list[str]) -> None:
        old = self._old_versions()
        if len(old) >= MAX_POLICY_VERSIONS - 1:  # IAM keeps at most 5 versions
            self.iam.delete_policy_version(PolicyArn=self.arn, VersionId=old[0])
        self.iam.create_policy_version(
            PolicyArn=self.arn, PolicyDocument=_json(self.desired()["document"]), SetAsDefault=True
        )

    def destroy_blocker(self) -> str | None:
        attached = self.iam.list_entities_for_policy(PolicyArn=self.arn)
        holders = [r["RoleName"] for r in attached.get("PolicyRoles", [])]
        holders += [u["UserName"] for u in attached.get("PolicyUsers", [])]
        holders += [g["GroupName"] for g in attached.get("PolicyGroups", [])]
        if holders:
            return f"policy {self.name} is still attached to {sorted(holders)}: detach it first"
        return None

    def delete(self) -> None:
        for version in self._old_versions():
            self.iam.delete_policy_version(PolicyArn=self.arn, VersionId=version)
        self.iam.delete_policy(PolicyArn=self.arn)


def _json(document: dict[str, Any]) -> str:
    return json.dumps(document)
