"""dw_platform: a serverless analytics warehouse declared once, provisioned and run by Dagster."""

from dw_platform.declaration.warehouse import Column, ServerlessDataWarehouse, TableKind, TableSpec

__all__ = ["Column", "ServerlessDataWarehouse", "TableKind", "TableSpec"]
