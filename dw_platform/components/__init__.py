"""The platform's Dagster component types (the `registry_modules` of [tool.dg] in pyproject.toml)."""

from dw_platform.components.warehouse import WarehouseComponent

__all__ = ["WarehouseComponent"]
