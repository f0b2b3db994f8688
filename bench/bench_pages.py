"""How long a container's leaderboard page takes in a real browser with many runs: starts
`intake-service serve` on a free loopback port with a fresh data directory, creates one container of
N runs (S sessions each, 3 evaluators), then opens the page in headless Chromium (Debian's, through
Playwright) R times and times until the table shows its first page, until the pareto chart has a point
per run, and a click that re-sorts the table by cost; then the table's own API request alone. Writes
bench/results/pages.json and pages.md (`--api-only`: the API request alone, no browser).

    .venv/bin/python bench/bench_pages.py --runs 1000 --sessions 20
"""

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import httpx
from common import free_port, wait_ready
from playwright.async_api import async_playwright, expect

FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-quic", "--no-first-run",
         "--disable-component-update", "--disable-sync"]  # fmt: skip


def seed(base: str, runs: int, sessions: int) -> None:
    with httpx.Client(base_url=base, timeout=300) as http:
        pareto = {"x_metric": "cost_usd", "y_metric": "evaluators.accuracy"}
        body = {"name": "bench", "default_sort": "-evaluators.accuracy.mean", "pareto": pareto}
        group = http.post("/experiment-groups", json=body)
        group.raise_for_status()
        group_id = group.json()["id"]

    def one(index: int) -> None:
        rng = random.Random(index)
        name = f"run-{index:05d}"
        rows = [{"session_id": f"{name}-{s}", "test_case_id": f"t{s}", "started_at": "2026-01-01T00:00:00Z",
                 "latency_ms": rng.uniform(100, 5000), "cost_usd": rng.uniform(0.001, 0.05),
                 "input_tokens": rng.randint(100, 900), "output_tokens": rng.randint(10, 200),
                 "scores": {"accuracy": rng.random(), "helpfulness": rng.random(), "safety": rng.random()}}
                for s in range(sessions)]  # fmt: skip
        with httpx.Client(base_url=base, timeout=300) as http:
            body = {"name": name, "dataset_name": "bench", "experiment_ids": [group_id]}
            http.post("/evaluations", json=body).raise_for_status()
            http.post(f"/experiments/{name}/sessions", json={"sessions": rows}).raise_for_status()

    with ThreadPoolExecutor(2) as pool:
        list(pool.map(one, range(runs)))


async def measure(url: str, runs: int, rounds: int) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {"table_ms": [], "pareto_ms": [], "sort_ms": []}
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path="/usr/bin/chromium", args=FLAGS)
        for _ in range(rounds):
            page = await browser.new_page()
            began = time.perf_counter()
            await page.goto(f"{url}/ui/workspaces/bench/containers/bench")
            await page.wait_for_selector("#leaderboard tbody tr", timeout=300_000)
            times["table_ms"].append((time.perf_counter() - began) * 1000)
            # A locator, not wait_for_function: the pages' CSP forbids the eval that a string predicate needs.
            await expect(page.locator("#pareto circle.point")).to_have_count(runs, timeout=300_000)
            times["pareto_ms"].append((time.perf_counter() - began) * 1000)
            began = time.perf_counter()
            await page.click("#leaderboard th[data-column=cost_usd] button")
            await page.wait_for_selector("#leaderboard th[data-column=cost_usd]:has-text('▲')", timeout=300_000)
            times["sort_ms"].append((time.perf_counter() - began) * 1000)
            await page.close()
        await browser.close()
    return times


def api_page(base: str, rounds: int) -> list[float]:
    """The table's own request alone: one page of 25 runs by the default sort, as the page asks."""
    times = []
    with httpx.Client(base_url=base, timeout=300) as http:
        group_id = http.get("/experiment-groups/bench").json()["id"]
        params = {"page_size": 25, "sort": "-evaluators.accuracy.mean",
                  "filter": json.dumps({"experiment_group_id": group_id})}  # fmt: skip
        for _ in range(rounds):
            began = time.perf_counter()
            http.get("/evaluations", params=params).raise_for_status()
            times.append((time.perf_counter() - began) * 1000)
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--api-only", action="store_true", help="time the table's API request alone, no browser")
    parser.add_argument("--name", default="pages", help="the results' file name [pages]")
    args = parser.parse_args()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as data_dir:
        command = [sys.executable, "-m", "intake_service", "serve", "--port", str(port), "--data-dir", data_dir,
                   "--log-level", "warning"]  # fmt: skip
        server = subprocess.Popen(command)
        try:
            wait_ready(url)
            seed(f"{url}/apis/intake/v2/workspaces/bench", args.runs, args.sessions)
            times = {} if args.api_only else asyncio.run(measure(url, args.runs, args.rounds))
            load_average = " ".join(f"{load:.2f}" for load in os.getloadavg())
            times["api_page_ms"] = api_page(f"{url}/apis/intake/v2/workspaces/bench", args.rounds)
        finally:
            server.terminate()
            server.wait(60)
    result = {
        "command": "python bench/bench_pages.py " + " ".join(sys.argv[1:]),
        "load_average": load_average,
        "runs": args.runs,
        "sessions_per_run": args.sessions,
        **{name: {"median": round(statistics.median(v), 1), "max": round(max(v), 1)} for name, v in times.items()},
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    out = Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    (out / f"{args.name}.json").write_text(json.dumps(result, indent=2) + "\n")
    lines = [f"`{result['command']}` (load average {load_average})", "", "| measure | median | max |", "|---|---|---|"]
    lines += [f"| {name} | {v['median']} ms | {v['max']} ms |" for name, v in result.items() if isinstance(v, dict)]
    (out / f"{args.name}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
