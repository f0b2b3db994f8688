"""Session ingest throughput over HTTP: bulk batches from several threads, and small requests in a row.

    python bench/bench_ingest.py [--py-spy /path/to/py-spy]

Starts `intake-service serve` on a free loopback port with a fresh data directory (embedded
PostgreSQL + chDB) and measures, each on its own server:

    bulk    --experiments experiments × --sessions sessions (3 evaluators), one request per
            experiment, sent from --threads client threads (each its own keep-alive connection)
    small   --small-experiments experiments × 100 sessions, one request each, one after another
            (the shape users' scripts send), then --rounds requests of 100 sessions one after
            another over the same experiments: sessions/s and ms per request

Every request is answered only after its sessions are stored, so the figures include all of that.
Beside each rate: the server's CPU time per 1,000 sessions (bench/common.cpu_seconds), which compares
two builds on a shared machine where the rates swing with the load.
At the end each experiment's sessions are counted through the API (the session list's total and
the experiment's run_count): every acknowledged session must be there (zero lost), else the script
exits non-zero. Writes bench/results/ingest.json and ingest.md (and, with --py-spy, ingest_profile_*.md of
the timed requests alone).
"""

import argparse
import json
import random
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
from bench_rollups import session_batch
from common import cpu_seconds, load_average, percentile, profiled, serve
from load import profile_summary

JSON = {"content-type": "application/json"}


def create(base: str, count: int) -> None:
    with httpx.Client(timeout=120) as http:
        for e in range(count):
            http.post(f"{base}/experiments", json={"name": f"e{e}", "dataset_name": "d"}).raise_for_status()


def profile_of(args: argparse.Namespace, part: str) -> Path:
    """Where --py-spy writes the raw stacks of a part's timed requests."""
    return args.results / f"ingest_profile_{part}.txt"


def lost_sessions(base: str, expected: dict[str, int]) -> dict[str, Any]:
    """Each experiment's stored sessions against the acknowledged ones: the list's total and run_count."""
    listed = counted = 0
    mismatched = []
    with httpx.Client(timeout=120) as http:
        for name, count in expected.items():
            page = http.get(f"{base}/experiments/{name}/sessions", params={"page_size": 1}).json()
            total = page["pagination"]["total_results"]
            run_count = http.get(f"{base}/experiments/{name}").json()["run_count"]
            listed, counted = listed + total, counted + run_count
            if total != count or run_count != count:
                mismatched.append({"experiment": name, "acknowledged": count, "listed": total, "run_count": run_count})
    acknowledged = sum(expected.values())
    return {"acknowledged": acknowledged, "listed": listed, "run_count": counted,
            "lost": acknowledged - listed, "mismatched": mismatched[:10]}  # fmt: skip


def bulk(base: str, pid: int, args: argparse.Namespace) -> dict[str, Any]:
    create(base, args.experiments)
    rng = random.Random(7)
    bodies = [(e, session_batch(e, args.sessions, rng)) for e in range(args.experiments)]
    local = threading.local()
    clients: list[httpx.Client] = []

    def send(item: tuple[int, bytes]) -> None:
        if not hasattr(local, "http"):
            local.http = httpx.Client(timeout=300)
            clients.append(local.http)
        e, body = item
        local.http.post(f"{base}/experiments/e{e}/sessions", content=body, headers=JSON).raise_for_status()

    began, cpu = time.perf_counter(), cpu_seconds(pid)
    with profiled(pid, args.py_spy, profile_of(args, "bulk")), ThreadPoolExecutor(args.threads) as pool:
        list(pool.map(send, bodies))
    seconds, cpu = time.perf_counter() - began, cpu_seconds(pid) - cpu
    for http in clients:
        http.close()
    total = args.experiments * args.sessions
    return {
        "sessions": total,
        "seconds": round(seconds, 2),
        "sessions_per_second": round(total / seconds),
        "server_cpu_ms_per_1000_sessions": round(cpu * 1000 / total * 1000, 1),
        "stored": lost_sessions(base, {f"e{e}": args.sessions for e in range(args.experiments)}),
    }


def small(base: str, pid: int, args: argparse.Namespace) -> dict[str, Any]:
    count = args.small_experiments
    create(base, count)
    rng = random.Random(7)
    bodies = [session_batch(k, 100, rng) for k in range(count + args.rounds)]  # ids s-<k>-<i>: all distinct
    samples: list[float] = []
    cpu = cpu_seconds(pid)
    with profiled(pid, args.py_spy, profile_of(args, "small")), httpx.Client(timeout=120) as http:
        for k, body in enumerate(bodies):
            began = time.perf_counter()
            http.post(f"{base}/experiments/e{k % count}/sessions", content=body, headers=JSON).raise_for_status()
            samples.append((time.perf_counter() - began) * 1000)
    cpu = cpu_seconds(pid) - cpu
    first, rest = samples[:count], samples[count:]
    per_experiment = {f"e{e}": 100 * len(range(e, len(bodies), count)) for e in range(count)}
    return {
        "one_request_each": {"requests": count, "sessions_per_second": round(100 * count / (sum(first) / 1000))},
        "in_a_row": {
            "requests": len(rest),
            "sessions_per_second": round(100 * len(rest) / (sum(rest) / 1000)),
            "p50_ms": round(statistics.median(rest), 2),
            "p99_ms": round(percentile(rest, 99), 2),
        },
        "server_cpu_ms_per_1000_sessions": round(cpu * 1000 / (100 * len(bodies)) * 1000, 1),
        "stored": lost_sessions(base, per_experiment),
    }


def markdown(result: dict[str, Any]) -> str:
    rows = []
    if "bulk" in result:
        b = result["bulk"]
        stored = f"{b['stored']['listed']:,} / {b['stored']['acknowledged']:,}"
        value = f"{b['sessions_per_second']:,} sessions/s ({b['server_cpu_ms_per_1000_sessions']} ms CPU / 1,000)"
        rows.append((f"bulk ingest, {result['shape']['bulk']}", value, stored))
    if "small" in result:
        s, row = result["small"], result["small"]["in_a_row"]
        stored = f"{s['stored']['listed']:,} / {s['stored']['acknowledged']:,}"
        each = f"{s['one_request_each']['sessions_per_second']:,} sessions/s"
        rows.append((f"{result['shape']['small']}, one request each", each, ""))
        value = f"{row['sessions_per_second']:,} sessions/s (p50 {row['p50_ms']} ms, p99 {row['p99_ms']} ms)"
        value += f"; server CPU {s['server_cpu_ms_per_1000_sessions']} ms / 1,000 sessions (both rows)"
        rows.append((f"{row['requests']} requests of 100 sessions, one after another", value, stored))
    lines = [f"`{result['command']}` (load average before: {result['load_average']})", "",
             "| measure | value | stored / acknowledged |", "|---|---|---|"]  # fmt: skip
    lines += [f"| {a} | {b} | {c} |" for a, b, c in rows]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--part", choices=("bulk", "small", "all"), default="all")
    parser.add_argument("--experiments", type=int, default=200, help="bulk: experiments, one request each [200]")
    parser.add_argument("--sessions", type=int, default=1000, help="bulk: sessions per request [1000]")
    parser.add_argument("--threads", type=int, default=4, help="bulk: client threads [4]")
    parser.add_argument("--small-experiments", type=int, default=10, help="small: experiments [10]")
    parser.add_argument("--rounds", type=int, default=200, help="small: requests of 100 sessions in a row [200]")
    parser.add_argument("--py-spy", type=Path, help="a py-spy binary: profile the server during each part")
    parser.add_argument("--results", type=Path, default=Path(__file__).parent / "results")
    args = parser.parse_args()
    args.results.mkdir(parents=True, exist_ok=True)
    result: dict[str, Any] = {
        "command": "python bench/bench_ingest.py " + " ".join(sys.argv[1:]),
        "load_average": load_average(),
        "shape": {"bulk": f"{args.experiments} × {args.sessions:,} sessions, {args.threads} threads",
                  "small": f"{args.small_experiments} experiments × 100 sessions"},
    }  # fmt: skip
    parts = {"bulk": bulk, "small": small}
    for name, run in parts.items():
        if args.part not in (name, "all"):
            continue
        with tempfile.TemporaryDirectory(prefix="intake-ingest-") as data_dir, serve(data_dir) as server:
            result[name] = run(f"{server.url}/apis/intake/v2/workspaces/bench", server.pid, args)
        if args.py_spy is not None:
            profile_of(args, name).with_suffix(".md").write_text(profile_summary(profile_of(args, name)))
    (args.results / "ingest.json").write_text(json.dumps(result, indent=2) + "\n")
    (args.results / "ingest.md").write_text(markdown(result))
    print(markdown(result))
    lost = [result[n]["stored"] for n in parts if n in result]
    return 1 if any(s["lost"] or s["mismatched"] for s in lost) else 0


if __name__ == "__main__":
    sys.exit(main())
