"""Dagster definitions derived from a warehouse declaration: one module per kind of table."""
