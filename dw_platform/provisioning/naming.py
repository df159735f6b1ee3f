"""Names and ARNs of everything the stack provisions, derived from the stack's identity, the
declaration and settings.

One place decides them, so the runtime, the provisioning layer, the IAM policies and the outputs
can never disagree about which bucket or stream is meant. Every name derives from the stack name
(`DW_STACK`, see dw_platform.runtime.stacks), never from the warehouse alone: two stacks of one
warehouse share nothing.
"""

import dataclasses
from collections.abc import Mapping, Sequence

from dw_platform.declaration.warehouse import ServerlessDataWarehouse
from dw_platform.delivery.streams import stream_name
from dw_platform.lake.layout import lake_root
from dw_platform.runtime.settings import Settings
from dw_platform.runtime.stacks import STACK_TAG, default_data_bucket, default_results_bucket, stack_name


def _partition(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


@dataclasses.dataclass(frozen=True)
class StackNames:
    warehouse: ServerlessDataWarehouse
    stack: str
    region: str
    account: str
    data_bucket: str
    results_bucket: str
    workgroup: str

    @classmethod
    def from_settings(
        cls, warehouse: ServerlessDataWarehouse, settings: Settings, account: str
    ) -> "StackNames":
        warehouse = warehouse.deployed(is_dev=settings.is_dev)
        stack = stack_name(warehouse, settings.stack)
        return cls(
            warehouse=warehouse,
            stack=stack,
            region=settings.aws_region,
            account=account,
            data_bucket=settings.data_bucket or default_data_bucket(stack),
            results_bucket=settings.results_bucket or default_results_bucket(stack),
            workgroup=settings.athena_workgroup or stack,
        )

    @property
    def database(self) -> str:
        return self.stack

    @property
    def lake_root(self) -> str:
        """The stack's root in the data bucket: its lake, Firehose's prefixes and Glue's locations."""
        return lake_root(self.database)

    @property
    def tags(self) -> dict[str, str]:
        """Set on every resource the stack creates: apply changes and destroy deletes only what
        carries it with this stack's name."""
        return {STACK_TAG: self.stack}

    @property
    def tag_list(self) -> list[dict[str, str]]:
        """The tags in the `[{"Key": ..., "Value": ...}]` shape most AWS APIs take."""
        return [{"Key": key, "Value": value} for key, value in self.tags.items()]

    @staticmethod
    def owner(tags: Mapping[str, str] | Sequence[Mapping[str, str]]) -> str | None:
        """The stack a resource's tags (a mapping, or AWS's list of Key/Value pairs) name, if any."""
        found = tags if isinstance(tags, Mapping) else {t["Key"]: t["Value"] for t in tags}
        return found.get(STACK_TAG)

    @property
    def log_group(self) -> str:
        return f"/aws/kinesisfirehose/{self.stack}"

    @property
    def run_worker_policy(self) -> str:
        return f"{self.stack}-run-worker"

    def stream(self, table: str) -> str:
        """The Kinesis stream and the Firehose delivery stream of a streaming table share a name."""
        return stream_name(self.stack, table)

    def firehose_role(self, table: str) -> str:
        return f"{self.stack}-{table}-firehose"

    def log_stream(self, table: str) -> str:
        return f"{table}-S3Delivery"

    # ---- ARNs ---------------------------------------------------------------------------------
    def _arn(self, service: str, resource: str, *, regional: bool = True, account: bool = True) -> str:
        region = self.region if regional else ""
        owner = self.account if account else ""
        return f"arn:{_partition(self.region)}:{service}:{region}:{owner}:{resource}"

    def bucket_arn(self, bucket: str) -> str:
        return self._arn("s3", bucket, regional=False, account=False)

    def stream_arn(self, table: str) -> str:
        return self._arn("kinesis", f"stream/{self.stream(table)}")

    def delivery_stream_arn(self, table: str) -> str:
        return self._arn("firehose", f"deliverystream/{self.stream(table)}")

    def role_arn(self, role: str) -> str:
        return self._arn("iam", f"role/{role}", regional=False)

    def policy_arn(self, policy: str) -> str:
        return self._arn("iam", f"policy/{policy}", regional=False)

    @property
    def catalog_arn(self) -> str:
        return self._arn("glue", "catalog")

    @property
    def database_arn(self) -> str:
        return self._arn("glue", f"database/{self.database}")

    def table_arn(self, table: str) -> str:
        return self._arn("glue", f"table/{self.database}/{table}")

    def log_stream_arn(self, table: str) -> str:
        return self._arn("logs", f"log-group:{self.log_group}:log-stream:{self.log_stream(table)}")

    @property
    def workgroup_arn(self) -> str:
        return self._arn("athena", f"workgroup/{self.workgroup}")
