import dataclasses
from pathlib import Path
from typing import Any

import dagster as dg

from dw_platform.declaration.warehouse import ServerlessDataWarehouse
from dw_platform.provisioning.managed_resource import AwsClients
from dw_platform.provisioning.naming import StackNames
from dw_platform.provisioning.stack import Stack, stack_outputs
from dw_platform.runtime.backends import Runtime
from dw_platform.runtime.settings import Settings


class WarehouseResource(dg.ConfigurableResource):
    """Where the warehouse runs: the profile and, for the local profile, its home directory."""

    profile: str = "local"
    home: str = ".dw"

    def settings(self) -> Settings:
        return dataclasses.replace(Settings.from_env(), profile=self.profile, home=Path(self.home).resolve())

    def runtime(self, warehouse: ServerlessDataWarehouse) -> Runtime:
        return Runtime.from_settings(warehouse, self.settings())


class ProvisioningResource(dg.ConfigurableResource):
    """The AWS stack derived from the declaration (plan, apply, destroy, outputs), as `dw provision`
    offers it. Region and names come from configuration; credentials from boto3's default chain."""

    region: str = "us-west-2"
    stack_name: str | None = None  # DW_STACK
    data_bucket: str | None = None
    results_bucket: str | None = None
    workgroup: str | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> "ProvisioningResource":
        return cls(
            region=settings.aws_region,
            stack_name=settings.stack,
            data_bucket=settings.data_bucket,
            results_bucket=settings.results_bucket,
            workgroup=settings.athena_workgroup,
        )

    def _settings(self) -> Settings:
        return dataclasses.replace(
            Settings.from_env(),
            aws_region=self.region,
            stack=self.stack_name,
            data_bucket=self.data_bucket,
            results_bucket=self.results_bucket,
            athena_workgroup=self.workgroup,
        )

    def stack(self, warehouse: ServerlessDataWarehouse) -> Stack:
        return Stack.from_settings(warehouse, self._settings())

    def outputs(self, warehouse: ServerlessDataWarehouse) -> dict[str, Any]:
        """Names only: no call beyond STS's caller identity, which needs no permission."""
        account = AwsClients(self.region).account()
        return stack_outputs(StackNames.from_settings(warehouse, self._settings(), account))
