"""The parts a warehouse runs on, chosen by profile: catalog, lake, query engine, delivery."""

import dataclasses
from collections.abc import Callable
from functools import cached_property
from typing import Any

from dw_platform.catalog import Catalog
from dw_platform.catalog.local import LocalCatalog
from dw_platform.delivery.firehose import LocalDeliveryStream
from dw_platform.lake import Lake
from dw_platform.query.engine import DuckDBEngine
from dw_platform.settings import Settings
from dw_platform.spec import ServerlessDataWarehouse


@dataclasses.dataclass
class Runtime:
    warehouse: ServerlessDataWarehouse
    catalog: Catalog
    lake: Lake
    # Runs one Athena statement to completion; only the AWS profile has Athena.
    athena_execute: Callable[[str], None] | None = None

    query_engine: str = "duckdb"
    # AWS profile: events go into Kinesis, and Firehose delivers them to the lake.
    aws_region: str | None = None

    @property
    def on_aws(self) -> bool:
        return self.aws_region is not None

    @classmethod
    def from_settings(cls, warehouse: ServerlessDataWarehouse, settings: Settings) -> "Runtime":
        if settings.profile == "local":
            return cls(warehouse, LocalCatalog(settings.catalog_path), Lake.local(settings.lake_dir))
        from dw_platform.aws.glue_catalog import GlueCatalog
        from dw_platform.aws.s3_lake import s3_lake
        from dw_platform.provisioning.naming import default_data_bucket

        bucket = settings.data_bucket or default_data_bucket(warehouse)
        return cls(
            warehouse,
            GlueCatalog(bucket, settings.aws_region),
            s3_lake(bucket, settings.aws_region),
            query_engine=settings.query_engine,
            aws_region=settings.aws_region,
        )

    @cached_property
    def engine(self) -> DuckDBEngine:
        if self.query_engine != "duckdb":
            raise NotImplementedError(
                f"query engine {self.query_engine!r} is not available yet; DW_QUERY_ENGINE=duckdb queries "
                "the catalog's partitions with DuckDB reading the lake (local or S3)"
            )
        return DuckDBEngine(self.catalog, self.lake, self.warehouse.name)

    def delivery_stream(self, table: str) -> LocalDeliveryStream:
        """The local profile's Firehose: converts and writes straight into the lake."""
        return LocalDeliveryStream(self.warehouse, self.warehouse.table(table), self.lake)

    @cached_property
    def kinesis(self) -> Any:
        """The AWS profile's Kinesis client (boto3's credential chain, AWS_ENDPOINT_URL honoured)."""
        if self.aws_region is None:
            raise NotImplementedError("the local profile has no Kinesis; events go to its delivery streams")
        import boto3

        return boto3.client("kinesis", region_name=self.aws_region)
