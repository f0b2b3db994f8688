"""GET /traces/metrics (SDK 0.4+) as NeMo's 0.4.0 server answers it: time-bucketed rollups of the
traces the filter selects, bucketed in an IANA time zone.

The rules and sentences are NeMo's: a query parameter other than bucket, timezone and filter[...]
is a 400 `Unsupported query parameter(s): a, b`; an unknown zone a 400 `Unknown timezone: X`;
without filter[started_at][$gte] the range is the 7 days up to filter[started_at][$lte], else up to
now. Statistics no trace of the bucket has are left out of the answer (the route drops None).
Where this differs from NeMo: total_tokens is input + output of the trace's spans (as GET /traces
counts it), where NeMo sums the spans' own total-token attribute.
"""

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from intake_service.domain.span_filters import parse_filters
from intake_service.domain.traces import FILTERS
from intake_service.errors import BadListQuery
from intake_service.models.generated import (
    CostRollup,
    LatencyRollup,
    TokenRollup,
    TraceMetricPoint,
    TraceMetrics,
)
from intake_service.store.clickhouse.telemetry import TelemetryStore
from intake_service.store.clickhouse.traces import TraceReads
from intake_service.store.clickhouse.values import datetime_text

Bucket = Literal["total", "hour", "day", "week", "month"]
PARAMS = ("bucket", "timezone")  # and filter[...] brackets, as GET /traces takes them
DEFAULT_WINDOW = timedelta(days=7)
TOKENS = ("input_tokens", "output_tokens", "cached_tokens", "total_tokens")


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise BadListQuery(f"Unknown timezone: {name}.") from None


def _check_params(params: Sequence[tuple[str, str]]) -> None:
    unsupported = sorted({key for key, _ in params if key not in PARAMS and not key.startswith("filter[")})
    if unsupported:
        raise BadListQuery(f"Unsupported query parameter(s): {', '.join(unsupported)}.")


def _quantiles(values: list[Any] | None, names: tuple[str, ...]) -> dict[str, Any]:
    return dict(zip(names, values or [None] * len(names), strict=True))


def _point(row: dict[str, Any], bucket: Bucket, zone: ZoneInfo) -> TraceMetricPoint:
    def stats(field: str) -> dict[str, Any]:
        return {"sum": row[f"{field}_sum"], "mean": row[f"{field}_mean"],
                **_quantiles(row[f"{field}_quantiles"], ("p90", "p99"))}  # fmt: skip

    return TraceMetricPoint(
        bucket_start=None if bucket == "total" else datetime.fromtimestamp(row["bucket_epoch"], zone),
        run_count=row["run_count"],
        failed_run_count=row["failed_run_count"],
        **{field: TokenRollup(**stats(field)) for field in TOKENS},
        cost_usd=CostRollup(**stats("cost_usd")),
        latency_ms=LatencyRollup(
            mean=row["latency_ms_mean"],
            **_quantiles(row["latency_ms_quantiles"], ("p50", "p90", "p95", "p99")),
        ),
    )


async def trace_metrics(
    telemetry: TelemetryStore, workspace: str, params: Iterable[tuple[str, str]], *, bucket: Bucket, timezone: str
) -> TraceMetrics:
    items = list(params)
    _check_params(items)
    zone = _zone(timezone)
    filters, _ = parse_filters(items, FILTERS, "trace")
    if "started_gte" not in filters:
        end = datetime.fromisoformat(filters["started_lte"]).replace(tzinfo=UTC) if "started_lte" in filters else None
        filters["started_gte"] = datetime_text((end or datetime.now(UTC)) - DEFAULT_WINDOW)
    rows = await TraceReads(telemetry.reader).metrics(workspace, filters, bucket, timezone)
    return TraceMetrics(bucket=bucket, timezone=timezone, data=[_point(row, bucket, zone) for row in rows])
