"""Resident memory of the server: idle, while and after bulk-ingesting 2,000,000 sessions over HTTP.

    python bench/bench_memory.py [--experiments 200] [--sessions 10000] [--against OTHER/src]

Starts `intake-service serve` on a fresh data directory, waits for /health/ready and takes the
resident memory (RSS) when idle; then bulk-ingests --experiments experiments of --sessions sessions
(one POST of up to 10,000 sessions each, the bulk route, from --clients threads) while sampling the
RSS every 0.2 s (peak); then reads every experiment's rollups through list pages sorted by a metric,
takes the RSS after ingest, waits --settle seconds and takes it idle again. RSS is the server
process's and its children's, if any (the embedded PostgreSQL runs apart: it is reported on its own
line, summed over its processes). Zero lost: the run counts of all experiments must add up to what
was sent. With --against, another source tree runs right after this one, on a fresh directory of
its own, so both are measured back to back. Writes bench/results/memory.json and memory.md.
"""

import argparse
import json
import random
import shutil
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import psutil
from bench_rollups import session_batch
from common import launch, load_average, source_trees

HERE = Path(__file__).resolve().parent
MB = 2**20


def rss_mb(pid: int) -> float:
    """The process's resident memory and its children's, in MB."""
    process = psutil.Process(pid)
    return sum(p.memory_info().rss for p in [process, *process.children(recursive=True)]) / MB


def postgres_rss_mb(data_dir: str) -> float:
    """The embedded PostgreSQL's processes (the postmaster and its children), in MB."""
    pid_file = Path(data_dir) / "postgres" / "postmaster.pid"
    if not pid_file.exists():
        return 0.0
    return rss_mb(int(pid_file.read_text().split()[0]))


class Sampler:
    """The highest RSS seen, sampled every 0.2 s until stopped."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak, self._stop = pid, 0.0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            self.peak = max(self.peak, rss_mb(self.pid))

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        return self.peak


def one_run(src: Path, args: argparse.Namespace) -> dict[str, Any]:
    data_dir = tempfile.mkdtemp(prefix="intake-memory-")
    server, url, _ = launch(data_dir, src)
    base = f"{url}/apis/intake/v2/workspaces/memory"
    result: dict[str, Any] = {}
    try:
        time.sleep(args.settle)
        result["idle_start_mb"] = round(rss_mb(server.pid))
        with httpx.Client(timeout=600) as http:
            for e in range(args.experiments):
                http.post(f"{base}/experiments", json={"name": f"e{e:04d}", "dataset_name": "d"}).raise_for_status()
        sampler = Sampler(server.pid)
        rng = random.Random(7)
        lock = threading.Lock()

        def send(e: int) -> None:
            with lock:  # one body built at a time: the generator's own memory stays small
                body = session_batch(e, args.sessions, rng)
            with httpx.Client(timeout=600) as http:
                http.post(f"{base}/experiments/e{e:04d}/sessions", content=body,
                          headers={"content-type": "application/json"}).raise_for_status()  # fmt: skip

        began = time.perf_counter()
        with ThreadPoolExecutor(args.clients) as pool:
            list(pool.map(send, range(args.experiments)))
        result["ingest_s"] = round(time.perf_counter() - began, 1)
        result["sessions_per_s"] = round(args.experiments * args.sessions / result["ingest_s"])
        counted = 0
        with httpx.Client(timeout=600) as http:
            # Reading every experiment's rollups (the rewrite of stale rows, the in-memory row cache).
            for page in range(1, -(-args.experiments // 100) + 1):
                listed = http.get(f"{base}/experiments", params={
                    "page": page, "page_size": 100, "sort": "-evaluators.accuracy.mean"}).json()  # fmt: skip
                counted += sum(item["run_count"] for item in listed["data"])
        result["peak_mb"] = round(max(sampler.stop(), rss_mb(server.pid)))
        result["after_ingest_mb"] = round(rss_mb(server.pid))
        time.sleep(args.settle)
        result["idle_after_mb"] = round(rss_mb(server.pid))
        result["postgres_mb"] = round(postgres_rss_mb(data_dir))
        result["sessions_counted"] = counted
        result["sessions_sent"] = args.experiments * args.sessions
    finally:
        server.terminate()
        server.wait(timeout=120)
        shutil.rmtree(data_dir, ignore_errors=True)
    return result


ROWS = (
    ("idle_start_mb", "RSS idle after start", "MB"),
    ("peak_mb", "RSS peak while ingesting", "MB"),
    ("after_ingest_mb", "RSS after ingest and reading every rollup", "MB"),
    ("idle_after_mb", "RSS idle after that", "MB"),
    ("postgres_mb", "embedded PostgreSQL (apart)", "MB"),
    ("ingest_s", "ingest time", "s"),
    ("sessions_per_s", "sessions/s", ""),
    ("sessions_counted", "sessions counted (sent: see JSON)", ""),
)


def markdown(result: dict[str, Any]) -> str:
    runs = result["runs"]
    lines = [f"`{result['command']}`", "",
             f"load average before / after: {result['load_before']} / {result['load_after']}", "",
             "| measure | " + " | ".join(runs) + " |", "|---|" + "---|" * len(runs)]  # fmt: skip
    for key, label, unit in ROWS:
        lines.append(f"| {label} | " + " | ".join(f"{runs[r][key]:,} {unit}".strip() for r in runs) + " |")
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--experiments", type=int, default=200, help="experiments [200]")
    parser.add_argument("--sessions", type=int, default=10_000, help="sessions per experiment, one request [10000]")
    parser.add_argument("--clients", type=int, default=2, help="threads sending [2]")
    parser.add_argument("--settle", type=float, default=5.0, help="seconds idle before an idle reading [5]")
    parser.add_argument("--against", type=Path, help="another source tree (its src/) measured right after")
    parser.add_argument("--results", type=Path, default=HERE / "results")
    args = parser.parse_args()
    trees = source_trees(args.against)
    load_before = load_average()
    runs = {}
    for name, src in trees.items():
        runs[name] = one_run(src, args)
        print(name, runs[name], flush=True)
    result = {
        "command": "python bench/bench_memory.py " + " ".join(sys.argv[1:]),
        "load_before": load_before,
        "load_after": load_average(),
        "trees": {name: str(src) for name, src in trees.items()},
        "runs": runs,
    }
    args.results.mkdir(parents=True, exist_ok=True)
    (args.results / "memory.json").write_text(json.dumps(result, indent=2) + "\n")
    (args.results / "memory.md").write_text(markdown(result))
    print(markdown(result))
    return 0 if all(r["sessions_counted"] == r["sessions_sent"] for r in runs.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
