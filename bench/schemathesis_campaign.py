"""schemathesis campaign against `intake-service serve`, auth on and off (issue 11's evidence).

    python bench/schemathesis_campaign.py --seeds 11,22,33 --max-examples 12 --jobs 2

For each seed and each auth mode (api-key, none) two servers, each started with a fresh data
directory: one for the examples, coverage and fuzzing phases, one for the stateful phase alone. Each
server is driven through both documents it serves, one schemathesis run per document: the root's
/openapi.json (SDK 0.1.x-0.3.0 and the workbench) and /nemo-0.4/openapi.json (SDK 0.4.0+). With auth
on each server gets its own `*` admin key, made by `intake-service keys create` before the server
starts, so a stateful run that revokes keys can only revoke keys of its own server. Every run has
all checks on. Before the runs the script creates a workspace with two experiments, two experiment
groups (the /nemo-0.4 mount's containers) of the same names and a session, offered to schemathesis
as dictionary values so fuzzing reaches past the 404s. `--jobs 2` drives two servers at once.

The figures come from both sides: schemathesis's JSON report (cases, failures by check) and the
server's own /metrics (requests answered, by status class, which is where 5xx are counted). After a
run with auth on the key is tried once more, to show it still works. Writes
bench/results/schemathesis.json and schemathesis.md; exits 1 when any run had a failure, an error
or a 5xx.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import Any

import httpx
from common import free_port, wait_ready
from prometheus_client.parser import text_string_to_metric_families

SCHEMATHESIS = Path(sys.executable).parent / "schemathesis"
WORKSPACE = "campaign"
EXPERIMENTS = ("exp-a", "exp b")
SCOPES = ("intake:read", "intake:write", "intake:admin", "ml-workbench:read", "ml-workbench:write")
RUNS = (("examples,coverage,fuzzing", "stateless"), ("stateful", "stateful"))
# Each server's two documents: the root's and the /nemo-0.4 mount's.
DOCUMENTS = {"root": "/openapi.json", "nemo-0.4": "/nemo-0.4/openapi.json"}


def server_env() -> dict[str, str]:
    """The caller's environment without settings that would point the server elsewhere."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("INTAKE_", "DATABASE_URL", "CLICKHOUSE_URL"))}


def create_key(data_dir: Path, name: str) -> str:
    command = [sys.executable, "-m", "intake_service", "keys", "create", name, "--data-dir", str(data_dir)]
    for scope in SCOPES:
        command += ["--scope", scope]
    result = subprocess.run(command, env=server_env(), capture_output=True, text=True, timeout=300, check=True)
    return result.stdout.strip().splitlines()[-1]


def seed_data(url: str, headers: dict[str, str]) -> None:
    base = f"{url}/apis/intake/v2/workspaces/{WORKSPACE}"
    with httpx.Client(timeout=60, headers=headers) as http:
        for name in EXPERIMENTS:
            response = http.post(f"{base}/experiments", json={"name": name, "dataset_name": "d"})
            assert response.status_code == 201, response.text
            response = http.post(f"{base}/experiment-groups", json={"name": name})
            assert response.status_code == 201, response.text
        session = {"session_id": "s1", "started_at": "2026-01-01T00:00:00Z", "scores": {"acc": 1}}
        response = http.post(f"{base}/experiments/exp-a/sessions", json={"sessions": [session]})
        assert response.status_code == 201, response.text


def config_file(directory: Path) -> Path:
    path = directory / "schemathesis.toml"
    path.write_text(
        f"""
[dictionaries.workspaces]
values = ["{WORKSPACE}"]
[dictionaries.experiments]
values = {json.dumps(list(EXPERIMENTS))}
[dictionaries.sessions]
values = ["s1"]

# A 413 (too many sessions in one request) refuses the request as surely as a 422.
[checks.negative_data_rejection]
expected-statuses = ["400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "428", "429", "5xx"]

[parameters]
"path.workspace" = {{ dictionary = "workspaces", probability = 0.5 }}
"path.name" = {{ dictionary = "experiments", probability = 0.5 }}
"body.experiment_name" = {{ dictionary = "experiments", probability = 0.5 }}
"body.session_id" = {{ dictionary = "sessions", probability = 0.3 }}
"""
    )
    return path


def served_by_status(url: str, headers: dict[str, str]) -> Counter[str]:
    """What the server itself counted on /metrics, by status class."""
    counts: Counter[str] = Counter()
    text = httpx.get(f"{url}/metrics", headers=headers, timeout=60).text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "intake_http_requests_total":
                counts[sample.labels["status"][0] + "xx"] += int(sample.value)
    return counts


def failures_by_kind(report: dict[str, Any]) -> Counter[str]:
    counts: Counter[str] = Counter()
    for failure in report.get("failures", []):
        counts[f"{failure['code']} {failure['title']}"] += failure.get("count", 1)
    return counts


def schemathesis_run(
    url: str,
    document: str,
    phases: str,
    seed: int,
    headers: dict[str, str],
    directory: Path,
    args: argparse.Namespace,
    env: dict[str, str],
) -> tuple[subprocess.CompletedProcess[str], dict[str, Any], float]:
    directory.mkdir()
    command = [
        str(SCHEMATHESIS), "--config-file", str(config_file(directory)), "--no-color",
        "run", f"{url}{DOCUMENTS[document]}",
        "--checks", "all",
        # Replaced by the hooks' positive_data_acceptance_of_stated_rules (same check, ST202,
        # less the refusals JSON Schema cannot state; see schemathesis_hooks.INEXPRESSIBLE).
        "--exclude-checks", "positive_data_acceptance",
        "--phases", phases,
        "--seed", str(seed),
        # A stateful scenario is one sequence of linked calls: it takes more of them to go anywhere.
        "--max-examples", str(args.stateful_max_examples if phases == "stateful" else args.max_examples),
        "--workers", str(args.workers),
        "--generation-database", "none",
        "--request-timeout", "60",
        "--report", "json", "--report-dir", str(directory / "report"),
    ]  # fmt: skip
    for name, value in headers.items():
        command += ["--header", f"{name}: {value}"]
    began = time.monotonic()
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=args.timeout, cwd=directory, env=env, check=False
    )
    elapsed = time.monotonic() - began
    (directory / "schemathesis.out").write_text(result.stdout + result.stderr)
    [report_path] = (directory / "report").glob("*.json")
    return result, json.loads(report_path.read_text()), elapsed


def run_one(
    seed: int, auth: str, phases: str, label: str, args: argparse.Namespace, work: Path
) -> list[dict[str, Any]]:
    """One server, driven through each document in turn: a row per document."""
    directory = work / f"{seed}-{auth}-{label}"
    directory.mkdir(parents=True)
    data_dir = directory / "data"
    headers: dict[str, str] = {}
    hooks_env = {
        **server_env(),
        "SCHEMATHESIS_HOOKS": "schemathesis_hooks",
        "PYTHONPATH": str(Path(__file__).parent),
        "CAMPAIGN_STATEFUL_FROM_CREATES": "1",
    }
    if auth == "api-key":
        key_name = f"campaign-{seed}-{label}"
        headers = {"X-API-Key": create_key(data_dir, key_name)}
        hooks_env["CAMPAIGN_RUNNER_KEY"] = key_name
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = (directory / "server.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "intake_service", "serve", "--port", str(port), "--data-dir", str(data_dir),
         "--auth", auth, "--log-level", "warning"],
        env=server_env(), stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    rows = []
    try:
        wait_ready(url, timeout=300)
        seed_data(url, headers)
        for document in args.documents.split(","):
            before = served_by_status(url, headers)
            result, report, elapsed = schemathesis_run(
                url, document, phases, seed, headers, directory / document, args, hooks_env
            )
            after = served_by_status(url, headers)
            key_still_works = None
            if headers:
                probe = httpx.get(
                    f"{url}/apis/intake/v2/workspaces/{WORKSPACE}/experiments", headers=headers, timeout=60
                )
                key_still_works = probe.status_code == 200
            # The one /metrics scrape between `before` and `after` is the script's, not schemathesis's.
            served = {k: after[k] - before.get(k, 0) for k in sorted(after)}
            served["2xx"] = served.get("2xx", 0) - 1
            cases = report["test_cases"]
            failed = "FAILURES" in result.stdout
            rows.append({
                "seed": seed, "auth": auth, "document": document, "phases": phases,
                "operations": report["operations"]["tested"],
                "test_cases": cases["generated"],
                "cases_with_failures": cases["with_failures"],
                "errors": len(report["errors"]),
                "failures_by_kind": dict(failures_by_kind(report)),
                "requests_served": sum(served.values()),
                "served_by_status": served,
                "key_still_works": key_still_works,
                "seconds": round(elapsed, 1),
                "exit_code": result.returncode,
                "output_tail": result.stdout[result.stdout.find("FAILURES"):][:4000] if failed else "",
            })  # fmt: skip
            print(json.dumps({k: v for k, v in rows[-1].items() if k != "output_tail"}), flush=True)
    finally:
        server.terminate()
        server.wait(timeout=120)
        log.close()
    return rows


def markdown(runs: list[dict[str, Any]], totals: dict[str, Any]) -> str:
    lines = [
        "| seed | auth | document | phases | operations | test cases | requests served | 5xx | failures | errors | s |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in runs:
        failures = ", ".join(f"{k} {v}" for k, v in r["failures_by_kind"].items()) or "0"
        lines.append(
            f"| {r['seed']} | {r['auth']} | {r['document']} | {r['phases']} | {r['operations']} | "
            f"{r['test_cases']:,} | "
            f"{r['requests_served']:,} | {r['served_by_status'].get('5xx', 0)} | {failures} | {r['errors']} | "
            f"{r['seconds']:.0f} |"
        )
    lines.append(
        f"| **total** | | | | | {totals['test_cases']:,} | {totals['requests_served']:,} | {totals['5xx']} | "
        f"{totals['cases_with_failures']} | {totals['errors']} | {totals['seconds']:.0f} |"
    )
    return "\n".join(lines) + "\n"


def write_results(runs: list[dict[str, Any]], args: argparse.Namespace) -> dict[str, Any]:
    totals = {
        key: sum(r[key] for r in runs)
        for key in ("test_cases", "cases_with_failures", "errors", "requests_served", "seconds")
    }
    totals["5xx"] = sum(r["served_by_status"].get("5xx", 0) for r in runs)
    totals["max_examples"] = args.max_examples
    totals["stateful_max_examples"] = args.stateful_max_examples
    args.results.mkdir(parents=True, exist_ok=True)
    (args.results / "schemathesis.json").write_text(json.dumps({"totals": totals, "runs": runs}, indent=2) + "\n")
    (args.results / "schemathesis.md").write_text(markdown(runs, totals))
    return totals


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", default="11,22,33")
    parser.add_argument("--auth", default="api-key,none")
    parser.add_argument("--max-examples", type=int, default=12)
    parser.add_argument("--documents", default=",".join(DOCUMENTS), help="root, nemo-0.4 or both")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--jobs", type=int, default=1, help="servers driven at once (one schemathesis each)")
    parser.add_argument("--runs", default="stateless,stateful", help="stateless, stateful or both")
    parser.add_argument("--stateful-max-examples", type=int, default=30, help="scenarios of the stateful phase")
    parser.add_argument("--timeout", type=int, default=3600, help="seconds per schemathesis run")
    parser.add_argument("--results", type=Path, default=Path(__file__).parent / "results")
    parser.add_argument("--keep", type=Path, help="keep each run's data, server log and schemathesis output here")
    args = parser.parse_args()

    plan = [
        (int(seed), auth, phases, label)
        for seed in args.seeds.split(",")
        for auth in args.auth.split(",")
        for phases, label in RUNS
        if label in args.runs.split(",")
    ]
    finished: dict[int, list[dict[str, Any]]] = {}
    with tempfile.TemporaryDirectory(prefix="schemathesis-campaign-") as tmp:
        work = args.keep or Path(tmp)
        with ThreadPoolExecutor(args.jobs) as pool:
            steps = {pool.submit(run_one, *step, args, work): index for index, step in enumerate(plan)}
            # The figures are written after each server's runs, so a campaign cut short keeps what it did.
            for future in as_completed(steps):
                finished[steps[future]] = future.result()
                runs = [row for index in sorted(finished) for row in finished[index]]
                totals = write_results(runs, args)
    print(json.dumps(totals, indent=2))
    bad = totals["cases_with_failures"] or totals["errors"] or totals["5xx"]
    bad = bad or any(r["key_still_works"] is False or r["exit_code"] != 0 for r in runs)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
