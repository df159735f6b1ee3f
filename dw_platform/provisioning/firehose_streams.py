"""Firehose delivery streams (Kinesis source, Parquet conversion against the Glue table) and the
CloudWatch log group they report delivery errors to."""

import contextlib
import time
from typing import Any

from dw_platform.declaration.warehouse import TableKind, TableSpec
from dw_platform.lake.layout import firehose_prefixes
from dw_platform.provisioning.managed_resource import (
    AwsClients,
    Observed,
    ProvisioningError,
    Resource,
    wait_until,
)
from dw_platform.provisioning.naming import StackNames

LOG_RETENTION_DAYS = 30
# A just-created IAM role takes a few seconds to become assumable by Firehose.
ROLE_PROPAGATION_S = 90


class DeliveryLogGroup(Resource):
    """One log group per warehouse, one log stream per delivery stream."""

    kind = "log group"

    def __init__(self, names: StackNames, clients: AwsClients) -> None:
        super().__init__(names, clients, names.log_group)
        self.streams = sorted(
            names.log_stream(t.name) for t in names.warehouse.tables_of(TableKind.STREAMING)
        )

    @property
    def logs(self) -> Any:
        return self.client("logs")

    def desired(self) -> dict[str, Any]:
        return {"retention_days": LOG_RETENTION_DAYS, "streams": self.streams}

    def read(self) -> Observed | None:
        groups = self.logs.describe_log_groups(logGroupNamePrefix=self.name)["logGroups"]
        group = next((g for g in groups if g["logGroupName"] == self.name), None)
        if group is None:
            return None
        pages = self.logs.get_paginator("describe_log_streams").paginate(logGroupName=self.name)
        existing = {s["logStreamName"] for page in pages for s in page["logStreams"]}
        tags = self.logs.list_tags_for_resource(resourceArn=group["logGroupArn"]).get("tags", {})
        # Streams the stack did not declare are left alone; the declared ones must exist.
        config = {
            "retention_days": group.get("retentionInDays"),
            "streams": [s for s in self.streams if s in existing],
        }
        return Observed(config, owner=self.names.owner(tags))

    def create(self) -> None:
        self.logs.create_log_group(logGroupName=self.name, tags=self.names.tags)
        self.update(["retention_days", "streams"])

    def update(self, fields: list[str]) -> None:
        if "retention_days" in fields:
            self.logs.put_retention_policy(logGroupName=self.name, retentionInDays=LOG_RETENTION_DAYS)
        if "streams" in fields:
            for stream in self.streams:
                with contextlib.suppress(self.logs.exceptions.ResourceAlreadyExistsException):
                    self.logs.create_log_stream(logGroupName=self.name, logStreamName=stream)

    def delete(self) -> None:
        self.logs.delete_log_group(logGroupName=self.name)


class DeliveryStream(Resource):
    kind = "firehose stream"

    def __init__(self, names: StackNames, clients: AwsClients, spec: TableSpec) -> None:
        super().__init__(names, clients, names.stream(spec.name))
        spec.streaming_options()  # only a streaming table has a delivery stream
        self.spec = spec
        # Set by the planner when the Glue table changes: Firehose caches the schema it converts
        # against and re-reads it only when the delivery stream is updated.
        self.schema_changed = False

    @property
    def firehose(self) -> Any:
        return self.client("firehose")

    @property
    def role_arn(self) -> str:
        return self.names.role_arn(self.names.firehose_role(self.spec.name))

    def _source(self) -> dict[str, str]:
        return {"KinesisStreamARN": self.names.stream_arn(self.spec.name), "RoleARN": self.role_arn}

    def _destination(self) -> dict[str, Any]:
        table, options = self.spec.name, self.spec.streaming_options()
        return {
            "RoleARN": self.role_arn,
            "BucketARN": self.names.bucket_arn(self.names.data_bucket),
            **firehose_prefixes(self.names.database, table),
            # With format conversion the size is 64-128 MiB (checked by the declaration).
            "BufferingHints": {
                "SizeInMBs": options.buffer_size_mib,
                "IntervalInSeconds": options.flush_interval_s,
            },
            # The Parquet SerDe compresses; S3-level compression must stay off.
            "CompressionFormat": "UNCOMPRESSED",
            "CloudWatchLoggingOptions": {
                "Enabled": True,
                "LogGroupName": self.names.log_group,
                "LogStreamName": self.names.log_stream(table),
            },
            "DataFormatConversionConfiguration": {
                "Enabled": True,
                "InputFormatConfiguration": {"Deserializer": {"OpenXJsonSerDe": {}}},
                "OutputFormatConfiguration": {"Serializer": {"ParquetSerDe": {"Compression": "SNAPPY"}}},
                "SchemaConfiguration": {
                    "CatalogId": self.names.account,
                    "DatabaseName": self.names.database,
                    "TableName": table,
                    "Region": self.names.region,
                    "RoleARN": self.role_arn,
                    "VersionId": "LATEST",
                },
            },
        }

    def desired(self) -> dict[str, Any]:
        desired = {"source": self._source(), "destination": self._destination()}
        if self.schema_changed:
            desired["schema"] = "re-read"  # never matches what exists: forces the update
        return desired

    def _description(self) -> dict[str, Any] | None:
        try:
            return self.firehose.describe_delivery_stream(DeliveryStreamName=self.name)[
                "DeliveryStreamDescription"
            ]
        except self.firehose.exceptions.ResourceNotFoundException:
            return None

    def read(self) -> Observed | None:
        description = self._description()
        if description is None:
            return None
        tags = self.firehose.list_tags_for_delivery_stream(DeliveryStreamName=self.name)["Tags"]
        destinations = description.get("Destinations", [])
        config = {
            "source": description.get("Source", {}).get("KinesisStreamSourceDescription", {}),
            "destination": destinations[0].get("ExtendedS3DestinationDescription", {})
            if destinations
            else {},
        }
        return Observed(config, owner=self.names.owner(tags))

    def _wait_active(self) -> None:
        wait_until(
            lambda: (self._description() or {}).get("DeliveryStreamStatus") == "ACTIVE",
            what=f"delivery stream {self.name} to become ACTIVE",
        )

    def create(self) -> None:
        deadline = time.monotonic() + ROLE_PROPAGATION_S
        while True:
            try:
                self.firehose.create_delivery_stream(
                    DeliveryStreamName=self.name,
                    DeliveryStreamType="KinesisStreamAsSource",
                    KinesisStreamSourceConfiguration=self._source(),
                    ExtendedS3DestinationConfiguration=self._destination(),
                    Tags=self.names.tag_list,
                )
                break
            except self.firehose.exceptions.InvalidArgumentException as error:
                if "role" not in str(error).lower() or time.monotonic() > deadline:
                    raise
                time.sleep(5)
        self._wait_active()

    def update(self, fields: list[str]) -> None:
        if "source" in fields:
            raise ProvisioningError(
                f"delivery stream {self.name} reads another stream or role than declared; a source "
                "cannot be changed in place: destroy the delivery stream and apply again"
            )
        description = self._description()
        if description is None:
            raise ProvisioningError(f"delivery stream {self.name} disappeared during the update; apply again")
        self.firehose.update_destination(
            DeliveryStreamName=self.name,
            CurrentDeliveryStreamVersionId=description["VersionId"],
            DestinationId=description["Destinations"][0]["DestinationId"],
            ExtendedS3DestinationUpdate=self._destination(),
        )
        self.schema_changed = False
        self._wait_active()

    def delete(self) -> None:
        self.firehose.delete_delivery_stream(DeliveryStreamName=self.name)
        wait_until(lambda: self._description() is None, what=f"delivery stream {self.name} to be deleted")
