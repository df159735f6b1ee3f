"""Athena SQL over the warehouse: parsing, partition pruning and the local DuckDB engine."""
