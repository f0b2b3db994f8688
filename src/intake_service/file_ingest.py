"""`intake-service ingest`: sends a file of sessions (NDJSON, a JSON list, `{"sessions": [...]}`) and
ATIF trajectories to a running server over HTTP, and sums up what was accepted and rejected.

Re-sending a file never double-counts: the server replaces a session whose id it has seen, and a
record without an id gets one derived from its content (and its occurrence in the file), so the
same file always carries the same ids.
"""

import hashlib
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx


class IngestAborted(Exception):
    """The server refused the whole job (unknown experiment, no access, unreachable); one sentence."""


@dataclass
class Record:
    where: str  # "line 3" or "item 3", for the user
    body: dict[str, Any] | None  # None when the line is not a JSON object
    problem: str | None = None

    @property
    def is_trajectory(self) -> bool:
        return self.body is not None and str(self.body.get("schema_version", "")).startswith("ATIF")


@dataclass
class Summary:
    sent: int = 0
    accepted: int = 0
    rejected: list[tuple[str, str]] = field(default_factory=list)  # (where, reason)


def read_records(path: Path) -> list[Record]:
    """A whole JSON document (a list, {"sessions": [...]}, one object) or else NDJSON."""
    text = path.read_text(encoding="utf-8")
    try:
        document = json.loads(text)
    except json.JSONDecodeError:
        return [_record(f"line {number}", line) for number, line in enumerate(text.splitlines(), 1) if line.strip()]
    if isinstance(document, dict) and isinstance(document.get("sessions"), list):
        document = document["sessions"]
    items = document if isinstance(document, list) else [document]
    return [_checked(Record(f"item {number}", item)) for number, item in enumerate(items, 1)]


def _record(where: str, line: str) -> Record:
    try:
        return _checked(Record(where, json.loads(line)))
    except json.JSONDecodeError as exc:
        return Record(where, None, f"not valid JSON ({exc.msg})")


def _checked(record: Record) -> Record:
    if not isinstance(record.body, dict):
        return Record(record.where, None, "not a JSON object")
    return record


def with_stable_ids(records: Iterable[Record]) -> None:
    """Gives each record without a session_id one derived from its content and its occurrence."""
    seen: dict[str, int] = {}
    for record in records:
        if record.body is None or record.body.get("session_id"):
            continue
        canonical = json.dumps(record.body, sort_keys=True, separators=(",", ":"))
        occurrence = seen[canonical] = seen.get(canonical, -1) + 1
        digest = hashlib.sha256(f"{canonical}\x1f{occurrence}".encode()).hexdigest()
        record.body["session_id"] = f"file-{digest[:32]}"


def _detail(response: httpx.Response) -> str:
    """The server's one sentence, or the first validation message with its location."""
    try:
        detail = response.json().get("detail")
    except (ValueError, AttributeError):
        return f"HTTP {response.status_code}"
    if isinstance(detail, list) and detail:
        first = detail[0]
        # The record is named by its line already: drop "body" and the batch's "sessions", <index>.
        loc = [str(part) for part in first.get("loc", [])[1:]]
        if loc[:1] == ["sessions"]:
            loc = loc[2:]
        message = re.sub(r"^Session \d+: ", "", str(first.get("msg")))
        return f"{'.'.join(loc)}: {message}" if loc else message
    return str(detail)


def _rejected_index(response: httpx.Response) -> int | None:
    """The index in the batch of the session a 422 names (loc ["body", "sessions", i, …])."""
    try:
        loc = response.json()["detail"][0]["loc"]
    except (ValueError, KeyError, IndexError, TypeError):
        return None
    if len(loc) >= 3 and loc[:2] == ["body", "sessions"] and isinstance(loc[2], int):
        return loc[2]
    return None


class Sender:
    def __init__(self, client: httpx.Client, workspace: str, experiment: str) -> None:
        self.client = client
        self.base = f"/apis/intake/v2/workspaces/{quote(workspace, safe='')}"
        self.experiment = experiment
        self.summary = Summary()

    def require_experiment(self) -> None:
        """Fails before anything is sent when the experiment does not exist (or the key cannot see it)."""
        self._send("GET", f"/experiments/{quote(self.experiment, safe='')}")

    def _send(self, method: str, path: str, body: dict[str, Any] | None = None) -> httpx.Response:
        try:
            response = self.client.request(method, self.base + path, json=body)
        except httpx.HTTPError as exc:
            raise IngestAborted(f"Cannot reach the server at {self.client.base_url} ({exc}).") from None
        if response.status_code in (401, 403, 404, 413, 503) or response.status_code >= 500:
            raise IngestAborted(f"The server answered {response.status_code}: {_detail(response)}")
        return response

    def sessions(self, batch: list[Record]) -> None:
        """All or nothing per request: a session the server names is set aside and the rest re-sent."""
        self.summary.sent += len(batch)
        path = f"/experiments/{quote(self.experiment, safe='')}/sessions"
        while batch:
            response = self._send("POST", path, {"sessions": [record.body for record in batch]})
            if response.is_success:
                self.summary.accepted += response.json()["accepted"]
                return
            index = _rejected_index(response)
            if index is None or index >= len(batch):
                self.summary.rejected.extend((record.where, _detail(response)) for record in batch)
                return
            self.summary.rejected.append((batch[index].where, _detail(response)))
            batch = batch[:index] + batch[index + 1 :]

    def trajectory(self, record: Record) -> None:
        """One request per trajectory, tagged with the experiment (its test case kept)."""
        assert record.body is not None
        self.summary.sent += 1
        context = record.body.get("experiment_context") or record.body.get("evaluation_context")
        tag = {"experiment_id": self.experiment}
        if isinstance(context, dict) and context.get("test_case_id"):
            tag["test_case_id"] = context["test_case_id"]
        body = {key: value for key, value in record.body.items() if key != "evaluation_context"}
        response = self._send("POST", "/ingest/atif", {**body, "experiment_context": tag})
        if response.is_success:
            self.summary.accepted += 1
        else:
            self.summary.rejected.append((record.where, _detail(response)))


def send_file(
    client: httpx.Client,
    path: Path,
    workspace: str,
    experiment: str,
    batch_size: int,
    advance: Callable[[int], None] = lambda _: None,
    total: Callable[[int], None] = lambda _: None,
) -> Summary:
    """Reads, sends in batches (calling `advance` with each batch's size) and returns the summary."""
    records = read_records(path)
    with_stable_ids(records)
    total(len(records))
    sender = Sender(client, workspace, experiment)
    sender.require_experiment()
    for record in records:
        if record.problem is not None:
            sender.summary.sent += 1
            sender.summary.rejected.append((record.where, record.problem))
            advance(1)
    trajectories = [record for record in records if record.problem is None and record.is_trajectory]
    sessions = [record for record in records if record.problem is None and not record.is_trajectory]
    for start in range(0, len(sessions), batch_size):
        batch = sessions[start : start + batch_size]
        sender.sessions(batch)
        advance(len(batch))
    for record in trajectories:
        sender.trajectory(record)
        advance(1)
    return sender.summary
