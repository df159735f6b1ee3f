"""The parts a warehouse runs on, chosen by profile: catalog, lake, query engine, delivery."""

import dataclasses
from functools import cached_property
from typing import TYPE_CHECKING, Any

from dw_platform.catalog import Catalog
from dw_platform.catalog.local import LocalCatalog
from dw_platform.declaration.warehouse import ServerlessDataWarehouse
from dw_platform.delivery.firehose import LocalDeliveryStream
from dw_platform.lake.store import Lake
from dw_platform.query.engine import DuckDBEngine
from dw_platform.query.scan_plan import ScanPlanner
from dw_platform.runtime.settings import Settings
from dw_platform.runtime.stacks import default_data_bucket, stack_name, stream_name

if TYPE_CHECKING:
    from dw_platform.query.athena import AthenaEngine

QUERY_ENGINES = ("duckdb", "athena")


@dataclasses.dataclass
class Runtime:
    warehouse: ServerlessDataWarehouse
    catalog: Catalog
    lake: Lake
    query_engine: str = "duckdb"
    # AWS profile only: events go into Kinesis (Firehose delivers them), Athena runs in the workgroup.
    aws_region: str | None = None
    athena_workgroup: str | None = None
    # The AWS stack (DW_STACK) whose database, streams and buckets this runtime uses; None: the
    # default stack, named after the warehouse (the local profile's only one).
    stack: str | None = None

    @classmethod
    def from_settings(cls, warehouse: ServerlessDataWarehouse, settings: Settings) -> "Runtime":
        if settings.query_engine not in QUERY_ENGINES:
            raise ValueError(f"DW_QUERY_ENGINE must be one of {QUERY_ENGINES}, got {settings.query_engine!r}")
        if settings.profile == "local":
            if settings.query_engine != "duckdb":
                raise ValueError("the local profile has no Athena: DW_QUERY_ENGINE=duckdb")
            return cls(warehouse, LocalCatalog(settings.catalog_path), Lake.local(settings.lake_dir))
        from dw_platform.catalog.glue import GlueCatalog
        from dw_platform.lake.s3 import s3_lake

        stack = stack_name(warehouse, settings.stack)
        bucket = settings.data_bucket or default_data_bucket(stack)
        return cls(
            warehouse,
            GlueCatalog(bucket, settings.aws_region),
            s3_lake(bucket, settings.aws_region),
            query_engine=settings.query_engine,
            aws_region=settings.aws_region,
            athena_workgroup=settings.athena_workgroup or stack,
            stack=stack,
        )

    @property
    def database(self) -> str:
        """The catalog database holding the warehouse's tables: the stack's name."""
        return self.stack or self.warehouse.name

    def stream_name(self, table: str) -> str:
        """The Kinesis stream (and Firehose delivery stream) feeding a streaming table."""
        return stream_name(self.database, table)

    @property
    def on_aws(self) -> bool:
        return self.aws_region is not None

    @cached_property
    def athena(self) -> "AthenaEngine":
        if self.aws_region is None:
            raise ValueError("this needs Athena, which only the AWS profile has: set DW_PROFILE=aws")
        from dw_platform.query.athena import AthenaEngine

        name = self.database
        planner = ScanPlanner(self.catalog, self.lake, name)
        return AthenaEngine(self.aws_region, self.athena_workgroup or name, name, planner)

    @cached_property
    def engine(self) -> "DuckDBEngine | AthenaEngine":
        """The engine queries go to: DuckDB over the lake, or Athena (DW_QUERY_ENGINE)."""
        if self.query_engine == "athena":
            return self.athena
        return DuckDBEngine(self.catalog, self.lake, self.database)

    def delivery_stream(self, table: str) -> LocalDeliveryStream:
        """The local profile's Firehose: converts and writes straight into the lake."""
        return LocalDeliveryStream(self.warehouse, self.warehouse.table(table), self.lake, stack=self.stack)

    @cached_property
    def kinesis(self) -> Any:
        """The AWS profile's Kinesis client (boto3's credential chain, AWS_ENDPOINT_URL honoured)."""
        if self.aws_region is None:
            raise ValueError("the local profile has no Kinesis; events go to its delivery streams")
        from dw_platform.aws.clients import aws_client

        return aws_client("kinesis", self.aws_region)
