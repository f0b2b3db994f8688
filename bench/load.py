"""Mixed-load driver: holds 80 % reads, 15 % ingest, 5 % writes against a fresh server, then counts.

    .venv/bin/python bench/load.py --duration 60

Starts `intake-service serve` on a free loopback port with a fresh data directory (embedded
PostgreSQL + chDB), seeds a workspace (--experiments experiments with --seed-sessions sessions
each), then runs --concurrency asyncio workers over one httpx connection pool for --duration
seconds (or until --max-requests), each picking its next request at random:

    reads   80 %: list a page (30: newest first, 10: sorted by a rollup metric), get one (25),
                  list an experiment's sessions (15)
    ingest  15 %: a batch of --batch sessions with new ids into a random experiment
    writes   5 %: create (2), PUT (2), pin (1)

It reports throughput, p50/p99 latency per route and responses by status, and afterwards counts
the sessions through the API: every session whose request got a 201 must be listed (zero lost),
and every experiment's run_count must equal its listed sessions. Writes bench/results/load.json
and load.md; exits non-zero on a 5xx, a transport error or a lost session.
"""

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
from common import cpu_by_process, free_port, percentile, profiled

WORKSPACE = "load"
BASE = f"/apis/intake/v2/workspaces/{WORKSPACE}"
MIX = [  # (route, weight in %)
    ("list", 30), ("list by metric", 10), ("get", 25), ("sessions", 15),
    ("ingest", 15),
    ("create", 2), ("put", 2), ("pin", 1),
]  # fmt: skip


@dataclass
class State:
    experiments: list[str]
    acknowledged: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    sent: int = 0
    next_id: int = 0


def session(sid: str, rng: random.Random) -> dict[str, Any]:
    return {
        "session_id": sid, "test_case_id": f"tc-{rng.randrange(100)}", "started_at": "2026-01-01T00:00:00Z",
        "latency_ms": rng.uniform(100, 5000), "status": "success", "model_name": "model-a",
        "cost_usd": rng.uniform(0.001, 0.05),
        "scores": {"accuracy": rng.random(), "passed": rng.random() < 0.7},
    }  # fmt: skip


def url_of(name: str, suffix: str = "") -> str:
    return f"{BASE}/experiments/{quote(name, safe='')}{suffix}"


async def one_request(http: httpx.AsyncClient, state: State, route: str, rng: random.Random, batch: int) -> None:
    name = rng.choice(state.experiments)
    ingested: list[str] = []
    if route == "list":
        request = http.get(f"{BASE}/experiments", params={"page_size": 20, "page": rng.randint(1, 3)})
    elif route == "list by metric":
        request = http.get(f"{BASE}/experiments", params={"page_size": 20, "sort": "-evaluators.accuracy.mean"})
    elif route == "get":
        request = http.get(url_of(name))
    elif route == "sessions":
        request = http.get(url_of(name, "/sessions"), params={"page_size": 50})
    elif route == "ingest":
        state.next_id += batch
        ingested = [f"l{state.next_id - batch + i}" for i in range(batch)]
        request = http.post(url_of(name, "/sessions"), json={"sessions": [session(s, rng) for s in ingested]})
    elif route == "create":
        name = f"new {len(state.experiments)} {rng.randrange(10**9)}"
        request = http.post(
            f"{BASE}/experiments", json={"name": name, "dataset_name": "qa", "metadata": {"load": True}}
        )
    elif route == "put":
        request = http.put(
            url_of(name), json={"name": name, "dataset_name": "qa", "description": f"rev {rng.random()}"}
        )
    else:
        request = http.post(url_of(name, "/pin"))
    started = time.perf_counter()
    try:
        response = await request
    except httpx.TransportError as exc:
        state.statuses[route][type(exc).__name__] += 1
        return
    state.latencies[route].append((time.perf_counter() - started) * 1000)
    state.statuses[route][str(response.status_code)] += 1
    if route == "ingest" and response.status_code == 201:
        state.acknowledged[name].update(ingested)
    if route == "create" and response.status_code == 201:
        state.experiments.append(name)


async def worker(http: httpx.AsyncClient, state: State, deadline: float, limit: int, seed: int, batch: int) -> None:
    rng = random.Random(seed)
    routes, weights = zip(*MIX, strict=True)
    while time.monotonic() < deadline and state.sent < limit:
        state.sent += 1
        await one_request(http, state, rng.choices(routes, weights)[0], rng, batch)


async def listed_sessions(http: httpx.AsyncClient, name: str) -> set[str]:
    ids: set[str] = set()
    page = 1
    while True:
        response = await http.get(url_of(name, "/sessions"), params={"page": page, "page_size": 1000})
        response.raise_for_status()
        body = response.json()
        ids.update(row["session_id"] for row in body["data"])
        if page >= body["pagination"]["total_pages"]:
            return ids
        page += 1


async def seed(http: httpx.AsyncClient, experiments: int, sessions: int, rng: random.Random) -> State:
    state = State(experiments=[])
    for index in range(experiments):
        name = f"exp {index:03d}"
        response = await http.post(f"{BASE}/experiments", json={"name": name, "dataset_name": "qa"})
        response.raise_for_status()
        state.experiments.append(name)
        ids = [f"seed-{index}-{i}" for i in range(sessions)]
        response = await http.post(url_of(name, "/sessions"), json={"sessions": [session(s, rng) for s in ids]})
        response.raise_for_status()
        state.acknowledged[name].update(ids)
    return state


def profile_summary(path: Path, top: int = 25) -> str:
    """The functions holding the most samples, by their own time and with their callees."""
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")[1:]  # without the thread's name
        if not frames:
            continue
        own[frames[-1]] += int(count)
        for frame in set(frames):
            inclusive[frame] += int(count)
    total = sum(own.values())
    lines = [f"{total:,} samples of every thread (idle threads included).", ""]
    ours = Counter({frame: n for frame, n in inclusive.items() if "intake_service/" in frame})
    for title, counter in (("own time", own), ("the service's functions, with callees", ours)):
        lines += [f"| {title} | % |", "|---|---|"]
        lines += [f"| `{frame}` | {100 * n / total:.1f} |" for frame, n in counter.most_common(top)]
        lines.append("")
    return "\n".join(lines)


async def run(url: str, args: argparse.Namespace, server_pid: int) -> dict[str, Any]:
    limits = httpx.Limits(max_connections=args.concurrency, max_keepalive_connections=args.concurrency)
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as http:
        state = await seed(http, args.experiments, args.seed_sessions, random.Random(0))
        with profiled(server_pid, args.py_spy, args.results / "load_profile.txt"):
            cpu_before = cpu_by_process(server_pid)
            started = time.monotonic()
            deadline = started + args.duration
            await asyncio.gather(
                *(
                    worker(http, state, deadline, args.max_requests, seed, args.batch)
                    for seed in range(args.concurrency)
                )
            )
            elapsed = time.monotonic() - started
            cpu_after = cpu_by_process(server_pid)

        # Count afterwards: every acknowledged session listed; rollups agree with the sessions.
        lost, stored, run_count_mismatches = 0, 0, []
        for name, acknowledged in state.acknowledged.items():
            listed = await listed_sessions(http, name)
            lost += len(acknowledged - listed)
            stored += len(listed)
            row = (await http.get(url_of(name))).json()
            if row["run_count"] != len(listed):
                run_count_mismatches.append((name, row["run_count"], len(listed)))
        metrics = (await http.get("/metrics")).text

    total = sum(len(v) for v in state.latencies.values()) + sum(
        n for c in state.statuses.values() for s, n in c.items() if not s.isdigit()
    )
    routes = {}
    for route, _ in MIX:
        samples = state.latencies.get(route, [])
        routes[route] = {
            "requests": sum(state.statuses[route].values()),
            "p50_ms": round(percentile(samples, 50), 1),
            "p99_ms": round(percentile(samples, 99), 1),
            "statuses": dict(sorted(state.statuses[route].items())),
        }
    statuses: Counter[str] = Counter()
    for counter in state.statuses.values():
        statuses.update(counter)
    # CPU per request: on a machine shared with other work, steadier than the throughput.
    server_cpu = sum(seconds - cpu_before.get(pid, 0.0) for pid, seconds in cpu_after.items())
    return {
        "duration_s": round(elapsed, 1),
        "server_cpu_s": round(server_cpu, 1),
        "server_cpu_ms_per_request": round(1000 * server_cpu / max(total, 1), 2),
        "concurrency": args.concurrency,
        "requests": total,
        "throughput_rps": round(total / elapsed, 1),
        "routes": routes,
        "statuses": dict(sorted(statuses.items())),
        "errors_5xx": sum(n for s, n in statuses.items() if s.startswith("5")),
        "transport_errors": sum(n for s, n in statuses.items() if not s.isdigit()),
        "sessions_acknowledged": sum(len(v) for v in state.acknowledged.values()),
        "sessions_listed": stored,
        "sessions_lost": lost,
        "run_count_mismatches": run_count_mismatches,
        "ingested_counter": next(
            (
                float(line.split()[-1])
                for line in metrics.splitlines()
                if line.startswith("intake_ingested_sessions_total ")
            ),
            None,
        ),
    }


def markdown(result: dict[str, Any], command: str) -> str:
    lines = [
        f"`{command}`",
        "",
        f"{result['requests']:,} requests in {result['duration_s']} s with {result['concurrency']} clients: "
        f"**{result['throughput_rps']:,} requests/s**, {result['server_cpu_ms_per_request']} ms of server CPU "
        f"each (PostgreSQL's included); responses {result['statuses']}; "
        f"sessions acknowledged {result['sessions_acknowledged']:,}, listed afterwards {result['sessions_listed']:,}, "
        f"lost {result['sessions_lost']}.",
        "",
        "| route | requests | p50 ms | p99 ms | statuses |",
        "|---|---|---|---|---|",
    ]
    for route, row in result["routes"].items():
        statuses = ", ".join(f"{s}: {n}" for s, n in row["statuses"].items())
        lines.append(f"| {route} | {row['requests']:,} | {row['p50_ms']} | {row['p99_ms']} | {statuses} |")
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load [60]")
    parser.add_argument("--max-requests", type=int, default=200_000, help="stop earlier after this many [200000]")
    parser.add_argument("--concurrency", type=int, default=16, help="concurrent clients [16]")
    parser.add_argument("--experiments", type=int, default=50, help="experiments seeded before the load [50]")
    parser.add_argument("--seed-sessions", type=int, default=200, help="sessions seeded into each [200]")
    parser.add_argument("--batch", type=int, default=20, help="sessions per ingest request [20]")
    parser.add_argument(
        "--results", type=Path, default=Path(__file__).parent / "results", help="where to write load.json/.md"
    )
    parser.add_argument("--py-spy", type=Path, help="a py-spy binary: profile the server during the load")
    args = parser.parse_args()
    args.results.mkdir(parents=True, exist_ok=True)

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="intake-load-") as data_dir:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("INTAKE_", "DATABASE_URL", "CLICKHOUSE_URL"))}
        log = Path(data_dir) / "serve.log"
        with log.open("wb") as out:
            server = subprocess.Popen(
                [sys.executable, "-m", "intake_service", "serve", "--port", str(port), "--data-dir", str(data_dir),
                 "--log-level", "warning"],
                stdout=out, stderr=subprocess.STDOUT, env=env,
            )  # fmt: skip
        try:
            deadline = time.monotonic() + 120
            while True:
                if server.poll() is not None:
                    raise RuntimeError(f"the server exited:\n{log.read_text()[-3000:]}")
                try:
                    if httpx.get(f"{url}/health/ready", timeout=2).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError("the server did not start")
                time.sleep(0.2)
            result = asyncio.run(run(url, args, server.pid))
        finally:
            server.terminate()
            server.wait(timeout=60)
    command = "python bench/load.py " + " ".join(sys.argv[1:])
    args.results.mkdir(parents=True, exist_ok=True)
    (args.results / "load.json").write_text(json.dumps({"command": command, **result}, indent=2) + "\n")
    (args.results / "load.md").write_text(markdown(result, command.strip()))
    if args.py_spy is not None:
        (args.results / "load_profile.md").write_text(profile_summary(args.results / "load_profile.txt"))
    print(markdown(result, command.strip()))
    failed = (
        result["errors_5xx"] or result["transport_errors"] or result["sessions_lost"] or result["run_count_mismatches"]
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
