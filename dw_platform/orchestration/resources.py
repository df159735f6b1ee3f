"""The Dagster resources: the deployment settings as typed fields (each bound to its environment
variable with `dg.EnvVar` where the environment sets it, so the UI shows where a value comes from),
and the AWS stack derived from the declaration."""

import os
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import dagster as dg

from dw_platform.declaration.warehouse import ServerlessDataWarehouse
from dw_platform.provisioning.managed_resource import AwsClients
from dw_platform.provisioning.naming import StackNames
from dw_platform.provisioning.stack import Stack, stack_outputs
from dw_platform.runtime.backends import Runtime
from dw_platform.runtime.settings import ENVIRONMENT, Profile, QueryEngineName, Settings


class WarehouseResource(dg.ConfigurableResource):
    """Where and how the warehouse runs. Every field is one `DW_*` setting (see the README)."""

    profile: Profile = "local"
    home: str = ".dw"
    is_dev: bool = True
    partitions_start: str = "2026-01-01T00:00:00+00:00"
    generator_events_per_minute: int = 100
    generator_malformed_ratio: float = 0.01
    compaction_lag_hours: int = 1
    compaction_cron: str = "25 * * * *"
    aws_region: str = "us-west-2"
    stack: str | None = None
    data_bucket: str | None = None
    results_bucket: str | None = None
    athena_workgroup: str | None = None
    query_engine: QueryEngineName = "duckdb"
    seed_hours: int = 3
    seed_events_per_hour: int = 2000

    @classmethod
    def from_settings(
        cls, settings: Settings, environ: Mapping[str, str] | None = None
    ) -> "WarehouseResource":
        """The resource for `settings`, each field bound to its environment variable where the
        environment holds that very value (a value set in code is shown as it is)."""
        env = os.environ if environ is None else environ
        fields: dict[str, Any] = {}
        for name in cls.model_fields:
            value = getattr(settings, name)
            variable, parse = ENVIRONMENT[name]
            raw = env.get(variable)
            # EnvVar binds plain str and int fields; a Literal or a float is given as its value.
            bindable = cls.model_fields[name].annotation in _BINDABLE and not isinstance(value, bool)
            if raw and bindable and _parses_to(parse, raw, value):
                fields[name] = dg.EnvVar.int(variable) if isinstance(value, int) else dg.EnvVar(variable)
            else:
                fields[name] = _field_value(value)
        return cls(**fields)

    def settings(self) -> Settings:
        return Settings(
            profile=self.profile,
            home=Path(self.home).resolve(),
            partitions_start=datetime.fromisoformat(self.partitions_start),
            generator_events_per_minute=self.generator_events_per_minute,
            generator_malformed_ratio=self.generator_malformed_ratio,
            is_dev=self.is_dev,
            compaction_lag_hours=self.compaction_lag_hours,
            compaction_cron=self.compaction_cron,
            aws_region=self.aws_region,
            stack=self.stack,
            data_bucket=self.data_bucket,
            results_bucket=self.results_bucket,
            athena_workgroup=self.athena_workgroup,
            query_engine=self.query_engine,
            seed_hours=self.seed_hours,
            seed_events_per_hour=self.seed_events_per_hour,
        )

    def runtime(self, warehouse: ServerlessDataWarehouse) -> Runtime:
        return Runtime.from_settings(warehouse, self.settings())


_BINDABLE: tuple[Any, ...] = (str, int, str | None)


def _parses_to(parse: Any, raw: str, value: Any) -> bool:
    try:
        return _field_value(parse(raw)) == _field_value(value)
    except ValueError:
        return False


def _field_value(value: Any) -> Any:
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return value


class ProvisioningResource(dg.ConfigurableResource):
    """The AWS stack derived from the declaration (plan, apply, destroy, outputs), as `dw provision`
    offers it, with the warehouse's settings. Credentials come from boto3's default chain."""

    warehouse_settings: WarehouseResource

    def stack(self, warehouse: ServerlessDataWarehouse) -> Stack:
        return Stack.from_settings(warehouse, self.warehouse_settings.settings())

    def outputs(self, warehouse: ServerlessDataWarehouse) -> dict[str, Any]:
        """Names only: no call beyond STS's caller identity, which needs no permission."""
        settings = self.warehouse_settings.settings()
        account = AwsClients(settings.aws_region).account()
        return stack_outputs(StackNames.from_settings(warehouse, settings, account))
