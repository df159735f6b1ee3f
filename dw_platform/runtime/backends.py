"""The parts a warehouse runs on, chosen once from the settings: catalog, lake, query engine and
event sink. Callers use the parts; none of them asks which profile it is on."""

import dataclasses
from functools import cached_property
from typing import TYPE_CHECKING, Any

from dw_platform.catalog import Catalog
from dw_platform.catalog.local import LocalCatalog
from dw_platform.declaration.warehouse import ServerlessDataWarehouse
from dw_platform.errors import PreconditionError
from dw_platform.lake.layout import lake_root
from dw_platform.lake.store import Lake
from dw_platform.query.engines import QueryEngine
from dw_platform.query.scan_plan import GIB, ScanBudget, ScanPlanner
from dw_platform.runtime.legacy_home import local_lake_dir
from dw_platform.runtime.settings import QueryEngineName, Settings, default
from dw_platform.runtime.stacks import default_data_bucket, stack_name

# Delivery (Firehose's conversion, Kinesis) is imported where events are sent: `dw query` does not
# need it, and every module imported costs each process's start-up.
if TYPE_CHECKING:
    from dw_platform.delivery.firehose import LocalDeliveryStream
    from dw_platform.delivery.sending import EventSink
    from dw_platform.query.athena import AthenaEngine


@dataclasses.dataclass
class Runtime:
    warehouse: ServerlessDataWarehouse
    catalog: Catalog
    lake: Lake
    query_engine: QueryEngineName = default("query_engine", "local")
    # AWS profile only: events go into Kinesis (Firehose delivers them), Athena runs in the workgroup.
    aws_region: str | None = None
    athena_workgroup: str | None = None
    # The AWS stack (DW_STACK) whose database, streams and buckets this runtime uses; None: the
    # default stack, named after the warehouse (the local profile's only one).
    stack: str | None = None

    @classmethod
    def from_settings(cls, warehouse: ServerlessDataWarehouse, settings: Settings) -> "Runtime":
        warehouse = warehouse.deployed(is_dev=settings.is_dev)
        if settings.profile == "local":
            # The warehouse's own folder of the lake directory (see lake.layout): never another's.
            lake = Lake.local(local_lake_dir(settings.lake_dir, warehouse))
            return cls(warehouse, LocalCatalog(settings.catalog_path(warehouse.name)), lake)
        from dw_platform.catalog.glue import GlueCatalog
        from dw_platform.lake.s3 import s3_lake

        stack = stack_name(warehouse, settings.stack)
        bucket = settings.data_bucket or default_data_bucket(stack)
        root = lake_root(stack)  # the stack's own prefix of the bucket (see lake.layout)
        return cls(
            warehouse,
            GlueCatalog(bucket, settings.aws_region, root=root),
            s3_lake(bucket, settings.aws_region, root=root),
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
        # Here, not at the top: `dw query` loads no module of delivery (test_cli_terminal).
        from dw_platform.delivery.streams import stream_name

        return stream_name(self.database, table)

    @cached_property
    def athena(self) -> "AthenaEngine":
        """Athena itself, for what only Athena does (compaction's UNLOAD of a very large hour)."""
        if self.aws_region is None:
            raise PreconditionError("this needs Athena, which only the AWS profile has: set DW_PROFILE=aws")
        from dw_platform.query.athena import AthenaEngine

        name = self.database
        planner = ScanPlanner(self.catalog, self.lake, name, self.query_budget)
        return AthenaEngine(self.aws_region, self.athena_workgroup or name, name, planner)

    @cached_property
    def engine(self) -> QueryEngine:
        """The engine queries go to: DuckDB over the lake, or Athena (DW_QUERY_ENGINE)."""
        if self.query_engine == "athena":
            return self.athena
        from dw_platform.query.engine import DuckDBEngine

        return DuckDBEngine(self.catalog, self.lake, self.database, self.query_budget)

    @property
    def query_budget(self) -> ScanBudget:
        """The declaration's per-query budget, which both engines' guard rail holds queries to."""
        hours, gib = self.warehouse.query_budget
        return ScanBudget(hours, round(gib * GIB))

    @cached_property
    def events(self) -> "EventSink":
        """Where sent events go: the local delivery streams, or the Kinesis streams on AWS."""
        from dw_platform.delivery.sending import DeliveryStreamSink, KinesisSink

        if self.aws_region is None:
            return DeliveryStreamSink(self.delivery_stream)
        return KinesisSink(self.kinesis, self.stream_name, self.delivery_stream)

    def delivery_stream(self, table: str) -> "LocalDeliveryStream":
        """The local profile's Firehose: converts and writes straight into the lake."""
        from dw_platform.delivery.firehose import LocalDeliveryStream

        return LocalDeliveryStream(self.warehouse, self.warehouse.table(table), self.lake, stack=self.stack)

    @cached_property
    def kinesis(self) -> Any:
        """The AWS profile's Kinesis client (boto3's credential chain, AWS_ENDPOINT_URL honoured)."""
        if self.aws_region is None:
            raise PreconditionError("the local profile has no Kinesis; events go to its delivery streams")
        from dw_platform.aws.clients import aws_client

        return aws_client("kinesis", self.aws_region)
