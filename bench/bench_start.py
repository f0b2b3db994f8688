"""Start to ready, several rounds: an empty data directory, the same directory full, and after a kill.

    python bench/bench_start.py [--rounds 5] [--workspaces 1] [--against /path/to/other/checkout/src]

Each round starts `intake-service serve` on a fresh data directory and times launch to the first
200 of /health/ready (empty), seeds --experiments experiments of 100 sessions (spread over
--workspaces workspaces, their rollup rows left stale), times its stop from SIGTERM to exit (which
stores those rows), times a start on the now full directory (full), then kills that server
(SIGKILL) and times the start that repairs after it (after kill). The times at which the server
printed its start-up steps are kept too. With --against, every round runs that source tree (its
`src`, put first on PYTHONPATH) right after this one, so both are measured back to back under the
same load. Writes bench/results/start.json and start.md with min and median per measure, and the
load average.
"""

import argparse
import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import psutil
from bench_rollups import session_batch
from common import free_port, load_average, source_trees

HERE = Path(__file__).resolve().parent
STEPS = ("Starting PostgreSQL", "Starting ClickHouse", "Migrating PostgreSQL", "Ready in")


class Run:
    """One `serve` process: seconds from launch to ready, and to each start-up step it printed."""

    def __init__(self, src: Path, data_dir: str) -> None:
        self.url = f"http://127.0.0.1:{free_port()}"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("INTAKE_", "DATABASE_URL", "CLICKHOUSE_URL"))}
        env["PYTHONPATH"] = str(src)
        self.steps: dict[str, float] = {}
        self.began = time.perf_counter()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "intake_service", "serve", "--port", self.url.rsplit(":", 1)[1],
             "--data-dir", data_dir, "--log-level", "warning"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
        )  # fmt: skip
        threading.Thread(target=self._read, daemon=True).start()
        self.ready_s = self._wait_ready()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            for step in STEPS:
                if line.decode(errors="replace").startswith(step):
                    self.steps.setdefault(step, round(time.perf_counter() - self.began, 3))

    def _wait_ready(self) -> float:
        while True:
            if self.process.poll() is not None:
                raise RuntimeError("the server exited")
            try:
                if httpx.get(f"{self.url}/health/ready", timeout=2).status_code == 200:
                    ready = time.perf_counter() - self.began
                    # CPU seconds (its own and its waited-for children's, initdb among them) depend
                    # far less on what else the machine runs than the wall-clock time does.
                    cpu = psutil.Process(self.process.pid).cpu_times()
                    self.cpu_s = cpu.user + cpu.system + cpu.children_user + cpu.children_system
                    return ready
            except httpx.TransportError:
                pass
            time.sleep(0.02)

    def stop(self, sig: int = signal.SIGTERM) -> float:
        """Seconds from the signal to the process's exit."""
        began = time.perf_counter()
        self.process.send_signal(sig)
        self.process.wait(timeout=60)
        return time.perf_counter() - began


def seed(url: str, experiments: int, workspaces: int) -> None:
    rng = random.Random(7)
    with httpx.Client(timeout=120) as http:
        for e in range(experiments):
            base = f"{url}/apis/intake/v2/workspaces/start-{e % workspaces}"
            http.post(f"{base}/experiments", json={"name": f"e{e}", "dataset_name": "d"}).raise_for_status()
            body = session_batch(e, 100, rng)
            http.post(f"{base}/experiments/e{e}/sessions", content=body,
                      headers={"content-type": "application/json"}).raise_for_status()  # fmt: skip


def one_round(src: Path, experiments: int, workspaces: int) -> dict[str, Any]:
    data_dir = tempfile.mkdtemp(prefix="intake-start-")
    try:
        empty = Run(src, data_dir)
        seed(empty.url, experiments, workspaces)
        stop_s = empty.stop()
        full = Run(src, data_dir)
        full.stop(signal.SIGKILL)
        after_kill = Run(src, data_dir)
        after_kill.stop()
        runs = {name: {"ready_s": round(run.ready_s, 3), "cpu_s": round(run.cpu_s, 3), "steps_s": run.steps}
                for name, run in (("empty", empty), ("full", full), ("after_kill", after_kill))}  # fmt: skip
        return {**runs, "stop_s": round(stop_s, 3)}
    finally:
        # A killed server leaves its PostgreSQL running: the last start adopted and stopped it.
        shutil.rmtree(data_dir, ignore_errors=True)


def summary(rounds: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    out = {}
    for name in ("empty", "full", "after_kill"):
        times = [r[name]["ready_s"] for r in rounds]
        cpu = [r[name]["cpu_s"] for r in rounds]
        out[name] = {"min": round(min(times), 2), "median": round(statistics.median(times), 2),
                     "cpu_median": round(statistics.median(cpu), 2)}  # fmt: skip
    stops = [r["stop_s"] for r in rounds]
    out["stop"] = {"min": round(min(stops), 2), "median": round(statistics.median(stops), 2)}
    return out


def markdown(result: dict[str, Any]) -> str:
    trees = list(result["trees"])
    lines = [f"`{result['command']}`", "",
             f"load average before / after: {result['load_before']} / {result['load_after']}", "",
             "| start to ready | " + " | ".join(f"{t}: min / median (CPU median)" for t in trees) + " |",
             "|---|" + "---|" * len(trees)]  # fmt: skip
    for name, label in (("empty", "empty data directory"), ("full", "full data directory"),
                        ("after_kill", "after SIGKILL (repair)")):  # fmt: skip
        cells = ["{min} / {median} s ({cpu_median} s)".format(**result["trees"][t]["summary"][name]) for t in trees]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    cells = ["{min} / {median} s".format(**result["trees"][t]["summary"]["stop"]) for t in trees]
    lines.append(f"| SIGTERM to exit, {result['workspaces']} workspace(s) stale | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5, help="rounds per source tree [5]")
    parser.add_argument("--experiments", type=int, default=20, help="experiments of 100 sessions seeded [20]")
    parser.add_argument("--workspaces", type=int, default=1, help="workspaces the experiments are spread over [1]")
    parser.add_argument("--against", type=Path, help="another source tree (its src/) measured in alternation")
    parser.add_argument("--results", type=Path, default=HERE / "results")
    args = parser.parse_args()
    trees = source_trees(args.against)
    load_before = load_average()
    rounds: dict[str, list[dict[str, Any]]] = {name: [] for name in trees}
    for i in range(args.rounds):
        for name, src in trees.items():
            rounds[name].append(one_round(src, args.experiments, args.workspaces))
            *starts, stop_s = rounds[name][-1].values()
            print(name, i, [(start["ready_s"], start["cpu_s"]) for start in starts], stop_s, flush=True)
    result = {
        "command": "python bench/bench_start.py " + " ".join(sys.argv[1:]),
        "workspaces": args.workspaces,
        "load_before": load_before,
        "load_after": load_average(),
        "trees": {name: {"src": str(trees[name]), "summary": summary(r), "rounds": r} for name, r in rounds.items()},
    }
    args.results.mkdir(parents=True, exist_ok=True)
    (args.results / "start.json").write_text(json.dumps(result, indent=2) + "\n")
    (args.results / "start.md").write_text(markdown(result))
    print(markdown(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
