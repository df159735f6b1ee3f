"""`<table>_errors`: every streaming table's isolated records, queryable like the table itself."""

import base64
from datetime import UTC, datetime, timedelta

from dw_platform.catalog import table_definition
from dw_platform.catalog.glue import GlueCatalog
from dw_platform.declaration.warehouse import TableKind
from dw_platform.defs.analytics_dw.warehouse import analytics_dw
from dw_platform.delivery.sending import deliver
from dw_platform.operations.registration import register_hours
from dw_platform.runtime.backends import Runtime
from tests.aws_emulator import REGION

HOUR = datetime(2026, 3, 1, 10, tzinfo=UTC)
GOOD = b'{"id": "a", "session_id": "s", "event_time": "2026-03-01T10:00:00Z"}'
BAD = [b"[1, 2]", b'{"id": "b"', b"", '{"id": "\u00e9"}'.encode("latin-1")]


def test_each_streaming_table_declares_its_errors_table() -> None:
    errors = analytics_dw.table("clicks_errors")
    assert errors.kind is TableKind.ERRORS and errors.errors_of == "clicks"
    assert errors.prefix == "errors/clicks/format-conversion-failed/"
    assert errors.data_format == "JSON" and errors.partition_key == "inserted_at"
    assert analytics_dw.errors_table("clicks") == errors and analytics_dw.errors_table("facts") is None


def test_isolated_records_are_queryable_with_reason_arrival_and_raw_record(runtime: Runtime) -> None:
    summary = deliver(runtime, "clicks", [GOOD, *BAD], arrival=HOUR + timedelta(minutes=3))
    assert (summary.delivered, summary.errors) == (1, 4)
    register_hours(runtime, "clicks", ["2026/03/01/10"])
    rows = runtime.engine.query(
        "SELECT errorcode, errormessage, arrivaltimestamp, rawdata, "
        "try(from_utf8(from_base64(rawdata))) AS raw_record "
        "FROM clicks_errors WHERE inserted_at = '2026/03/01/10' ORDER BY arrivaltimestamp, rawdata"
    ).table.to_pylist()
    assert sorted(base64.b64decode(r["rawdata"]) for r in rows) == sorted(BAD)
    assert all(r["errorcode"] and r["errormessage"] for r in rows), "every record carries its reason"
    assert {r["arrivaltimestamp"] for r in rows} == {int((HOUR + timedelta(minutes=3)).timestamp() * 1000)}
    assert "[1, 2]" in {r["raw_record"] for r in rows}


def test_glue_maps_the_camel_case_keys(aws_endpoint: str) -> None:
    catalog = GlueCatalog("analytics-dw-data", REGION)
    catalog.ensure_database("analytics_dw")
    definition = table_definition(analytics_dw.table("impressions_errors"))
    catalog.upsert_table("analytics_dw", definition)
    assert catalog.get_table("analytics_dw", "impressions_errors") == definition
    descriptor = catalog.glue.get_table(DatabaseName="analytics_dw", Name="impressions_errors")["Table"][
        "StorageDescriptor"
    ]
    assert descriptor["SerdeInfo"]["Parameters"]["mapping.errorcode"] == "errorCode"
    assert descriptor["Location"] == "s3://analytics-dw-data/errors/impressions/format-conversion-failed/"
