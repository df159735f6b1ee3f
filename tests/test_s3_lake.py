"""The lake and compaction over S3: the same code as locally, against moto's server over HTTP."""

from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
import pyarrow.parquet as pq
import pytest

from dw_platform.catalog.local import LocalCatalog
from dw_platform.defs.analytics_dw.warehouse import analytics_dw
from dw_platform.delivery.events import sample_events
from dw_platform.delivery.sending import deliver
from dw_platform.lake.s3 import s3_lake
from dw_platform.lake.store import Lake
from dw_platform.operations.compaction.compact import CompactionOptions, compact_hour, hours_with_late_objects
from dw_platform.operations.compaction.rewrite import RewriteOptions
from dw_platform.operations.registration import register_hours
from dw_platform.runtime.backends import Runtime
from tests.aws_emulator import REGION

BUCKET = "analytics-dw-data"
HOUR = "2026/03/01/10"
ARRIVAL = datetime(2026, 3, 1, 10, 5, tzinfo=UTC)


@pytest.fixture
def lake(aws_endpoint: str) -> Lake:
    boto3.client("s3", region_name=REGION).create_bucket(
        Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION}
    )
    return s3_lake(BUCKET, REGION)


def rows_at(lake: Lake, location: str) -> Counter:
    rows: Counter = Counter()
    for obj in lake.list_objects(location):
        with lake.filesystem.open_input_file(lake.path(obj.key)) as handle:
            rows.update(pq.read_table(handle).column("id").to_pylist())
    return rows


def test_lake_operations_over_s3(lake: Lake) -> None:
    lake.put_bytes("t/2026/03/01/10/a.json", b'{"a": 1}\n')
    lake.put_bytes("t/2026/03/01/10/_hidden", b"x")
    [obj] = lake.list_objects("t/")
    assert (obj.key, obj.size) == ("t/2026/03/01/10/a.json", 9) and obj.modified is not None
    assert len(lake.list_objects("t/", include_hidden=True)) == 2
    assert lake.read_bytes(obj.key) == b'{"a": 1}\n' and lake.exists(obj.key)
    assert lake.uri(obj.key) == f"s3://{BUCKET}/t/2026/03/01/10/a.json"
    listed = boto3.client("s3", region_name=REGION).list_objects_v2(Bucket=BUCKET)["Contents"]
    assert sorted(o["Key"] for o in listed) == ["t/2026/03/01/10/_hidden", "t/2026/03/01/10/a.json"]
    lake.delete(obj.key)
    assert lake.list_objects("t/") == []


def test_delivery_and_compaction_over_s3_keep_every_row_once(lake: Lake, tmp_path: Path) -> None:
    runtime = Runtime(analytics_dw, LocalCatalog(tmp_path / "catalog.sqlite"), lake)
    records, malformed = sample_events(2000, ARRIVAL, malformed_ratio=0.02, seed=3)
    summary = deliver(runtime, "clicks", records, arrival=ARRIVAL, batches=8)
    assert (summary.delivered, summary.errors) == (2000 - malformed, malformed)
    assert all(
        key.startswith(f"clicks/{HOUR}/analytics_dw-clicks-1-2026-03-01-10-05-00-") for key in summary.objects
    )
    register_hours(runtime, "clicks", [HOUR])
    expected = rows_at(lake, f"clicks/{HOUR}/")
    assert sum(expected.values()) == summary.delivered

    options = CompactionOptions(rewrite=RewriteOptions(target_file_bytes=50_000, row_group_rows=400))
    now = datetime.now(UTC)
    report = compact_hour(runtime, "clicks", HOUR, options, now=now)
    assert (report.status, report.files_before, report.rows) == ("compacted", 8, summary.delivered)
    location = runtime.catalog.get_partitions("analytics_dw", "clicks")[0].location
    assert location.startswith(f"compacted/clicks/{HOUR}/v00001-")
    assert rows_at(lake, location) == expected

    late, _ = sample_events(100, ARRIVAL, seed=4)
    deliver(runtime, "clicks", late, arrival=ARRIVAL)
    assert hours_with_late_objects(runtime, "clicks", [HOUR]) == [HOUR]
    later = now + timedelta(hours=2)
    again = compact_hour(runtime, "clicks", HOUR, options, now=later)
    assert (again.version, again.rows, again.late_objects) == (2, summary.delivered + 100, 1)
    final = compact_hour(runtime, "clicks", HOUR, options, now=later + timedelta(hours=2))
    assert final.status == "unchanged" and final.deleted_objects == 9 + report.files_after + 1
    location = runtime.catalog.get_partitions("analytics_dw", "clicks")[0].location
    assert sum(rows_at(lake, location).values()) == summary.delivered + 100
    assert lake.list_objects(f"clicks/{HOUR}/") == []
