"""The Dagster resources: the deployment settings as typed fields (each bound to its environment
variable with `dg.EnvVar` where the environment sets it, so the UI shows where a value comes from),
and the AWS stack derived from the declaration.

`WarehouseResource`'s fields are derived from the settings' schema (runtime/settings.py): one field
per setting, with its default and meaning, so the resource and the `Settings` record cannot drift."""

import os
import typing
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import dagster as dg
import pydantic

from dw_platform.declaration.warehouse import ServerlessDataWarehouse
from dw_platform.provisioning.managed_resource import AwsClients
from dw_platform.provisioning.naming import StackNames
from dw_platform.provisioning.stack import Stack, stack_outputs
from dw_platform.runtime.backends import Runtime
from dw_platform.runtime.settings import SCHEMA, ByProfile, Settings, SettingsError

# Settings types Dagster's configuration has no type for: the resource holds their text.
_AS_TEXT: tuple[type, ...] = (Path, datetime)


class _WarehouseSettings(dg.ConfigurableResource):
    @classmethod
    def from_settings(cls, settings: Settings, environ: Mapping[str, str] | None = None) -> typing.Self:
        """The resource for `settings`, each field bound to its environment variable where the
        environment holds that very value (a value set in code is shown as it is)."""
        env = os.environ if environ is None else environ
        fields: dict[str, Any] = {}
        for name, setting in SCHEMA.items():
            value = _field_value(getattr(settings, name))
            raw = env.get(setting.variable)
            bind = _binder(cls.model_fields[name].annotation)
            if raw and bind is not None and not isinstance(value, bool) and _reads_as(name, raw, value):
                fields[name] = bind(setting.variable)
            else:
                fields[name] = value
        return cls(**fields)

    def settings(self) -> Settings:
        """The settings the fields give (a field left None: the schema's default for the profile)."""
        return Settings.resolve({name: getattr(self, name) for name in SCHEMA})

    def runtime(self, warehouse: ServerlessDataWarehouse) -> Runtime:
        return Runtime.from_settings(warehouse, self.settings())


def _field(name: str, annotation: Any) -> tuple[Any, Any]:
    """The resource field of setting `name`: its type and its default (None where the default
    depends on the profile, resolved by `settings()`)."""
    setting = SCHEMA[name]
    if annotation in _AS_TEXT:
        annotation = str
    default: Any = setting.default
    if isinstance(default, ByProfile):
        # Dagster's configuration has no optional Literal: such a field takes the text, read by `settings()`.
        optional = str if typing.get_origin(annotation) is typing.Literal else annotation
        annotation, default = optional | None, None
    elif default is not None and annotation is not str:
        default = setting.read(default)
    return annotation, pydantic.Field(default=default, description=f"{setting.variable}: {setting.meaning}")


WarehouseResource = pydantic.create_model(
    "WarehouseResource",
    __base__=_WarehouseSettings,
    __module__=__name__,
    __doc__="Where and how the warehouse runs. Every field is one setting: its `DW_*` variable (README).",
    **{name: _field(name, annotation) for name, annotation in typing.get_type_hints(Settings).items()},
)


def _binder(annotation: Any) -> Any:
    """How `dg.EnvVar` binds a field of this type (it binds plain str and int fields; a Literal, a
    float or a bool is given as its value)."""
    if annotation in (str, str | None):
        return dg.EnvVar
    if annotation in (int, int | None):
        return dg.EnvVar.int
    return None


def _reads_as(name: str, raw: str, value: Any) -> bool:
    try:
        return _field_value(SCHEMA[name].read(raw)) == value
    except SettingsError:
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
