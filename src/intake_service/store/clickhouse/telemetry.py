"""TelemetryStore: sessions, evaluator results and rollups in ClickHouse (placeholder until issue 4)."""

from typing import Any


class TelemetryStore:
    """Every ClickHouse read and write. Failures surface as errors.TelemetryUnavailable."""

    async def rollups(self, workspace: str, experiment_ids: list[str]) -> dict[str, dict[str, Any]]:
        raise NotImplementedError

    def close(self) -> None:
        pass


def open_telemetry(settings: "Settings") -> TelemetryStore | None:  # noqa: F821
    return None


def migrate_telemetry(settings: "Settings") -> None:  # noqa: F821
    pass
