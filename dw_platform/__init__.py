"""dw_platform: a serverless analytics warehouse declared once, provisioned and run by Dagster."""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dw_platform.declaration.warehouse import Column, ServerlessDataWarehouse, TableKind, TableSpec

__all__ = ["Column", "ServerlessDataWarehouse", "TableKind", "TableSpec"]


def __getattr__(name: str) -> Any:
    """The declaration API, imported on first use: `import dw_platform.x` stays light (the CLI's
    start-up, `dw --help`, does not pay for pyarrow)."""
    if name in __all__:
        from dw_platform.declaration import warehouse

        return getattr(warehouse, name)
    raise AttributeError(f"module 'dw_platform' has no attribute {name!r}")
