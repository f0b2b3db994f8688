"""Single requests, one at a time (no other load), and the server's start and memory.

    python bench/bench_alone.py [--reads-only] [--against OTHER/src]

Starts `intake-service serve` on a free loopback port with a fresh data directory and times
start-to-ready, then seeds --experiments experiments of --sessions sessions (3 evaluators) in one
workspace and a 10-run leaderboard in another, and measures, each --rounds times, one request after
another over one keep-alive connection:

    GET /health/live (the client's and server's own cost: the floor of every request)  p50 / p99
    GET one experiment (with its rollups)         p50 / p99
    list page of 100 with rollups (-created_at)   p50 / p99
    leaderboard of 10 runs, sorted by a metric    p50 / p99 (percentiles in every row)
    POST 100 sessions, one request after another  sessions/s and ms per request
    POST 100 sessions, then GET the experiment    ms per pair (the read refreshes the rollups)
    the same without costs                        ms per pair (a mean over no values is NaN)

then resident memory when idle, and start-to-ready again on the now full data directory. Writes
bench/results/alone.json and alone.md.

--reads-only measures only the floor and the three reads. --against OTHER/src (implies --reads-only)
starts a second server from that source tree, seeds it the same, and times both in alternation, ten
requests at a time, so a shared machine's load falls on both alike; alone_ab.json and alone_ab.md.
With --api-key, both serve with --auth api-key and every request carries a key (as any deployment
beyond loopback does). The CPU figures are the server's, its embedded PostgreSQL's included.
"""

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import orjson
import psutil
from bench_rollups import session_batch
from common import cpu_seconds, create_key, launch, load_average, percentile, source_trees

ALONE, BOARD = "apis/intake/v2/workspaces/alone", "apis/intake/v2/workspaces/board"
JSON_HEADER = {"content-type": "application/json"}


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


def seed(http: httpx.Client, url: str, args: argparse.Namespace) -> None:
    """--experiments experiments of --sessions sessions in workspace alone, 10 in workspace board."""
    rng = random.Random(7)
    for where, count in ((f"{url}/{ALONE}", args.experiments), (f"{url}/{BOARD}", 10)):
        for e in range(count):
            http.post(f"{where}/experiments", json={"name": f"e{e}", "dataset_name": "d"}).raise_for_status()
            body = session_batch(e, args.sessions, rng)
            http.post(f"{where}/experiments/e{e}/sessions", content=body, headers=JSON_HEADER).raise_for_status()
        http.get(f"{where}/experiments").raise_for_status()  # rollups fresh before the reads are timed


def reads(http: httpx.Client, url: str, experiments: int) -> dict[str, Callable[[int], httpx.Response]]:
    """The requests timed one after another, by their result's key."""
    base, board = f"{url}/{ALONE}", f"{url}/{BOARD}"
    return {
        "health_live_ms": lambda i: http.get(f"{url}/health/live"),
        "get_ms": lambda i: http.get(f"{base}/experiments/e{i % experiments}"),
        "list_100_ms": lambda i: http.get(f"{base}/experiments", params={"page_size": 100}),
        "leaderboard_10_ms": lambda i: http.get(
            f"{board}/experiments", params={"page_size": 10, "sort": "-evaluators.accuracy.mean"}),
    }  # fmt: skip


def measure(url: str, args: argparse.Namespace) -> dict[str, Any]:
    base = f"{url}/{ALONE}"
    rng = random.Random(7)
    with httpx.Client(timeout=120) as http:
        seed(http, url, args)
        result: dict[str, Any] = {
            key: summary(timed(args.rounds, call)) for key, call in reads(http, url, args.experiments).items()
        }
        if args.reads_only:
            return result
        bodies = [orjson.dumps({"sessions": [
            {"session_id": f"n{i}-{j}", "started_at": "2026-01-01T00:00:00Z", "latency_ms": rng.uniform(100, 5000),
             "cost_usd": rng.uniform(0.001, 0.05), "scores": {"accuracy": rng.random()}} for j in range(100)]})
            for i in range(args.rounds)]  # fmt: skip
        began = time.perf_counter()
        posts = timed(args.rounds, lambda i: http.post(
            f"{base}/experiments/e{i % 10}/sessions", content=bodies[i], headers=JSON_HEADER))  # fmt: skip
        result["ingest_100_sessions/s"] = round(args.rounds * 100 / (time.perf_counter() - began))
        result["ingest_100_ms"] = summary(posts)

        def ingest_then_read(i: int) -> httpx.Response:
            body = bodies[i].replace(b'"n', b'"m')
            http.post(f"{base}/experiments/e{i % 10}/sessions", content=body, headers=JSON_HEADER).raise_for_status()
            return http.get(f"{base}/experiments/e{i % 10}")

        result["ingest_100_then_get_ms"] = summary(timed(args.rounds, ingest_then_read))
        # Into experiments that have had no cost: their rollups' cost mean and quantiles are NaN.
        for i, body in enumerate(bodies):
            session_list = orjson.loads(body.replace(b'"n', b'"u'))["sessions"]
            bodies[i] = orjson.dumps({"sessions": [{**one, "cost_usd": None} for one in session_list]})
        http.post(f"{base}/experiments", json={"name": "uncosted", "dataset_name": "d"}).raise_for_status()
        uncosted = f"{base}/experiments/uncosted"

        def uncosted_then_read(i: int) -> httpx.Response:
            http.post(f"{uncosted}/sessions", content=bodies[i], headers=JSON_HEADER).raise_for_status()
            return http.get(uncosted)

        result["ingest_100_uncosted_then_get_ms"] = summary(timed(args.rounds, uncosted_then_read))
        sessions = sum(http.get(f"{base}/experiments/e{e}").json()["run_count"] for e in range(args.experiments))
        result["sessions_counted"] = sessions + http.get(uncosted).json()["run_count"]
        result["sessions_expected"] = args.experiments * args.sessions + 3 * args.rounds * 100
    return result


def measure_ab(servers: dict[str, tuple[str, int, dict[str, str]]], args: argparse.Namespace) -> dict[str, Any]:
    """The reads of each server, in alternation ten requests at a time, each over its own keep-alive
    connection; beside the wall times, the server's CPU per request (it moves far less with the load
    of a shared machine)."""
    clients = {tree: httpx.Client(timeout=120, headers=headers) for tree, (_, _, headers) in servers.items()}
    try:
        for tree, (url, _, _) in servers.items():
            seed(clients[tree], url, args)
        calls = {tree: reads(clients[tree], url, args.experiments) for tree, (url, _, _) in servers.items()}
        result: dict[str, dict[str, Any]] = {tree: {} for tree in servers}
        for key in calls["this"]:
            samples: dict[str, list[float]] = {tree: [] for tree in servers}
            cpu = dict.fromkeys(servers, 0.0)
            for block in range(0, args.rounds, 10):
                for tree, (_, pid, _) in servers.items():
                    began = cpu_seconds(pid)
                    samples[tree] += timed(min(10, args.rounds - block), partial(_shifted, calls[tree][key], block))
                    cpu[tree] += cpu_seconds(pid) - began
            for tree in servers:
                result[tree][key] = {**summary(samples[tree]), "cpu": round(cpu[tree] * 1000 / args.rounds, 2)}
        return result
    finally:
        for client in clients.values():
            client.close()


def _shifted(call: Callable[[int], httpx.Response], by: int, i: int) -> httpx.Response:
    return call(by + i)


READ_ROWS = (
    ("GET /health/live (the floor) p50 / p99", "health_live_ms"),
    ("GET one experiment p50 / p99", "get_ms"),
    ("list page of 100 p50 / p99", "list_100_ms"),
    ("leaderboard of 10 runs p50 / p99", "leaderboard_10_ms"),
)


def markdown_ab(result: dict[str, Any], command: str) -> str:
    trees = [tree for tree in ("this", "against") if tree in result]
    lines = [f"`{command}` (load average {result['load_average']})", "",
             "| measure | " + " | ".join(f"{t} ({result['trees'][t]})" for t in trees) + " |",
             "|---|" + "---|" * len(trees)]  # fmt: skip
    for label, key in READ_ROWS:
        cells = (f"{r['p50']} / {r['p99']} ms (CPU {r['cpu']} ms)" for r in (result[t][key] for t in trees))
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def markdown(result: dict[str, Any], command: str) -> str:
    if "ingest_100_ms" not in result:
        lines = [f"`{command}` (load average {result['load_average']})", "", "| measure | value |", "|---|---|"]
        lines += [f"| {label} | {result[key]['p50']} / {result[key]['p99']} ms |" for label, key in READ_ROWS]
        return "\n".join(lines) + "\n"
    rows = [
        ("start to ready, empty data directory", f"{result['ready_empty_s']} s"),
        ("start to ready, full data directory", f"{result['ready_full_s']} s"),
        ("resident memory when idle", f"{result['idle_rss_mb']} MB"),
        ("GET /health/live (the floor) p50 / p99",
         f"{result['health_live_ms']['p50']} / {result['health_live_ms']['p99']} ms"),
        ("GET one experiment p50 / p99", f"{result['get_ms']['p50']} / {result['get_ms']['p99']} ms"),
        ("list page of 100 p50 / p99", f"{result['list_100_ms']['p50']} / {result['list_100_ms']['p99']} ms"),
        ("leaderboard of 10 runs p50 / p99",
         f"{result['leaderboard_10_ms']['p50']} / {result['leaderboard_10_ms']['p99']} ms"),
        ("requests of 100 sessions, one after another",
         f"{result['ingest_100_sessions/s']:,} sessions/s (p50 {result['ingest_100_ms']['p50']} ms)"),
        ("100 sessions then GET, p50", f"{result['ingest_100_then_get_ms']['p50']} ms"),
        ("the same without costs, p50", f"{result['ingest_100_uncosted_then_get_ms']['p50']} ms"),
        ("sessions counted / expected", f"{result['sessions_counted']:,} / {result['sessions_expected']:,}"),
    ]  # fmt: skip
    lines = [f"`{command}`", "", "| measure | value |", "|---|---|", *(f"| {m} | {v} |" for m, v in rows)]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--experiments", type=int, default=100, help="experiments in the workspace [100]")
    parser.add_argument("--sessions", type=int, default=100, help="sessions seeded into each [100]")
    parser.add_argument("--rounds", type=int, default=200, help="requests timed per measure [200]")
    parser.add_argument("--reads-only", action="store_true", help="only the floor and the three reads")
    parser.add_argument("--against", type=Path, help="another source tree (its src/) measured in alternation")
    parser.add_argument("--api-key", action="store_true", help="with --against: --auth api-key, requests with a key")
    parser.add_argument("--results", type=Path, default=Path(__file__).parent / "results")
    args = parser.parse_args()
    command = "python bench/bench_alone.py " + " ".join(sys.argv[1:])
    args.results.mkdir(parents=True, exist_ok=True)
    if args.against:
        return against(args, command.strip())
    with tempfile.TemporaryDirectory(prefix="intake-alone-") as data_dir:
        server, url, ready_empty = launch(data_dir)
        try:
            result = {"ready_empty_s": round(ready_empty, 2), **measure(url, args)}
            result["load_average"] = load_average()
            if args.reads_only:
                return report(args, command, result)
            time.sleep(2)
            result["idle_rss_mb"] = round(psutil.Process(server.pid).memory_info().rss / 2**20)
        finally:
            server.terminate()
            server.wait(timeout=60)
        server, url, ready_full = launch(data_dir)
        server.terminate()
        server.wait(timeout=60)
        result["ready_full_s"] = round(ready_full, 2)
    return report(args, command, result)


def report(args: argparse.Namespace, command: str, result: dict[str, Any]) -> int:
    (args.results / "alone.json").write_text(json.dumps({"command": command, **result}, indent=2) + "\n")
    (args.results / "alone.md").write_text(markdown(result, command.strip()))
    print(markdown(result, command.strip()))
    return 0 if result.get("sessions_counted") == result.get("sessions_expected") else 1


def against(args: argparse.Namespace, command: str) -> int:
    trees = source_trees(args.against)
    with ExitStack() as stack:
        servers = {}
        for tree, src in trees.items():
            data_dir = stack.enter_context(tempfile.TemporaryDirectory(prefix=f"intake-alone-{tree}-"))
            headers, serve_args = {}, ()
            if args.api_key:
                headers, serve_args = {"X-API-Key": create_key(data_dir, src)}, ("--auth", "api-key")
            server, url, _ = launch(data_dir, src, serve_args=serve_args)
            stack.callback(server.wait, timeout=60)
            stack.callback(server.terminate)
            servers[tree] = (url, server.pid, headers)
        result = {"trees": {tree: str(src) for tree, src in trees.items()}, **measure_ab(servers, args)}
    result["load_average"] = load_average()
    (args.results / "alone_ab.json").write_text(json.dumps({"command": command, **result}, indent=2) + "\n")
    (args.results / "alone_ab.md").write_text(markdown_ab(result, command))
    print(markdown_ab(result, command))
    return 0


if __name__ == "__main__":
    sys.exit(main())
