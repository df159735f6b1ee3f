"""What a partial backfill (`dw backfill --only compact`) changed under the derived tables it did not
select: the hours whose re-compaction changed the rows queries see (late objects folded into an
existing version, duplicates removed). A first compaction changes nothing queries see: the raw
folder it replaces held the same rows."""

import dagster as dg

from dw_platform.declaration.warehouse import ServerlessDataWarehouse, TableKind
from dw_platform.lake.hours import inserted_at, parse_hour
from dw_platform.orchestration.asset_keys import compaction_key


def _number(metadata: dict[str, dg.MetadataValue], name: str) -> int:
    value = metadata.get(name)
    return value.value if value is not None and isinstance(value.value, int) else 0  # type: ignore[return-value]


def rows_changed_by_compaction(
    instance: dg.DagsterInstance, warehouse: ServerlessDataWarehouse, run_ids: list[str]
) -> dict[str, list[str]]:
    """Per streaming table, the hours whose compaction in these runs changed their rows."""
    tables = {compaction_key(warehouse, s.name): s.name for s in warehouse.tables_of(TableKind.STREAMING)}
    found: dict[str, set[str]] = {}
    for run_id in run_ids:
        cursor = None
        while True:
            page = instance.get_records_for_run(
                run_id, cursor, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION, limit=1000
            )
            cursor = page.cursor
            for record in page.records:
                event = record.asset_materialization
                if event is None or event.asset_key not in tables or event.partition is None:
                    continue
                metadata = dict(event.metadata)
                status = metadata.get("status")
                refolded = _number(metadata, "version") > 1 and _number(metadata, "late_objects") > 0
                deduplicated = _number(metadata, "duplicates_removed") > 0
                if status is not None and status.value == "compacted" and (refolded or deduplicated):
                    hour = inserted_at(parse_hour(event.partition))
                    found.setdefault(tables[event.asset_key], set()).add(hour)
            if not page.has_more:
                break
    return {table: sorted(hours) for table, hours in found.items()}
