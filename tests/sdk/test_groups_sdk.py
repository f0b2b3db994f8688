"""SDK 0.2.0 and 0.3.0, unchanged, on /experiment-groups at the root mount."""

import re
from collections.abc import Callable
from typing import Any

DEFAULT_PARETO = {"x_metric": "cost_usd", "y_metric": "latency_ms"}
DELETED = re.compile(r"(.+)-deleted-\d{8}T\d{6}\.\d{6}Z")


def test_sdk_020_groups(run_flow: Callable[..., Any], sdk_workspace: str) -> None:
    out = run_flow("0.2.0", "groups_020")
    created = out["created"]
    assert created["name"] == "g-020" and created["workspace"] == sdk_workspace
    assert created["description"] == "first" and created["experiment_count"] == 0
    assert out["again_id"] == created["id"]  # exist_ok answered with the existing group
    assert out["run_group"] == created["id"]
    assert out["fetched"]["experiment_count"] == 1 and out["fetched"]["id"] == created["id"]
    assert out["updated"]["description"] == "second" and out["updated"]["experiment_count"] == 1
    assert out["conflict"] == {
        "status": 409,
        "detail": f"Experiment group '{sdk_workspace}/g-020' already exists.",
        "error": "ConflictError",
    }
    assert out["listed"] == ["g-020", "h-020"]
    assert out["by_name"] == ["h-020"]
    assert out["missing"]["status"] == 404 and out["missing"]["error"] == "NotFoundError"
    assert out["live"] == ["g-020"]
    [deleted] = out["deleted"]
    assert DELETED.fullmatch(deleted) and DELETED.fullmatch(deleted).group(1) == "h-020"  # type: ignore[union-attr]


def test_sdk_030_groups(run_flow: Callable[..., Any], sdk_workspace: str) -> None:
    out = run_flow("0.3.0", "groups_030")
    plain = out["plain"]
    assert plain["default_sort"] == "-created_at" and plain["pareto"] == DEFAULT_PARETO
    assert plain["metadata"] is None and plain["insight_id"] is None and plain["summary"] is None
    assert plain["evaluation_count"] == 0 and plain["experiment_count"] == 0
    full = out["full"]
    assert full["insight_id"] == "ins-1" and full["summary"] == "B wins"
    assert full["metadata"] == {"team": "search", "model": "m-1"}
    assert full["default_sort"] == "-evaluators.correct.mean,cost_usd.mean"
    assert full["pareto"] == {"x_metric": "cost_usd", "y_metric": "evaluators.correct"}
    assert out["fetched"]["evaluation_count"] == 2 and out["fetched"]["experiment_count"] == 2
    kept = out["kept"]
    assert kept["summary"] == "still B" and kept["metadata"] == {"team": "search"}
    assert kept["pareto"] == {"x_metric": "cost_usd", "y_metric": "evaluators.correct"}  # omitted: kept
    assert kept["description"] is None and kept["insight_id"] is None  # omitted: back to the default
    assert kept["default_sort"] == "-created_at" and kept["evaluation_count"] == 2
    assert out["rename"] == {
        "status": 409,
        "detail": "Cannot rename an experiment group; the name is its identity.",
        "error": "ConflictError",
    }
    assert out["bad_sort"]["status"] == 400 and out["bad_sort"]["error"] == "BadRequestError"
    assert out["by_name"] == ["a-030", "b-030"]
    assert out["by_team"] == ["b-030"]
    assert out["by_insight"] == []  # the update dropped insight_id
    assert out["gone"]["status"] == 404
    [deleted] = out["deleted"]
    assert DELETED.fullmatch(deleted).group(1) == "a-030"  # type: ignore[union-attr]
    assert out["reused_id_differs"] is True
