"""Leaderboard benchmark: fill an embedded instance, then time ingest and list pages.

    python bench/bench_rollups.py --experiments 1000 --sessions 1000

Starts `intake-service serve` on a free loopback port with a fresh data directory, creates the
experiments, bulk-ingests sessions (3 evaluators each) one request per experiment, then times
list pages (page_size 100) sorted by -created_at and by -evaluators.<e>.mean. Writes JSON and a
markdown table to bench/results/.
"""

import argparse
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import orjson
from common import free_port, percentile, wait_ready

EVALUATORS = ("accuracy", "judge.helpfulness", "passed")


def session_batch(experiment: int, count: int, rng: random.Random) -> bytes:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    sessions = []
    for i in range(count):
        began = start + timedelta(seconds=i)
        sessions.append(
            {
                "session_id": f"s-{experiment}-{i}",
                "test_case_id": f"tc-{i}",
                "started_at": began.isoformat(),
                "latency_ms": rng.uniform(100, 5000),
                "status": "success",
                "model_name": "model-a",
                "agent_name": "agent",
                "agent_version": "1.0",
                "cost_usd": rng.uniform(0.001, 0.05),
                "scores": {
                    "accuracy": rng.random(),
                    "judge.helpfulness": rng.uniform(1, 5),
                    "passed": rng.random() < 0.7,
                },
            }
        )
    return orjson.dumps({"sessions": sessions})


def time_pages(client: httpx.Client, url: str, sort: str, pages: int, rounds: int) -> list[float]:
    samples = []
    for _ in range(rounds):
        for page in range(1, pages + 1):
            began = time.perf_counter()
            response = client.get(url, params={"sort": sort, "page": page, "page_size": 100})
            samples.append((time.perf_counter() - began) * 1000)
            response.raise_for_status()
    return samples


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--experiments", type=int, default=1000)
    parser.add_argument("--sessions", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    base = f"{url}/apis/intake/v2/workspaces/bench"
    with tempfile.TemporaryDirectory() as data_dir:
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "intake_service",
                "serve",
                "--port",
                str(port),
                "--data-dir",
                data_dir,
                "--log-level",
                "warning",
            ],
        )
        try:
            wait_ready(url)
            rng = random.Random(7)
            with httpx.Client(timeout=300) as client:
                for e in range(args.experiments):
                    client.post(
                        f"{base}/experiments", json={"name": f"exp-{e:05d}", "dataset_name": "bench"}
                    ).raise_for_status()
            bodies = (session_batch(e, args.sessions, rng) for e in range(args.experiments))

            def send(item: tuple[int, bytes]) -> None:
                e, body = item
                with httpx.Client(timeout=300) as c:
                    r = c.post(
                        f"{base}/experiments/exp-{e:05d}/sessions",
                        content=body,
                        headers={"content-type": "application/json"},
                    )
                    r.raise_for_status()

            began = time.perf_counter()
            with ThreadPoolExecutor(args.clients) as pool:
                list(pool.map(send, enumerate(bodies)))
            ingest_seconds = time.perf_counter() - began
            total_sessions = args.experiments * args.sessions

            with httpx.Client(timeout=60) as client:
                pages = max(1, min(10, args.experiments // 100))
                created = time_pages(client, f"{base}/experiments", "-created_at", pages, args.rounds)
                metric = time_pages(client, f"{base}/experiments", "-evaluators.accuracy.mean", pages, args.rounds)
                check = client.get(f"{base}/experiments", params={"page_size": 1}).json()
        finally:
            server.terminate()
            server.wait(60)

    result = {
        "experiments": args.experiments,
        "sessions_per_experiment": args.sessions,
        "total_sessions": total_sessions,
        "ingest_seconds": round(ingest_seconds, 2),
        "ingest_sessions_per_second": round(total_sessions / ingest_seconds),
        "list_created_at_ms": {"p50": round(statistics.median(created), 1), "p99": round(percentile(created, 99), 1)},
        "list_metric_ms": {"p50": round(statistics.median(metric), 1), "p99": round(percentile(metric, 99), 1)},
        "run_count_of_first_row": check["data"][0]["run_count"],
        "machine": {"cpus": __import__("os").cpu_count()},
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    out = Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    (out / "rollups.json").write_text(json.dumps(result, indent=2))
    created, metric = result["list_created_at_ms"], result["list_metric_ms"]
    table = (
        "| measure | value | target |\n|---|---|---|\n"
        f"| bulk ingest | {result['ingest_sessions_per_second']:,} sessions/s | ≥ 50,000 |\n"
        f"| list -created_at p50 / p99 | {created['p50']} / {created['p99']} ms | ≤ 50 / ≤ 150 |\n"
        f"| list -evaluators.accuracy.mean p50 / p99 | {metric['p50']} / {metric['p99']} ms | p50 ≤ 100 |\n"
    )
    (out / "rollups.md").write_text(table)
    print(json.dumps(result, indent=2))
    print(table)


if __name__ == "__main__":
    main()
