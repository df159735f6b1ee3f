import dataclasses
import multiprocessing
from pathlib import Path

import pytest

from dw_platform.catalog import Partition, TableDefinition, TableNotFoundError
from dw_platform.catalog.local import LocalCatalog

TABLE = TableDefinition("t", (("id", "string"),), (("inserted_at", "string"),), "PARQUET", "t/")


def _register_all(path: str, worker: int) -> int:
    catalog = LocalCatalog(Path(path))
    created = 0
    for hour in range(200):
        # Every worker registers every hour, in a different order, one short transaction each.
        value = f"2026/01/01/{(hour * (worker + 1)) % 200:03d}"
        created += catalog.register_partitions("db", TABLE, [Partition((value,), f"t/{value}/")])
    return created


def test_registration_is_idempotent_and_keeps_existing_locations(tmp_path: Path) -> None:
    catalog = LocalCatalog(tmp_path / "c.sqlite")
    assert catalog.ensure_database("db") is True
    assert catalog.ensure_database("db") is False
    assert catalog.upsert_table("db", TABLE) is True
    assert catalog.upsert_table("db", TABLE) is False
    with pytest.raises(TableNotFoundError):
        catalog.register_partitions("db", dataclasses.replace(TABLE, name="nope"), [Partition(("a",), "n/")])
    assert catalog.register_partitions("db", TABLE, [Partition(("a",), "t/a/")]) == 1
    assert (
        catalog.register_partitions("db", TABLE, [Partition(("a",), "elsewhere/"), Partition(("b",), "t/b/")])
        == 1
    )
    assert catalog.get_partitions("db", "t") == [Partition(("a",), "t/a/"), Partition(("b",), "t/b/")]
    assert catalog.get_partitions("db", "t", [("b",), ("zz",)]) == [Partition(("b",), "t/b/")]


@pytest.mark.slow
def test_processes_write_concurrently_without_losing_or_duplicating(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite"
    LocalCatalog(path).upsert_table("db", TABLE)
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        created = pool.starmap(_register_all, [(str(path), w) for w in range(4)])
    assert sum(created) == 200
    assert len(LocalCatalog(path).get_partitions("db", "t")) == 200


def test_switching_a_partition_location_is_conditional(tmp_path: Path) -> None:
    catalog = LocalCatalog(tmp_path / "c.sqlite")
    catalog.upsert_table("db", TABLE)
    catalog.register_partitions("db", TABLE, [Partition(("a",), "t/a/")])
    assert catalog.switch_partition_location("db", "t", ("a",), "v1/", expected_location="t/a/") is True
    assert catalog.switch_partition_location("db", "t", ("a",), "v2/", expected_location="t/a/") is False
    assert catalog.get_partitions("db", "t") == [Partition(("a",), "v1/")]
    assert catalog.switch_partition_location("db", "t", ("zz",), "v1/", expected_location="t/zz/") is False
