"""Single requests, one at a time (no other load), and the server's start and memory.

    python bench/bench_alone.py

Starts `intake-service serve` on a free loopback port with a fresh data directory and times
start-to-ready, then seeds --experiments experiments of --sessions sessions (3 evaluators) in one
workspace and a 10-run leaderboard in another, and measures, each --rounds times, one request after
another over one keep-alive connection:

    GET one experiment (with its rollups)         p50 / p99
    list page of 100 with rollups (-created_at)   p50 / p99
    leaderboard of 10 runs, sorted by a metric    p50 / p99 (percentiles in every row)
    POST 100 sessions, one request after another  sessions/s and ms per request
    POST 100 sessions, then GET the experiment    ms per pair (the read refreshes the rollups)

then resident memory when idle, and start-to-ready again on the now full data directory. Writes
bench/results/alone.json and alone.md.
"""

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import orjson
import psutil
from bench_rollups import session_batch
from common import launch, percentile


def timed(rounds: int, call: Callable[[int], httpx.Response]) -> list[float]:
    samples = []
    for i in range(rounds):
        began = time.perf_counter()
        response = call(i)
        samples.append((time.perf_counter() - began) * 1000)
        response.raise_for_status()
    return samples


def summary(samples: list[float]) -> dict[str, float]:
    return {"p50": round(statistics.median(samples), 2), "p99": round(percentile(samples, 99), 2)}


def measure(url: str, args: argparse.Namespace) -> dict[str, Any]:
    base, board = f"{url}/apis/intake/v2/workspaces/alone", f"{url}/apis/intake/v2/workspaces/board"
    rng = random.Random(7)
    json_header = {"content-type": "application/json"}
    with httpx.Client(timeout=120) as http:
        for where, count in ((base, args.experiments), (board, 10)):
            for e in range(count):
                http.post(f"{where}/experiments", json={"name": f"e{e}", "dataset_name": "d"}).raise_for_status()
                body = session_batch(e, args.sessions, rng)
                http.post(f"{where}/experiments/e{e}/sessions", content=body, headers=json_header).raise_for_status()
        http.get(f"{base}/experiments").raise_for_status()  # rollups fresh before the reads are timed
        http.get(f"{board}/experiments").raise_for_status()
        result: dict[str, Any] = {
            "get_ms": summary(timed(args.rounds, lambda i: http.get(f"{base}/experiments/e{i % args.experiments}"))),
            "list_100_ms": summary(timed(args.rounds, lambda i: http.get(
                f"{base}/experiments", params={"page_size": 100}))),
            "leaderboard_10_ms": summary(timed(args.rounds, lambda i: http.get(
                f"{board}/experiments", params={"page_size": 10, "sort": "-evaluators.accuracy.mean"}))),
        }  # fmt: skip
        bodies = [orjson.dumps({"sessions": [
            {"session_id": f"n{i}-{j}", "started_at": "2026-01-01T00:00:00Z", "latency_ms": rng.uniform(100, 5000),
             "cost_usd": rng.uniform(0.001, 0.05), "scores": {"accuracy": rng.random()}} for j in range(100)]})
            for i in range(args.rounds)]  # fmt: skip
        began = time.perf_counter()
        posts = timed(args.rounds, lambda i: http.post(
            f"{base}/experiments/e{i % 10}/sessions", content=bodies[i], headers=json_header))  # fmt: skip
        result["ingest_100_sessions/s"] = round(args.rounds * 100 / (time.perf_counter() - began))
        result["ingest_100_ms"] = summary(posts)

        def ingest_then_read(i: int) -> httpx.Response:
            body = bodies[i].replace(b'"n', b'"m')
            http.post(f"{base}/experiments/e{i % 10}/sessions", content=body, headers=json_header).raise_for_status()
            return http.get(f"{base}/experiments/e{i % 10}")

        result["ingest_100_then_get_ms"] = summary(timed(args.rounds, ingest_then_read))
        sessions = sum(http.get(f"{base}/experiments/e{e}").json()["run_count"] for e in range(args.experiments))
        result["sessions_counted"] = sessions
        result["sessions_expected"] = args.experiments * args.sessions + 2 * args.rounds * 100
    return result


def markdown(result: dict[str, Any], command: str) -> str:
    rows = [
        ("start to ready, empty data directory", f"{result['ready_empty_s']} s"),
        ("start to ready, full data directory", f"{result['ready_full_s']} s"),
        ("resident memory when idle", f"{result['idle_rss_mb']} MB"),
        ("GET one experiment p50 / p99", f"{result['get_ms']['p50']} / {result['get_ms']['p99']} ms"),
        ("list page of 100 p50 / p99", f"{result['list_100_ms']['p50']} / {result['list_100_ms']['p99']} ms"),
        ("leaderboard of 10 runs p50 / p99",
         f"{result['leaderboard_10_ms']['p50']} / {result['leaderboard_10_ms']['p99']} ms"),
        ("requests of 100 sessions, one after another",
         f"{result['ingest_100_sessions/s']:,} sessions/s (p50 {result['ingest_100_ms']['p50']} ms)"),
        ("100 sessions then GET, p50", f"{result['ingest_100_then_get_ms']['p50']} ms"),
        ("sessions counted / expected", f"{result['sessions_counted']:,} / {result['sessions_expected']:,}"),
    ]  # fmt: skip
    lines = [f"`{command}`", "", "| measure | value |", "|---|---|", *(f"| {m} | {v} |" for m, v in rows)]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--experiments", type=int, default=100, help="experiments in the workspace [100]")
    parser.add_argument("--sessions", type=int, default=100, help="sessions seeded into each [100]")
    parser.add_argument("--rounds", type=int, default=200, help="requests timed per measure [200]")
    parser.add_argument("--results", type=Path, default=Path(__file__).parent / "results")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="intake-alone-") as data_dir:
        server, url, ready_empty = launch(data_dir)
        try:
            result = {"ready_empty_s": round(ready_empty, 2), **measure(url, args)}
            time.sleep(2)
            result["idle_rss_mb"] = round(psutil.Process(server.pid).memory_info().rss / 2**20)
        finally:
            server.terminate()
            server.wait(timeout=60)
        server, url, ready_full = launch(data_dir)
        server.terminate()
        server.wait(timeout=60)
        result["ready_full_s"] = round(ready_full, 2)
    command = "python bench/bench_alone.py " + " ".join(sys.argv[1:])
    args.results.mkdir(parents=True, exist_ok=True)
    (args.results / "alone.json").write_text(json.dumps({"command": command, **result}, indent=2) + "\n")
    (args.results / "alone.md").write_text(markdown(result, command.strip()))
    print(markdown(result, command.strip()))
    return 0 if result["sessions_counted"] == result["sessions_expected"] else 1


if __name__ == "__main__":
    sys.exit(main())
