"""Reading the files `intake-service ingest` sends: every accepted shape, and ids that are the same
on every read of the same file (so a re-send replaces rather than adds)."""

import json
from pathlib import Path

from intake_service.file_ingest import read_records, with_stable_ids

SESSION = {"started_at": "2026-01-05T09:00:00Z", "status": "success"}
TRAJECTORY = {"schema_version": "ATIF-v1.6", "agent": {"name": "a", "version": "1"}, "steps": []}


def ids(path: Path) -> list[str | None]:
    records = read_records(path)
    with_stable_ids(records)
    return [record.body["session_id"] if record.body else None for record in records]


def test_every_shape_reads_the_same_records(scratch: Path):
    items = [SESSION, {**SESSION, "session_id": "mine"}, TRAJECTORY]
    shapes = {
        "list.json": json.dumps(items),
        "wrapped.json": json.dumps({"sessions": items}),
        "lines.ndjson": "\n".join(json.dumps(item) for item in items) + "\n\n",
    }
    read = {}
    for name, text in shapes.items():
        (scratch / name).write_text(text)
        records = read_records(scratch / name)
        assert [record.is_trajectory for record in records] == [False, False, True]
        read[name] = ids(scratch / name)
    assert read["list.json"] == read["wrapped.json"] == read["lines.ndjson"]
    assert read["list.json"][1] == "mine"


def test_derived_ids_are_stable_and_distinct(scratch: Path):
    file = scratch / "twice.ndjson"
    file.write_text("\n".join([json.dumps(SESSION), json.dumps(SESSION), json.dumps({**SESSION, "status": "error"})]))
    first = ids(file)
    assert first == ids(file)
    assert len(set(first)) == 3 and all(isinstance(i, str) and i.startswith("file-") for i in first)


def test_bad_lines_are_kept_with_their_problem(scratch: Path):
    file = scratch / "bad.ndjson"
    file.write_text('{"a": 1}\n[1, 2]\n{oops\n')
    problems = [(record.where, record.problem) for record in read_records(file)]
    assert problems[0] == ("line 1", None)
    assert problems[1] == ("line 2", "not a JSON object")
    assert problems[2][0] == "line 3" and problems[2][1].startswith("not valid JSON")
