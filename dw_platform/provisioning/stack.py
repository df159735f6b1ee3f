"""The stack: every resource the declaration implies, in dependency order, and the three
operations on it. `plan` only reads; `apply` creates what is missing and updates what differs, so a
second apply changes nothing; `destroy` deletes only what carries the stack's tag. A resource that
exists without this stack's tag (none, or another stack's) is reported and never changed."""

import dataclasses
from collections.abc import Callable
from typing import Any

from dw_platform.declaration.warehouse import ServerlessDataWarehouse, TableKind
from dw_platform.provisioning.buckets import Bucket
from dw_platform.provisioning.firehose_streams import DeliveryLogGroup, DeliveryStream
from dw_platform.provisioning.glue_tables import GlueDatabase, GlueTable
from dw_platform.provisioning.iam import FirehoseRole, RunWorkerPolicy
from dw_platform.provisioning.managed_resource import (
    AwsClients,
    Observed,
    ProvisioningError,
    Resource,
    differing_fields,
)
from dw_platform.provisioning.naming import StackNames
from dw_platform.provisioning.streams import KinesisStream
from dw_platform.provisioning.workgroup import Workgroup
from dw_platform.runtime.settings import Settings
from dw_platform.runtime.stacks import default_data_bucket

RESULTS_RETENTION_DAYS = 7

CREATE, UPDATE, DELETE, UNCHANGED, EXTERNAL, ABSENT = (
    "create",
    "update",
    "delete",
    "unchanged",
    "external",
    "absent",
)
SYMBOLS = {CREATE: "+", UPDATE: "~", DELETE: "-", UNCHANGED: "=", EXTERNAL: "!", ABSENT: " "}


@dataclasses.dataclass(frozen=True)
class Change:
    action: str
    kind: str
    name: str
    fields: tuple[str, ...] = ()
    reason: str = ""

    def describe(self) -> str:
        detail = f" ({', '.join(self.fields)})" if self.fields else ""
        note = f": {self.reason}" if self.reason else ""
        return f"{SYMBOLS[self.action]} {self.action:<9} {self.kind:<16} {self.name}{detail}{note}"

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def summarize(changes: list[Change]) -> str:
    count = {action: sum(c.action == action for c in changes) for action in SYMBOLS}
    return (
        f"{count[CREATE]} to create, {count[UPDATE]} to update, {count[DELETE]} to delete, "
        f"{count[UNCHANGED]} unchanged, {count[EXTERNAL]} not managed (exist without this stack's tag)"
    )


def _foreign(owner: str | None) -> str:
    return f"belongs to stack {owner}" if owner else "exists without the stack's tag"


class Stack:
    def __init__(self, names: StackNames, clients: AwsClients) -> None:
        self.names = names
        self.clients = clients
        self.resources = self._resources()

    @classmethod
    def from_settings(cls, warehouse: ServerlessDataWarehouse, settings: Settings) -> "Stack":
        clients = AwsClients(settings.aws_region)
        return cls(StackNames.from_settings(warehouse, settings, clients.account()), clients)

    def _resources(self) -> list[Resource]:
        names, clients, warehouse = self.names, self.clients, self.names.warehouse
        streaming = warehouse.tables_of(TableKind.STREAMING)
        return [
            Bucket(names, clients, names.data_bucket),
            Bucket(names, clients, names.results_bucket, expire_after_days=RESULTS_RETENTION_DAYS),
            DeliveryLogGroup(names, clients),
            GlueDatabase(names, clients, names.database),
            *(GlueTable(names, clients, spec) for spec in warehouse.tables),
            *(KinesisStream(names, clients, spec) for spec in streaming),
            *(FirehoseRole(names, clients, spec.name) for spec in streaming),
            *(DeliveryStream(names, clients, spec) for spec in streaming),
            Workgroup(names, clients),
            RunWorkerPolicy(names, clients),
        ]

    # ---- plan -----------------------------------------------------------------------------------
    def _change(self, resource: Resource, observed: Observed | None) -> Change:
        if observed is None:
            return Change(CREATE, resource.kind, resource.name)
        if observed.owner != self.names.stack:
            return Change(
                EXTERNAL, resource.kind, resource.name, reason=f"{_foreign(observed.owner)}, left as it is"
            )
        fields = tuple(differing_fields(resource.desired(), observed.config))
        schema = resource.schema_change(observed) if isinstance(resource, GlueTable) else None
        reason = f"{schema.describe()}; existing partitions follow" if schema and schema.changes else ""
        return Change(UPDATE if fields else UNCHANGED, resource.kind, resource.name, fields, reason)

    def _check_lake_bucket(self, observed: list[tuple[Resource, Observed | None]]) -> None:
        """Refuse a configuration that names another data bucket than the one this stack's tables
        live in: that is a second deployment without a stack name of its own, and applying it would
        point the first one's tables and delivery streams at the second's bucket."""
        for resource, state in observed:
            if not isinstance(resource, GlueTable) or state is None or state.owner != self.names.stack:
                continue
            bucket = state.config.get("bucket")
            if bucket and bucket != self.names.data_bucket:
                raise ProvisioningError(
                    f"stack {self.names.stack} keeps its lake in bucket {bucket} (Glue table "
                    f"{self.names.database}.{resource.name}), but this configuration names "
                    f"{self.names.data_bucket}: a second deployment of the warehouse needs a stack name "
                    "of its own (set DW_STACK); a stack's lake is not moved to another bucket in place"
                )

    def _read_all(self, resources: list[Resource]) -> list[tuple[Resource, Observed | None]]:
        observed = [(resource, resource.read()) for resource in resources]
        self._check_lake_bucket(observed)
        for resource, state in observed:  # an unsafe schema change refuses the whole plan
            if isinstance(resource, GlueTable) and state is not None and state.owner == self.names.stack:
                resource.schema_change(state)
        return observed

    def _observe(self) -> list[tuple[Resource, Observed | None]]:
        observed = self._read_all(self.resources)
        changed_tables = {
            r.name
            for r, state in observed
            if isinstance(r, GlueTable) and self._change(r, state).action == UPDATE
        }
        for resource, _ in observed:
            if isinstance(resource, DeliveryStream):
                resource.schema_changed = resource.spec.name in changed_tables
        return observed

    def plan(self) -> list[Change]:
        changes = []
        for resource, observed in self._observe():
            change = self._change(resource, observed)
            if isinstance(resource, DeliveryStream) and resource.schema_changed and change.action == UPDATE:
                change = dataclasses.replace(
                    change, reason="the Glue table changed: Firehose re-reads its schema"
                )
            changes.append(change)
        return changes

    def _check_data_bucket_is_ours(self, observed: list[tuple[Resource, Observed | None]]) -> None:
        """Another stack's data bucket would receive this stack's deliveries under the same table
        prefixes, where the other stack registers and counts them as its own."""
        for resource, state in observed:
            if not isinstance(resource, Bucket) or resource.name != self.names.data_bucket or not state:
                continue
            if state.owner and state.owner != self.names.stack:
                raise ProvisioningError(
                    f"data bucket {resource.name} belongs to stack {state.owner}: apply refused, nothing "
                    f"was changed. Give stack {self.names.stack} its own (unset DW_DATA_BUCKET for "
                    f"{default_data_bucket(self.names.stack)}, or name another)"
                )

    def apply(self, on_change: Callable[[Change], None] | None = None) -> list[Change]:
        """Create and update in dependency order; returns the changes made (unchanged ones too)."""
        changes = []
        everything = self._observe()
        self._check_data_bucket_is_ours(everything)
        for resource, observed in everything:
            change = self._change(resource, observed)
            if change.action == CREATE:
                resource.create()
            elif change.action == UPDATE:
                resource.update(list(change.fields))
            changes.append(change)
            if on_change:
                on_change(change)
        return changes

    # ---- destroy --------------------------------------------------------------------------------
    def destroy_plan(self) -> list[Change]:
        changes = []
        for resource, observed in self._read_all(list(reversed(self.resources))):
            if observed is None:
                changes.append(Change(ABSENT, resource.kind, resource.name))
            elif observed.owner != self.names.stack:
                changes.append(
                    Change(EXTERNAL, resource.kind, resource.name, reason=f"kept: {_foreign(observed.owner)}")
                )
            else:
                changes.append(Change(DELETE, resource.kind, resource.name))
        return changes

    def destroy(self, on_change: Callable[[Change], None] | None = None) -> list[Change]:
        """Delete what the stack created, in reverse order. Checks every blocker first, so a refusal
        (a non-empty bucket of a production warehouse) deletes nothing."""
        changes = self.destroy_plan()
        doomed = {(c.kind, c.name) for c in changes if c.action == DELETE}
        targets = [r for r in reversed(self.resources) if (r.kind, r.name) in doomed]
        blockers = [reason for r in targets if (reason := r.destroy_blocker())]
        if blockers:
            raise ProvisioningError("destroy refused, nothing was deleted:\n- " + "\n- ".join(blockers))
        by_key = {(c.kind, c.name): c for c in changes}
        for resource in targets:
            resource.delete()
            if on_change:
                on_change(by_key[(resource.kind, resource.name)])
        return changes

    # ---- outputs --------------------------------------------------------------------------------
    def outputs(self) -> dict[str, Any]:
        return stack_outputs(self.names)


def stack_outputs(names: StackNames) -> dict[str, Any]:
    """What users and other stacks need to find the warehouse (names only, never credentials)."""
    warehouse = names.warehouse
    return {
        "stack": names.stack,
        "region": names.region,
        "database": names.database,
        "tables": list(warehouse.table_names),
        "data_bucket": names.data_bucket,
        "lake": f"s3://{names.data_bucket}/{names.lake_root}",  # every key of the stack's lake is below
        "results_bucket": names.results_bucket,
        "workgroup": names.workgroup,
        "streams": {
            spec.name: {"kinesis_stream": names.stream(spec.name), "delivery_stream": names.stream(spec.name)}
            for spec in warehouse.tables_of(TableKind.STREAMING)
        },
        "run_worker_policy_arn": names.policy_arn(names.run_worker_policy),
        "firehose_log_group": names.log_group,
    }
