import dataclasses
from pathlib import Path

import dagster as dg

from dw_platform.runtime import Runtime
from dw_platform.settings import Settings
from dw_platform.spec import ServerlessDataWarehouse


class WarehouseResource(dg.ConfigurableResource):
    """Where the warehouse runs: the profile and, for the local profile, its home directory."""

    profile: str = "local"
    home: str = ".dw"

    def settings(self) -> Settings:
        return dataclasses.replace(Settings.from_env(), profile=self.profile, home=Path(self.home).resolve())

    def runtime(self, warehouse: ServerlessDataWarehouse) -> Runtime:
        return Runtime.from_settings(warehouse, self.settings())
