"""Leaderboard at scale: a workspace of N experiments (default 100,000), sorted by a metric.

    python bench/bench_leaderboard_scale.py --experiments 100000

Rows are bulk-loaded straight into the stores (PostgreSQL with generate_series, ClickHouse with
INSERT … SELECT from numbers(), then the service's own rollup recompute), because creating 100,000
experiments one request at a time would measure the setup, not the leaderboard. The list requests
then go through the real app in-process (httpx over ASGI, lifespan entered), so the figures are the
service's time without network. Writes bench/results/leaderboard_scale.json and .md; each measure's
`pages_digest` (a hash of the names on its pages, in order) lets two runs show the same answers.
The data is deterministic (hashes, not rand()), so runs of two commits compare page for page.
"""

import argparse
import asyncio
import hashlib
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
from asgi_lifespan import LifespanManager
from common import percentile
from sqlalchemy import text

from intake_service.app import create_app
from intake_service.embedded.bootstrap import prepared_stores
from intake_service.settings import Settings
from intake_service.store.clickhouse.executor import create_executor
from intake_service.store.clickhouse.rollups import RECOMPUTE_ROLLUPS
from intake_service.store.postgres.engine import create_engine

WORKSPACE = "scale"

FILL_POSTGRES = text(
    """
    INSERT INTO experiments (id, workspace, name, dataset_name, metadata, created_at, updated_at, is_deleted)
    SELECT 'exp-' || lpad(i::text, 8, '0'), :workspace, 'exp-' || lpad(i::text, 8, '0'), 'bench', '{}'::jsonb,
           now() - make_interval(secs => i), now() - make_interval(secs => i), false
    FROM generate_series(1, :n) AS i
    """
)
FILL_SESSIONS = """
INSERT INTO sessions (workspace, experiment_id, session_id, started_at, latency_ms, status, cost_usd,
                      metadata, scores, version)
SELECT {workspace:String}, 'exp-' || leftPad(toString(intDiv(number, {per:UInt32}) + 1), 8, '0'),
       toString(number), now64(6), cityHash64(number, 1) % 5000, 'success', (cityHash64(number, 2) % 1000) / 1000.0,
       '{}', map('accuracy', (cityHash64(number, 3) % 10000) / 10000.0), 1
FROM numbers({total:UInt64})
"""


async def fill(settings: Settings, experiments: int, per: int) -> None:
    engine = create_engine(settings.database_url or "")
    async with engine.begin() as connection:
        await connection.execute(FILL_POSTGRES, {"workspace": WORKSPACE, "n": experiments})
    await engine.dispose()
    executor = create_executor(settings.clickhouse_url, settings.data_dir)
    try:
        executor.command(FILL_SESSIONS, {"workspace": WORKSPACE, "per": per, "total": experiments * per})
        ids = [f"exp-{i:08d}" for i in range(1, experiments + 1)]
        for start in range(0, len(ids), 10_000):
            executor.command(RECOMPUTE_ROLLUPS, {"workspace": WORKSPACE, "experiment_ids": ids[start : start + 10_000]})
    finally:
        executor.close()


# name → the list's query parameters (besides page and page_size=100)
MEASURES: dict[str, dict[str, str]] = {
    "sort=-created_at": {"sort": "-created_at"},
    "sort=-evaluators.accuracy.mean": {"sort": "-evaluators.accuracy.mean"},
    "sort=cost_usd.p90": {"sort": "cost_usd.p90"},
    "filter accuracy.mean >= 0.5, sort=-latency_ms.p90": {
        "sort": "-latency_ms.p90",
        "filter[evaluators.accuracy.mean][$gte]": "0.5",
    },
}


async def measure(settings: Settings, rounds: int) -> dict[str, dict[str, object]]:
    app = create_app(settings)
    results: dict[str, dict[str, object]] = {}
    async with LifespanManager(app) as manager:
        transport = httpx.ASGITransport(app=manager.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench", timeout=120) as client:
            for name, params in MEASURES.items():
                samples = []
                pages: dict[int, list[str]] = {}
                for i in range(rounds):
                    page = 1 + i % 5
                    began = time.perf_counter()
                    response = await client.get(
                        f"/apis/intake/v2/workspaces/{WORKSPACE}/experiments",
                        params={**params, "page": page, "page_size": 100},
                    )
                    samples.append((time.perf_counter() - began) * 1000)
                    response.raise_for_status()
                    pages[page] = [row["name"] for row in response.json()["data"]]
                digest = hashlib.sha256(json.dumps(sorted(pages.items())).encode()).hexdigest()[:16]
                results[name] = {
                    "p50_ms": round(statistics.median(samples), 1),
                    "p99_ms": round(percentile(samples, 99), 1),
                    "total_results": response.json()["pagination"]["total_results"],
                    "pages_digest": digest,
                }
    return results


def markdown(report: dict[str, object]) -> str:
    figures = report["list_page_100"]
    assert isinstance(figures, dict)
    lines = [
        f"`{report['command']}` (load average {report['load_average']})",
        "",
        f"{report['experiments']:,} experiments, {report['sessions']:,} sessions, filled in {report['fill_seconds']} s",
        "",
        "| list page of 100 | p50 | p99 | total_results | pages digest |",
        "|---|---|---|---|---|",
        *(
            f"| {name} | {f['p50_ms']} ms | {f['p99_ms']} ms | {f['total_results']:,} | `{f['pages_digest']}` |"
            for name, f in figures.items()
        ),
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--experiments", type=int, default=100_000)
    parser.add_argument("--sessions-per-experiment", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--results", type=Path, default=Path(__file__).parent / "results")
    parser.add_argument("--name", default="leaderboard_scale", help="the results' file name [leaderboard_scale]")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data_dir:
        with prepared_stores(Settings(data_dir=Path(data_dir), database_url=None, clickhouse_url=None)) as ready:
            began = time.perf_counter()
            asyncio.run(fill(ready, args.experiments, args.sessions_per_experiment))
            fill_seconds = time.perf_counter() - began
            load_average = " ".join(f"{load:.2f}" for load in os.getloadavg())
            figures = asyncio.run(measure(ready, args.rounds))
    report = {
        "command": "python bench/bench_leaderboard_scale.py " + " ".join(sys.argv[1:]),
        "load_average": load_average,
        "experiments": args.experiments,
        "sessions": args.experiments * args.sessions_per_experiment,
        "fill_seconds": round(fill_seconds, 1),
        "list_page_100": figures,
    }
    args.results.mkdir(parents=True, exist_ok=True)
    (args.results / f"{args.name}.json").write_text(json.dumps(report, indent=2) + "\n")
    (args.results / f"{args.name}.md").write_text(markdown(report))
    print(markdown(report))


if __name__ == "__main__":
    main()
