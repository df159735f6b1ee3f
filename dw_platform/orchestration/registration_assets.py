"""Per streaming table: the hourly registration asset and the sensor that registers hours as data lands."""

import dataclasses
import hashlib
import json
from collections.abc import Sequence
from datetime import datetime, timedelta

import dagster as dg

from dw_platform.declaration.warehouse import ServerlessDataWarehouse, TableSpec
from dw_platform.lake.hours import ONE_HOUR, floor_hour, hour_of_inserted_at, inserted_at, iter_hours
from dw_platform.lake.layout import hour_folder
from dw_platform.operations.error_rates import ERROR, OK, ErrorRateVerdict, judge_error_rates
from dw_platform.operations.registration import register_hours
from dw_platform.operations.seeding import seeded_hours
from dw_platform.operations.settling import settle_delay
from dw_platform.orchestration.asset_keys import definition_name, table_asset_key
from dw_platform.orchestration.asset_metadata import (
    PARTITION_ROW_COUNT,
    asset_tags,
    describe_numbers,
    hourly_freshness,
    owners,
    table_metadata,
)
from dw_platform.orchestration.clock import Clock, utc_now
from dw_platform.orchestration.partitions import BACKFILL_POLICY, open_hours, range_run_request, run_hours
from dw_platform.orchestration.resources import WarehouseResource
from dw_platform.runtime.backends import Runtime
from dw_platform.runtime.settings import Settings

# Firehose retries S3 delivery for up to 24 hours, so objects can land in an hour that long after it.
LATE_DATA_WINDOW = timedelta(hours=24)
SENSOR_INTERVAL_S = 30
ERROR_RATE_CHECK = "error_rate"
CURSOR_VERSION = "v"


REGISTRATION_NUMBERS = {
    "rows": "rows delivered into the hour (from the Parquet footers of its objects, or of its "
    "compacted version)",
    "objects": "objects the hour's location holds (Firehose's flushes, or the compacted files)",
    "bytes": "bytes of those objects",
    "error_records": "records Firehose could not convert, isolated under the error prefix (the "
    "`<table>_errors` table)",
    "error_rate": "error records per record sent (the `error_rate` check judges it per closed hour)",
    "sent, reconciled": "local profile: records the delivery stream was sent, and whether sent = "
    "delivered + errors",
}
# Registered before data lands: the hour in progress and the next one, so an object is queryable the
# moment it lands and no run is needed per object.
HOURS_AHEAD = 1


def hours_ahead(run_hours: list[str], now: datetime) -> list[str]:
    """The hours after a run's last hour up to HOURS_AHEAD after the hour in progress, when the run
    reaches the hour in progress (or the one before: the run may start as an hour ends)."""
    if not run_hours:
        return []
    last = hour_of_inserted_at(max(run_hours))
    current = floor_hour(now)
    if last < current - ONE_HOUR:
        return []
    return [inserted_at(h) for h in iter_hours(last + ONE_HOUR, current + HOURS_AHEAD * ONE_HOUR)]


def registration_asset(
    warehouse: ServerlessDataWarehouse,
    spec: TableSpec,
    settings: Settings,
    upstream: dg.AssetKey,
    clock: Clock = utc_now,
) -> dg.AssetsDefinition:
    options = spec.streaming_options()

    @dg.asset(
        key=table_asset_key(warehouse, spec.name),
        check_specs=[
            dg.AssetCheckSpec(
                ERROR_RATE_CHECK,
                asset=table_asset_key(warehouse, spec.name),
                description="Share of records isolated as errors per closed hour of the run (an hour "
                f"in progress is not judged): WARN above {options.error_rate_warn:.2%}, ERROR above "
                f"{options.error_rate_error:.2%}, when the hour's records show it: the 95 % lower "
                "bound (Wilson score) of its rate is above the threshold",
            )
        ],
        partitions_def=open_hours(settings.partitions_start),
        backfill_policy=BACKFILL_POLICY,
        deps=[upstream],
        kinds={"parquet", "firehose"},
        group_name=warehouse.name,
        metadata=table_metadata(spec),
        owners=owners(warehouse),
        tags=asset_tags(warehouse, spec, "registration"),
        freshness_policy=hourly_freshness(),
        description=(
            f"Streaming table `{spec.name}`: Firehose delivers Parquet objects into hourly folders "
            f"`{spec.prefix}YYYY/MM/DD/HH/`; each partition registers that hour in the catalog. The "
            "hour in progress and the next are registered before data lands (queryable at once); "
            "an hour's numbers are refreshed when it closes and when late objects land in it."
            + describe_numbers(REGISTRATION_NUMBERS)
        ),
    )
    def register(
        context: dg.AssetExecutionContext, warehouse_resource: WarehouseResource
    ) -> dg.MaterializeResult:
        hours = run_hours(context)
        runtime = warehouse_resource.runtime(warehouse)
        now = clock()
        report = register_hours(runtime, spec.name, [h for _, h in hours])
        ahead = hours_ahead([h for _, h in hours], now)
        if ahead:
            register_hours(runtime, spec.name, ahead, with_stats=False)
        for (key, _), stats in zip(hours, report.hours, strict=True):
            metadata: dict[str, object] = {
                "inserted_at": stats.inserted_at,
                "rows": stats.rows,
                PARTITION_ROW_COUNT: stats.rows,
                "objects": stats.objects,
                "bytes": stats.bytes,
                "error_records": stats.error_records,
                "error_rate": stats.error_rate,
            }
            if stats.ledger is not None:  # the local delivery's own count of what it was sent
                metadata |= {"sent": stats.ledger.records, "reconciled": bool(stats.reconciled)}
            context.add_asset_metadata(partition_key=key, metadata=metadata)
        context.log.info(
            f"registered {len(hours)} hours of {spec.name} ({report.created} new partitions)"
            + (f", and {len(ahead)} ahead ({', '.join(ahead)})" if ahead else "")
        )
        closed = [s for s in report.hours if hour_of_inserted_at(s.inserted_at) + ONE_HOUR <= now]
        verdict = judge_error_rates(runtime.lake, spec, closed)
        return dg.MaterializeResult(
            metadata={
                "hours_in_run": len(hours),
                "partitions_created": report.created,
                "registered_ahead": len(ahead),
            },
            check_results=[
                error_rate_check_result(verdict, options.error_rate_warn, options.error_rate_error)
            ],
        )

    return register


def error_rate_check_result(verdict: ErrorRateVerdict, warn: float, error: float) -> dg.AssetCheckResult:
    """One result per run, judged by its worst hour; every hour's rate is also in the partition's
    materialization metadata (`error_rate`), where the UI plots it. Rates are percentages; an hour
    is over a threshold when the 95 % lower bound of its rate is (see operations/error_rates)."""
    worst = verdict.worst
    metadata: dict[str, object] = {
        "worst_hour": verdict.worst_hour or "",
        "worst_hour_records": worst.records if worst else 0,
        "worst_hour_errors": worst.errors if worst else 0,
        "worst_error_rate_pct": _pct(worst.rate if worst else 0.0),
        "worst_error_rate_lower_bound_pct": _pct(worst.lower_bound if worst else 0.0),
        "warn_above_pct": _pct(warn),
        "error_above_pct": _pct(error),
        "hours_over_warn": len(verdict.hours_over_warn),
        "hours_over_error": len(verdict.hours_over_error),
        "hours_over_error_list": dg.MetadataValue.json(list(verdict.hours_over_error)),
        "hours_with_too_few_records": len(verdict.too_few_records),
        "judgement": _judgement(verdict, warn),
        "top_errors": dg.MetadataValue.md(
            "\n".join(
                ["| code | message | records |", "|---|---|---|"]
                + [
                    f"| {code} | {message.replace('|', '/')} | {count} |"
                    for code, message, count in verdict.top_errors
                ]
            )
        ),
    }
    if verdict.too_few_records:
        metadata["too_few_records"] = dg.MetadataValue.json(
            [
                {
                    "hour": r.inserted_at,
                    "records": r.records,
                    "errors": r.errors,
                    "error_rate_pct": _pct(r.rate),
                    "lower_bound_pct": _pct(r.lower_bound),
                }
                for r in verdict.too_few_records
            ]
        )
    return dg.AssetCheckResult(
        check_name=ERROR_RATE_CHECK,
        passed=verdict.level == OK,
        severity=dg.AssetCheckSeverity.ERROR if verdict.level == ERROR else dg.AssetCheckSeverity.WARN,
        metadata=metadata,
    )


def _pct(rate: float) -> float:
    return round(rate * 100, 4)


def _judgement(verdict: ErrorRateVerdict, warn: float) -> str:
    """Why the check passed or failed, in one sentence."""
    worst = verdict.worst
    if worst is None:
        return "no closed hour in the run"
    described = (
        f"{worst.inserted_at}: {worst.errors:,} errors in {worst.records:,} records ({_pct(worst.rate)} %), "
        f"95 % lower bound {_pct(worst.lower_bound)} %"
    )
    if verdict.level != OK:
        return f"{verdict.level}: {described}"
    if verdict.too_few_records:
        small = verdict.too_few_records[0]
        return (
            f"passed: {len(verdict.too_few_records)} hour(s) above {_pct(warn)} % with too few records to "
            f"tell, e.g. {small.inserted_at}: {small.errors:,} errors in {small.records:,} records "
            f"({_pct(small.rate)} %), 95 % lower bound {_pct(small.lower_bound)} %, not above {_pct(warn)} %"
        )
    return f"passed: worst {described}"


@dataclasses.dataclass(frozen=True)
class HourState:
    """What the sensor sees of one streaming table's recent hours."""

    counts: dict[str, int]  # closed hours of the window -> objects in the hour's folder
    registered: set[str]  # hours of the window (and ahead) in the catalog
    settled: list[str]  # closed hours whose flushes are all in, oldest first


def due_hours(
    state: HourState, requested: dict[str, int], current: str, ahead: str, close_due: bool
) -> tuple[dict[str, int], bool]:
    """The hours to (re)register, with the object count asked for (-1: the hour in progress), and
    whether any is a retry (an hour that should be in the catalog and is not).

    - the hour in progress: at once if it is not registered; when the last hour has settled
      (`close_due`) if the next one is not registered yet, in the same run as that hour's refresh;
    - a settled closed hour: when its object count differs from the count last asked for (the hour's
      final numbers when it closes, a late object after); an empty hour only if it is the latest."""
    due: dict[str, int] = {}
    retry = False
    if current not in state.registered:
        due[current], retry = -1, True
    elif close_due and ahead not in state.registered:
        due[current] = -1
    latest = state.settled[-1] if state.settled else None
    for hour in state.settled:
        count = state.counts[hour]
        if requested.get(hour) != count and (count > 0 or hour == latest):
            due[hour] = count
        elif hour not in state.registered and count > 0:
            due[hour], retry = count, True  # asked for before, still missing: its run failed
    return due, retry


def registration_sensor(
    warehouse: ServerlessDataWarehouse,
    specs: Sequence[TableSpec],
    settings: Settings,
    assets: dict[str, dg.AssetKey],
    seed_selection: Sequence[dg.AssetKey],
    default_status: dg.DefaultSensorStatus,
    clock: Clock = utc_now,
) -> dg.SensorDefinition:
    """One sensor and at most one run per tick for every streaming table (plus, once a local dev
    instance's seed run has delivered its history, one run of every hourly asset in `seed_selection`
    over it). The cursor holds the object counts asked for per table and hour."""
    tables = [s.name for s in specs]
    settle = settle_delay(warehouse, tables)
    seeding = settings.profile == "local" and settings.seed_hours > 0

    @dg.sensor(
        name=definition_name(warehouse, "registration_sensor"),
        minimum_interval_seconds=SENSOR_INTERVAL_S,
        asset_selection=sorted({*assets.values(), *seed_selection}),
        default_status=default_status,
        description=(
            f"Registers the hour in progress and the next of {', '.join(tables)} before data lands, and "
            "refreshes an hour's numbers when it closes and when late objects land in it (up to "
            f"{int(LATE_DATA_WINDOW.total_seconds() // 3600)} h old): at most one run per tick for "
            "every table."
            + (
                " Once a dev instance's first start has seeded its sample history (the seed_history "
                "job), it runs every hourly asset over those hours."
                if seeding
                else ""
            )
        ),
    )
    def sensor(context: dg.SensorEvaluationContext, warehouse_resource: WarehouseResource) -> dg.SensorResult:
        runtime = warehouse_resource.runtime(warehouse)
        now = clock()
        loaded = json.loads(context.cursor) if context.cursor else {}
        if CURSOR_VERSION not in loaded:  # a cursor from before the seed flag: the counts alone
            loaded = {CURSOR_VERSION: 2, "requested": loaded, "seeded": False}
        requested: dict[str, dict[str, int]] = loaded["requested"]
        requests: list[dg.RunRequest] = []
        seed = seeded_hours(settings.home, warehouse.name) if seeding and not loaded["seeded"] else None
        current = floor_hour(now)
        first = max(current - LATE_DATA_WINDOW, floor_hour(settings.partitions_start))
        window = list(iter_hours(first, current))
        close_due = now >= current + settle
        due: dict[str, dict[str, int]] = {}
        retry = False
        for spec in specs:
            state = hour_state(runtime, spec, window, current, now, settle)
            if seed is not None:  # asked for by the seed run
                requested.setdefault(spec.name, {}).update(
                    {h: state.counts[h] for h in seed if h in state.counts}
                )
            table_due, table_retry = due_hours(
                state,
                requested.get(spec.name, {}),
                inserted_at(current),
                inserted_at(current + ONE_HOUR),
                close_due,
            )
            previous = requested.get(spec.name, {})
            requested[spec.name] = {
                h: c
                for h, c in {**previous, **{h: c for h, c in table_due.items() if c >= 0}}.items()
                if h in state.counts
            }
            if table_due:
                due[spec.name] = table_due
                retry = retry or table_retry
        if seed is not None:
            loaded["seeded"] = True
            requests.append(
                range_run_request(
                    [hour_of_inserted_at(h) for h in seed],
                    run_key=f"seed:{seed[0]}",
                    asset_keys=seed_selection,
                )
            )
        if due:
            # Run keys are de-duplicated forever: the same state is asked for once, but an hour that
            # should be registered and is not (its run failed) is asked for again every 10 minutes.
            bucket = int(now.timestamp() // 600) if retry else None
            key = json.dumps({"hours": due, "retry": bucket}, sort_keys=True)
            hours = {hour_of_inserted_at(h) for table_due in due.values() for h in table_due}
            requests.append(
                range_run_request(
                    hours,
                    run_key=hashlib.sha1(key.encode()).hexdigest(),
                    asset_keys=[assets[t] for t in due],
                )
            )
        cursor = json.dumps(loaded)
        if not requests:
            return dg.SensorResult(skip_reason="nothing to register", cursor=cursor)
        return dg.SensorResult(run_requests=requests, cursor=cursor)

    return sensor


def hour_state(
    runtime: Runtime,
    spec: TableSpec,
    window: Sequence[datetime],
    current: datetime,
    now: datetime,
    settle: timedelta,
) -> HourState:
    """Object counts of the window's closed hours (one listing per hour folder) and the hours the
    catalog has (a projected table registers only its errors table's hours)."""
    closed = [h for h in window if h < current]
    counts = {
        inserted_at(h): len(runtime.lake.list_objects(hour_folder(spec.name, inserted_at(h)))) for h in closed
    }
    projected = spec.streaming is not None and spec.streaming.projection_start is not None
    errors = runtime.warehouse.errors_table(spec.name)
    catalog_table = errors.name if projected and errors is not None else spec.name
    wanted = [(inserted_at(h),) for h in [*window, current + ONE_HOUR]]
    registered = {
        p.values[0] for p in runtime.catalog.get_partitions(runtime.database, catalog_table, wanted)
    }
    settled = [inserted_at(h) for h in closed if h + ONE_HOUR + settle <= now]
    return HourState(counts, registered, settled)
