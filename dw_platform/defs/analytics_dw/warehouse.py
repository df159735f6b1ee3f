"""The retailer's warehouse, declared once. Assets, schedules, sensors and catalog entries derive from it."""

import os
from pathlib import Path

from dw_platform.declaration.warehouse import Column, ServerlessDataWarehouse
from dw_platform.defs.analytics_dw.jobs import (
    click_through,
    count_events_per_event_hour,
    count_events_per_hour,
)

EVENT_COLUMNS = (Column("id"), Column("session_id"), Column("event_time"))
FACTS_FILE = Path(__file__).parent / "facts.json"

# Dev (60 s flushes, buckets destroyable) by default on the local profile, production settings on AWS.
_DEFAULT_IS_DEV = "true" if os.environ.get("DW_PROFILE", "local") == "local" else "false"
IS_DEV = os.environ.get("DW_IS_DEV", _DEFAULT_IS_DEV).lower() in ("1", "true", "yes")

analytics_dw = (
    ServerlessDataWarehouse("analytics_dw", is_dev=IS_DEV, owners=("team:analytics",))
    .with_streaming_input_table("impressions", EVENT_COLUMNS)
    .with_streaming_input_table("clicks", EVENT_COLUMNS)
    .with_table("facts", [("thing", "string"), ("color", "string")], data_format="JSON", seed_file=FACTS_FILE)
    .with_batch_input_table(
        "aggregates",
        [("event_type", "string"), ("count", "int"), ("time", "string")],
        job=count_events_per_hour,
        schedule="3 * * * *" if IS_DEV else "17 * * * *",  # after the inputs' flush interval
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
        schedule="3 * * * *" if IS_DEV else "17 * * * *",
        inputs=("impressions", "clicks"),
        data_format="JSON",
        partition_keys=[("event_hour", "string")],
        lateness_hours=24,
        metrics=click_through,
    )
)
