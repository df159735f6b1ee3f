"""The paper model behind docs/scaling.md: 1 and 10 billion events a day, from the limits and list
prices below (each with its source) and the figures measured by the other benchmarks. Prints the
tables that docs/scaling.md quotes.

    python -m benchmarks.scaling_model
"""

import math

from dw_platform.provisioning.shards import SHARD_BYTES_PER_S, SHARD_RECORDS_PER_S, shards_needed

HOURS_PER_MONTH = 730

# Workload assumptions.
EVENT_JSON_BYTES = 200  # FIELD_NOTES: ~200-byte events
PARQUET_BYTES_PER_EVENT = 69  # measured: the compaction benchmark's hour, 344,814,860 B / 5,000,000 rows
EVENT_TIME_COLUMN_SHARE = 0.25  # assumption: share of an object Athena reads for `event_time` alone
PEAK_FACTOR = 3.0  # peak hour / average hour (FIELD_NOTES' sizing)
EVENTS_PER_PACKED_RECORD = 25  # 25 x 200 B = 5 KB: one Firehose billing increment
LATENESS_HOURS = 24  # aggregates_by_event_time reads H .. H + 24

# Limits (sources in docs/scaling.md).
FIREHOSE_BUFFER_BYTES = 128 * 1024**2  # Firehose buffering hint maximum with format conversion
FIREHOSE_INCREMENT_BYTES = 5 * 1024  # Firehose bills ingestion per record rounded up to 5 KB
KINESIS_PUT_UNIT_BYTES = 25 * 1024  # a PUT payload unit is a 25 KB chunk of a record

# us-east-1 on-demand list prices, USD (sources in docs/scaling.md; re-check before budgeting).
KINESIS_SHARD_HOUR = 0.015
KINESIS_PUT_UNITS_PER_MILLION = 0.014
FIREHOSE_INGEST_PER_GB = 0.029
FIREHOSE_CONVERSION_PER_GB = 0.018
ATHENA_PER_TB = 5.0
S3_STORAGE_PER_GB_MONTH = 0.023
REDSHIFT_RA3_4XLARGE_HOUR = 3.26
REDSHIFT_MANAGED_STORAGE_PER_GB_MONTH = 0.024

# Measured here (docs/benchmarks.md) and assumed for a worker reading from S3.
COMPACTION_ROWS_PER_S_LOCAL = 2_000_000  # benchmarks.compaction (5M-row hour), 2 cores, local disk
WORKER_S3_BYTES_PER_S = 100 * 1000**2  # assumption: one worker's S3 read or write stream, 100 MB/s

GB = 1000**3
TB = 1000**4


def scenario(events_per_day: float) -> dict[str, float]:
    hour = events_per_day / 24
    peak_hour = hour * PEAK_FACTOR
    records_packed = events_per_day / EVENTS_PER_PACKED_RECORD
    firehose_gb_unpacked = events_per_day * FIREHOSE_INCREMENT_BYTES / GB
    firehose_gb_packed = (
        records_packed
        * math.ceil(EVENTS_PER_PACKED_RECORD * EVENT_JSON_BYTES / FIREHOSE_INCREMENT_BYTES)
        * FIREHOSE_INCREMENT_BYTES
        / GB
    )
    parquet_hour = hour * PARQUET_BYTES_PER_EVENT
    parquet_peak_hour = peak_hour * PARQUET_BYTES_PER_EVENT
    # Compaction of the peak hour by one worker: the slower of CPU and S3 (read then write).
    cpu_s = peak_hour / COMPACTION_ROWS_PER_S_LOCAL
    io_s = 2 * parquet_peak_hour / WORKER_S3_BYTES_PER_S
    by_event_time_run = (LATENESS_HOURS + 1) * parquet_hour
    return {
        "events_per_s_avg": events_per_day / 86_400,
        "shards_unpacked_avg": shards_needed(events_per_day, EVENT_JSON_BYTES, peak_factor=1, hash_skew=1),
        "shards_unpacked": shards_needed(events_per_day, EVENT_JSON_BYTES, peak_factor=PEAK_FACTOR),
        "shards_packed": shards_needed(
            events_per_day,
            EVENT_JSON_BYTES,
            peak_factor=PEAK_FACTOR,
            events_per_record=EVENTS_PER_PACKED_RECORD,
        ),
        "objects_per_hour_avg": math.ceil(hour * EVENT_JSON_BYTES / FIREHOSE_BUFFER_BYTES),
        "objects_per_hour_peak": math.ceil(peak_hour * EVENT_JSON_BYTES / FIREHOSE_BUFFER_BYTES),
        "parquet_gb_per_day": events_per_day * PARQUET_BYTES_PER_EVENT / GB,
        "parquet_gb_peak_hour": parquet_peak_hour / GB,
        "aggregates_gb_per_run": parquet_hour / GB,
        "by_event_time_gb_per_run": by_event_time_run / GB,
        "athena_usd_per_day_upper": 24 * (parquet_hour + by_event_time_run) / TB * ATHENA_PER_TB,
        "athena_usd_per_day_columns": 24
        * (parquet_hour * 0.01 + by_event_time_run * EVENT_TIME_COLUMN_SHARE)
        / TB
        * ATHENA_PER_TB,
        "compaction_peak_hour_min": max(cpu_s, io_s) / 60,
        "kinesis_usd_month_unpacked": shards_needed(events_per_day, EVENT_JSON_BYTES, peak_factor=PEAK_FACTOR)
        * HOURS_PER_MONTH
        * KINESIS_SHARD_HOUR
        + events_per_day * 30 / 1e6 * KINESIS_PUT_UNITS_PER_MILLION,
        "kinesis_usd_month_packed": shards_needed(
            events_per_day,
            EVENT_JSON_BYTES,
            peak_factor=PEAK_FACTOR,
            events_per_record=EVENTS_PER_PACKED_RECORD,
        )
        * HOURS_PER_MONTH
        * KINESIS_SHARD_HOUR
        + records_packed
        * 30
        * math.ceil(EVENTS_PER_PACKED_RECORD * EVENT_JSON_BYTES / KINESIS_PUT_UNIT_BYTES)
        / 1e6
        * KINESIS_PUT_UNITS_PER_MILLION,
        "firehose_usd_month_unpacked": firehose_gb_unpacked
        * 30
        * (FIREHOSE_INGEST_PER_GB + FIREHOSE_CONVERSION_PER_GB),
        "firehose_usd_month_packed": firehose_gb_packed
        * 30
        * (FIREHOSE_INGEST_PER_GB + FIREHOSE_CONVERSION_PER_GB),
        "s3_usd_month_after_a_year": events_per_day
        * 365
        * PARQUET_BYTES_PER_EVENT
        / GB
        * S3_STORAGE_PER_GB_MONTH,
        "redshift_nodes": max(2, math.ceil(events_per_day / 1e9) * 2),
    }


def main() -> None:
    rows = [(label, scenario(events)) for label, events in (("1B/day", 1e9), ("10B/day", 1e10))]
    print("| figure | " + " | ".join(label for label, _ in rows) + " |")
    print("|---|" + "---|" * len(rows))
    for key in rows[0][1]:
        print(f"| {key} | " + " | ".join(f"{values[key]:,.2f}" for _, values in rows) + " |")
    for label, values in rows:
        redshift = values["redshift_nodes"] * REDSHIFT_RA3_4XLARGE_HOUR * HOURS_PER_MONTH
        storage = values["parquet_gb_per_day"] * 365 * REDSHIFT_MANAGED_STORAGE_PER_GB_MONTH
        print(
            f"\n{label}: Redshift {values['redshift_nodes']:.0f} x ra3.4xlarge ${redshift:,.0f}/month "
            f"+ managed storage after a year ${storage:,.0f}/month; Athena hourly jobs "
            f"${values['athena_usd_per_day_upper'] * 30:,.0f}/month (upper bound), "
            f"${values['athena_usd_per_day_columns'] * 30:,.0f}/month (columns read)"
        )
    print(f"\nlimits used: shard {SHARD_BYTES_PER_S:,} B/s and {SHARD_RECORDS_PER_S:,} records/s")


if __name__ == "__main__":
    main()
