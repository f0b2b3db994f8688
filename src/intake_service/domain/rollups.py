"""Rollups on experiment responses: one place joins PostgreSQL rows with ClickHouse rollups."""

from dataclasses import dataclass
from functools import cached_property
from typing import Any

from intake_service.domain.rollup_metrics import LABELS, METRICS
from intake_service.errors import TelemetryUnavailable
from intake_service.models.generated import ExperimentResponse
from intake_service.store.clickhouse.telemetry import TelemetryStore
from intake_service.store.postgres.experiments import row_fields
from intake_service.store.postgres.tables import Experiment


def empty_rollups() -> dict[str, Any]:
    """The rollup fields of an experiment without sessions, or whose rollups cannot be read."""
    rollups: dict[str, Any] = {f"{label}s": [] for label in LABELS}
    for metric in METRICS:
        rollups[metric.response_field] = metric.empty
        if metric.keys_field:
            rollups[metric.keys_field] = []
    return rollups


@dataclass
class Hydrated:
    # Each experiment's response fields, as the hot reads encode them straight to JSON.
    fields: list[dict[str, Any]]
    # False when the telemetry store could not be read: rollups are empty, not zero.
    available: bool = True

    @cached_property
    def experiments(self) -> list[ExperimentResponse]:
        return [ExperimentResponse(**fields) for fields in self.fields]


async def hydrate(telemetry: TelemetryStore, rows: list[Experiment]) -> Hydrated:
    return await hydrate_fields(telemetry, [row_fields(row) for row in rows])


async def hydrate_fields(telemetry: TelemetryStore, rows: list[dict[str, Any]]) -> Hydrated:
    """Rows' response fields (store.postgres.experiments.RESPONSE_COLUMNS) joined with their rollups."""
    if not rows:
        return Hydrated([])
    try:
        by_id = await telemetry.rollups(rows[0]["workspace"], [row["id"] for row in rows])
    except TelemetryUnavailable:
        return Hydrated([{**row, **empty_rollups()} for row in rows], available=False)
    return Hydrated([{**row, **(by_id.get(row["id"]) or empty_rollups())} for row in rows])
