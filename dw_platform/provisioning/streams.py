"""Kinesis streams, encrypted at rest with the AWS-managed key, provisioned or on-demand."""

from typing import Any

from dw_platform.declaration.warehouse import TableSpec
from dw_platform.provisioning.managed_resource import AwsClients, Observed, Resource, wait_until
from dw_platform.provisioning.naming import StackNames

MANAGED_KEY = "alias/aws/kinesis"


class KinesisStream(Resource):
    kind = "kinesis stream"

    def __init__(self, names: StackNames, clients: AwsClients, spec: TableSpec) -> None:
        super().__init__(names, clients, names.stream(spec.name))
        spec.streaming_options()  # only a streaming table has a stream
        self.table = spec.name
        self.options = spec.streaming

    @property
    def kinesis(self) -> Any:
        return self.client("kinesis")

    def desired(self) -> dict[str, Any]:
        if self.options.on_demand:
            return {"mode": "ON_DEMAND", "encryption": MANAGED_KEY}
        return {"mode": "PROVISIONED", "shards": self.options.shard_count, "encryption": MANAGED_KEY}

    def _summary(self) -> dict[str, Any] | None:
        try:
            return self.kinesis.describe_stream_summary(StreamName=self.name)["StreamDescriptionSummary"]
        except self.kinesis.exceptions.ResourceNotFoundException:
            return None

    def read(self) -> Observed | None:
        summary = self._summary()
        if summary is None:
            return None
        tags = {t["Key"]: t["Value"] for t in self.kinesis.list_tags_for_stream(StreamName=self.name)["Tags"]}
        mode = summary.get("StreamModeDetails", {}).get("StreamMode", "PROVISIONED")
        config = {
            "mode": mode,
            "shards": summary["OpenShardCount"],
            "encryption": summary.get("KeyId") if summary.get("EncryptionType") == "KMS" else None,
        }
        return Observed(config, owner=self.names.owner(tags))

    def _wait_active(self) -> None:
        wait_until(
            lambda: (self._summary() or {}).get("StreamStatus") == "ACTIVE",
            what=f"Kinesis stream {self.name} to become ACTIVE",
        )

    def create(self) -> None:
        desired = self.desired()
        if desired["mode"] == "ON_DEMAND":
            self.kinesis.create_stream(StreamName=self.name, StreamModeDetails={"StreamMode": "ON_DEMAND"})
        else:
            self.kinesis.create_stream(StreamName=self.name, ShardCount=desired["shards"])
        self._wait_active()
        self.kinesis.add_tags_to_stream(StreamName=self.name, Tags=self.names.tags)
        self.update(["encryption"])

    def update(self, fields: list[str]) -> None:
        desired = self.desired()
        arn = self.names.stream_arn(self.table)
        if "mode" in fields:
            self.kinesis.update_stream_mode(StreamARN=arn, StreamModeDetails={"StreamMode": desired["mode"]})
            self._wait_active()
        if "shards" in fields and desired["mode"] == "PROVISIONED":
            self.kinesis.update_shard_count(
                StreamName=self.name, TargetShardCount=desired["shards"], ScalingType="UNIFORM_SCALING"
            )
            self._wait_active()
        if "encryption" in fields:
            self.kinesis.start_stream_encryption(
                StreamName=self.name, EncryptionType="KMS", KeyId=MANAGED_KEY
            )
            self._wait_active()

    def delete(self) -> None:
        self.kinesis.delete_stream(StreamName=self.name, EnforceConsumerDeletion=True)
        wait_until(lambda: self._summary() is None, what=f"Kinesis stream {self.name} to be deleted")
