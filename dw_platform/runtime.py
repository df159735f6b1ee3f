"""The parts a warehouse runs on, chosen by profile: catalog, lake, query engine, delivery."""

import dataclasses
from collections.abc import Callable
from functools import cached_property

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

    @classmethod
    def from_settings(cls, warehouse: ServerlessDataWarehouse, settings: Settings) -> "Runtime":
        if settings.profile != "local":
            raise NotImplementedError(
                f"profile {settings.profile!r} is not available yet: only the local profile is implemented"
            )
        return cls(warehouse, LocalCatalog(settings.catalog_path), Lake.local(settings.lake_dir))

    @cached_property
    def engine(self) -> DuckDBEngine:
        return DuckDBEngine(self.catalog, self.lake, self.warehouse.name)

    def delivery_stream(self, table: str) -> LocalDeliveryStream:
        return LocalDeliveryStream(self.warehouse, self.warehouse.table(table), self.lake)
