"""Differential comparison with NeMo's own intake server, at the root mount (SDK 0.2.0/0.3.0 surface).

Sends one sequence of requests (bench/differential_steps.py: groups, evaluations with PUT, PATCH,
pins and deletes, ATIF, chat and OTLP ingest, evaluator results, sessions, traces, spans, span
groups, annotations, lists with filter, sort and mode, error cases) to intake-service and to NeMo's
reference server (`../shared/tools/nemo-reference/`), and compares each answer's status and body
with ids and times set aside: generated ids read as the name of the step that made them, times
as one canonical instant, `-deleted-<time>` suffixes as `-deleted-<time>`. Each difference is
either listed in differential_expected (INTENDED: on purpose; KNOWN: left for now, each with its
reason) or reported as unexpected. Writes bench/results/differential.md and .json; exits 1 when
something unexpected differs. docs/DIFFERENTIAL.md sums up a run.

    python bench/differential.py          # starts both servers (the reference installs in ~2 min, once)
    python bench/differential.py --reference http://127.0.0.1:18080 --ours http://127.0.0.1:8080
"""

import argparse
import fnmatch
import json
import math
import os
import re
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from common import free_port, wait_ready
from differential_expected import INTENDED, KNOWN
from differential_steps import STEPS, Step

HERE = Path(__file__).parent
REFERENCE_TOOL = Path(os.environ.get("NEMO_REFERENCE_TOOL", "/work/shared/tools/nemo-reference"))
TIME = re.compile(r"^\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)?$")
DELETED = re.compile(r"-deleted-\S+$")
# Stamped by the server when it stores a row: never the same twice.
STAMPS = {"created_at", "updated_at", "ingested_at", "pinned_at"}


class Side:
    """One server under comparison: its base URL and the ids its answers gave (name → id)."""

    def __init__(self, name: str, url: str, workspace: str) -> None:
        self.name = name
        self.base = f"{url}/apis/intake/v2/workspaces/{workspace}"
        self.ids: dict[str, str] = {}
        self.client = httpx.Client(timeout=60)

    def fill(self, value: Any) -> Any:
        """`value` with every `{name}` of a captured id replaced by this side's id."""
        if isinstance(value, str):
            for name, actual in self.ids.items():
                value = value.replace("{" + name + "}", actual)
            return value
        if isinstance(value, dict):
            return {k: self.fill(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.fill(v) for v in value]
        return value

    def send(self, step: Step) -> tuple[int, Any]:
        url, params = self.base + self.fill(step.path), self.fill(step.params)
        if step.protobuf is not None:
            headers = {"content-type": "application/x-protobuf"}
            response = self.client.request(step.method, url, params=params, content=step.protobuf, headers=headers)
        else:
            body = self.fill(step.body) if step.body is not None else None
            response = self.client.request(step.method, url, params=params, json=body)
        body = response.json() if response.content and "json" in response.headers.get("content-type", "") else None
        for name, key in step.capture.items():
            if isinstance(body, dict) and body.get(key):
                self.ids[name] = body[key]
        return response.status_code, body

    def normalise(self, value: Any, key: str = "") -> Any:
        if isinstance(value, dict):
            return {k: self.normalise(v, k) for k, v in value.items()}
        if isinstance(value, list):
            return [self.normalise(v, key) for v in value]
        if not isinstance(value, str):
            return value
        if key in STAMPS:
            return "<stamp>"
        for name, actual in self.ids.items():
            if value == actual:
                return f"<{name}>"
        if TIME.match(value):
            moment = datetime.fromisoformat(value.replace("Z", "+00:00").replace(" ", "T"))
            return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC).isoformat()
        return DELETED.sub("-deleted-<time>", value)


def shape_of_error(body: Any) -> Any:
    """An error compared by its form, not its wording: a 422 by the fields it names, any other by
    having one sentence (each server words its own)."""
    if isinstance(body, dict) and isinstance(body.get("detail"), list):
        return {"detail": sorted({".".join(str(p) for p in e.get("loc", [])[1:]) for e in body["detail"]})}
    if isinstance(body, dict) and isinstance(body.get("detail"), str):
        return {**body, "detail": "<sentence>"}
    return body


def differences(ours: Any, theirs: Any, path: str = "") -> Iterator[tuple[str, Any, Any]]:
    """(path, ours, theirs) for each leaf that differs; a key on one side only differs too."""
    if isinstance(ours, dict) and isinstance(theirs, dict):
        for key in sorted(set(ours) | set(theirs)):
            here = f"{path}.{key}" if path else key
            if key not in ours:
                yield here, "<absent>", theirs[key]
            elif key not in theirs:
                yield here, ours[key], "<absent>"
            else:
                yield from differences(ours[key], theirs[key], here)
    elif isinstance(ours, list) and isinstance(theirs, list) and len(ours) == len(theirs):
        for index, (a, b) in enumerate(zip(ours, theirs, strict=True)):
            yield from differences(a, b, f"{path}[{index}]")
    elif isinstance(ours, float | int) and isinstance(theirs, float | int) and not isinstance(ours, bool):
        if not math.isclose(ours, theirs, rel_tol=1e-6, abs_tol=1e-9):
            yield path, ours, theirs
    elif ours != theirs:
        yield path, ours, theirs


def explained(step: str, path: str) -> tuple[str, str] | None:
    """("intended" or "known", why) for a difference listed in differential_steps, else None."""
    for kind, listed in (("intended", INTENDED), ("known", KNOWN)):
        for step_glob, path_glob, reason in listed:
            if fnmatch.fnmatchcase(step, step_glob) and fnmatch.fnmatchcase(path, path_glob):
                return kind, reason
    return None


def compare(ours: Side, reference: Side) -> list[dict[str, Any]]:
    results = []
    for step in STEPS:
        status_ours, body_ours = ours.send(step)
        status_ref, body_ref = reference.send(step)
        found = []
        if status_ours != status_ref:
            found.append(("<status>", status_ours, status_ref))
        if status_ours >= 400 and status_ref >= 400:
            body_ours, body_ref = shape_of_error(body_ours), shape_of_error(body_ref)
        if step.compare_body:
            found += differences(ours.normalise(body_ours), reference.normalise(body_ref))
        rows = []
        for path, a, b in found:
            kind, reason = explained(step.name, path) or ("unexpected", "")
            rows.append({"path": path, "ours": a, "nemo": b, "kind": kind, "why": reason})
        results.append({"step": step.name, "request": f"{step.method} {step.path}", "status": [status_ours, status_ref],
                         "differences": rows})  # fmt: skip
    return results


def write_report(results: list[dict[str, Any]], out: Path, version: str) -> int:
    by_kind: dict[str, list[tuple[str, dict[str, Any]]]] = {"unexpected": [], "known": [], "intended": []}
    for r in results:
        for d in r["differences"]:
            by_kind[d["kind"]].append((r["step"], d))
    alike = sum(1 for r in results if not r["differences"])
    counts = ", ".join(f"{len(rows)} {kind}" for kind, rows in by_kind.items())
    lines = [
        f"# Differential run against NeMo {version}",
        "",
        f"{len(results)} requests: {alike} answered alike (status and body, ids and times aside); "
        f"differences: {counts}.",
        "",
        "| step | request | status (ours, NeMo) | differences |",
        "|---|---|---|---|",
    ]
    for r in results:
        kinds = sorted({d["kind"] for d in r["differences"]})
        lines.append(
            f"| {r['step']} | `{r['request']}` | {r['status'][0]}, {r['status'][1]} | {', '.join(kinds) or '-'} |"
        )
    titles = {"unexpected": "Unexpected", "known": "Known, not fixed yet", "intended": "Intended"}
    for kind, rows in by_kind.items():
        lines += ["", f"## {titles[kind]} differences", ""]
        for step, d in rows:
            why = f" — {d['why']}" if d["why"] else ""
            lines.append(f"- `{step}` `{d['path']}`: ours `{_short(d['ours'])}`, NeMo `{_short(d['nemo'])}`{why}")
    out.mkdir(parents=True, exist_ok=True)
    (out / "differential.md").write_text("\n".join(lines) + "\n")
    (out / "differential.json").write_text(json.dumps(results, indent=1, default=str) + "\n")
    print("\n".join(lines[:3]))
    return 1 if by_kind["unexpected"] else 0


def _short(value: Any) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) <= 120 else text[:117] + "..."


@contextmanager
def our_server(url: str | None) -> Iterator[str]:
    if url:
        yield url
        return
    port = free_port()
    with tempfile.TemporaryDirectory() as data_dir:
        command = [sys.executable, "-m", "intake_service", "serve", "--port", str(port), "--data-dir", data_dir,
                   "--log-level", "warning"]  # fmt: skip
        server = subprocess.Popen(command)
        try:
            wait_ready(f"http://127.0.0.1:{port}")
            yield f"http://127.0.0.1:{port}"
        finally:
            server.terminate()
            server.wait(60)


@contextmanager
def reference_server(url: str | None, version: str) -> Iterator[str]:
    if url:
        yield url
        return
    port = free_port()
    with tempfile.TemporaryDirectory() as state:
        started = subprocess.run(
            ["bash", str(REFERENCE_TOOL / "start.sh"), version, str(port), f"{state}/state"],
            capture_output=True, text=True, check=True, timeout=900,
        )  # fmt: skip
        pid = int(started.stdout.split()[-1])
        try:
            wait_ready(f"http://127.0.0.1:{port}")
            yield f"http://127.0.0.1:{port}"
        finally:
            subprocess.run(["kill", "-TERM", str(pid)], check=False)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ours", help="a running intake-service (default: start one on a fresh data dir)")
    parser.add_argument("--reference", help="a running NeMo reference server (default: start one)")
    parser.add_argument("--version", default="0.3.0", help="NeMo version of the reference it starts")
    parser.add_argument("--out", type=Path, default=HERE / "results")
    args = parser.parse_args()
    workspace = f"diff-{uuid.uuid4().hex[:8]}"
    with our_server(args.ours) as ours_url, reference_server(args.reference, args.version) as reference_url:
        # NeMo's workspaces are entities to create first; ours exist once named.
        httpx.post(f"{reference_url}/apis/entities/v2/workspaces", json={"name": workspace}).raise_for_status()
        results = compare(Side("ours", ours_url, workspace), Side("nemo", reference_url, workspace))
    return write_report(results, args.out, args.version)


if __name__ == "__main__":
    sys.exit(main())
