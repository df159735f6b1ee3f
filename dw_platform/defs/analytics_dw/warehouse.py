"""The retailer's warehouse, declared once. Assets, schedules, sensors and catalog entries derive
from it (through `WarehouseComponent`, see defs.yaml beside this file). Where it runs, and with
development or production defaults, is the deployment's settings, not the declaration's."""

from pathlib import Path

from dw_platform.declaration.warehouse import Column, ServerlessDataWarehouse
from dw_platform.defs.analytics_dw.jobs import (
    click_through,
    count_events_per_event_hour,
    count_events_per_hour,
)

EVENT_COLUMNS = (Column("id"), Column("session_id"), Column("event_time"))
FACTS_FILE = Path(__file__).parent / "facts.json"

analytics_dw = (
    ServerlessDataWarehouse("analytics_dw", owners=("team:analytics",))
    .with_streaming_input_table("impressions", EVENT_COLUMNS)
    .with_streaming_input_table("clicks", EVENT_COLUMNS)
    .with_table("facts", [("thing", "string"), ("color", "string")], data_format="JSON", seed_file=FACTS_FILE)
    # Each closed arrival hour, after its registration or compaction, once its inputs have settled
    # (the inputs' flush interval: minute 3 in development, minute 17 in production).
    .with_batch_input_table(
        "aggregates",
        [("event_type", "string"), ("count", "int"), ("time", "string")],
        job=count_events_per_hour,
        inputs=("impressions", "clicks"),
        data_format="JSON",
        metrics=click_through,
    )
    # Counts by when events happened: an event hour is recomputed while events for it can still
    # arrive (24 hours), then final.
    .with_batch_input_table(
        "aggregates_by_event_time",
        [("event_type", "string"), ("count", "int"), ("time", "string")],
        job=count_events_per_event_hour,
        inputs=("impressions", "clicks"),
        data_format="JSON",
        partition_keys=[("event_hour", "string")],
        lateness_hours=24,
        metrics=click_through,
    )
)
