"""The pages in a real browser against `intake-service serve` with seeded data: the workspaces, a
container's leaderboard (rows, server-side sort, filter, baseline differences, pin), its pareto chart,
a run's sessions, score distributions and span tree."""

import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Page, expect

from support import Server, ok, workspace_base

WORKSPACE, CONTAINER = "demo", "qa-agents"
RUNS = [f"agent-v{i}" for i in range(6)]
CASES, REPEATS = 8, 2
UI = f"/ui/workspaces/{WORKSPACE}"


def sessions_of(name: str, rng: random.Random) -> list[dict[str, Any]]:
    skill, price = rng.random(), rng.uniform(0.002, 0.02)
    return [
        {
            "session_id": f"{name}-q{case}-{repeat}", "test_case_id": f"q{case}", "status": "success",
            "started_at": f"2026-01-0{repeat + 1}T10:{case:02d}:00Z", "latency_ms": rng.uniform(300, 4000),
            "cost_usd": price * rng.uniform(0.5, 1.5), "input_tokens": rng.randint(200, 900),
            "output_tokens": rng.randint(10, 200),
            "scores": {"accuracy": rng.random() < skill, "helpfulness": round(rng.random(), 3)},
        }
        for case in range(CASES)
        for repeat in range(REPEATS)
    ]


def trajectory(evaluation: str) -> dict[str, Any]:
    """One ATIF session with a user turn and two agent turns (spans with tokens and cost) and a reward."""
    return {
        "schema_version": "ATIF-v1.6",
        "session_id": "traced-session",
        "agent": {"name": "qa-bot", "version": "1", "model_name": "small-model"},
        "steps": [
            {"step_id": 1, "source": "user", "message": "What is 6 * 7?", "timestamp": "2026-01-03T09:00:00Z"},
            {"step_id": 2, "source": "agent", "message": "Thinking", "timestamp": "2026-01-03T09:00:01.2Z",
             "metrics": {"prompt_tokens": 120, "completion_tokens": 30, "cost_usd": 0.0021}},
            {"step_id": 3, "source": "agent", "message": "42", "timestamp": "2026-01-03T09:00:02.7Z",
             "metrics": {"prompt_tokens": 180, "completion_tokens": 4, "cost_usd": 0.0034}},
        ],
        "extra": {"verifier_result": {"reward": 1}},
        "evaluation_context": {"evaluation_id": evaluation, "test_case_id": "q-traced"},
    }


def seed(url: str) -> None:
    rng = random.Random(15)
    # The 0.4 container fields are written under /nemo-0.4 (the same row as the root's group).
    containers = httpx.Client(base_url=f"{url}/nemo-0.4{workspace_base(WORKSPACE)}", timeout=60)
    with containers, httpx.Client(base_url=url + workspace_base(WORKSPACE), timeout=60) as http:
        group = ok(containers.post("/experiments", json={
            "name": CONTAINER, "description": "Agents answering the QA set",
            "default_sort": "-evaluators.accuracy.mean",
            "pareto": {"x_metric": "cost_usd", "y_metric": "evaluators.accuracy"},
            "is_favorite": True, "show_evaluations_over_time": True,
            "column_layout": {"order": ["name", "evaluators.helpfulness.mean"], "hidden": ["tokens.mean"]},
        }), 201)  # fmt: skip
        for name in RUNS:
            body = {"name": name, "dataset_name": "qa", "experiment_ids": [group["id"]]}
            ok(http.post("/evaluations", json=body), 201)
            ok(http.post(f"/experiments/{name}/sessions", json={"sessions": sessions_of(name, rng)}), 201)
        ok(http.post("/ingest/atif", json=trajectory(RUNS[0])), 201)
        ok(containers.put(f"/experiments/{CONTAINER}", json={"name": CONTAINER, "baseline_evaluation_name": RUNS[0]}))
        # Before qa-agents by name; after it, a favourite, on the workspace page.
        other = ok(http.post("/experiment-groups", json={"name": "archive"}), 201)
        body = {"name": "loose-run", "dataset_name": "qa", "experiment_ids": [other["id"]]}
        ok(http.post("/evaluations", json=body), 201)
        ok(http.post("/evaluations/loose-run/pin"))
    with httpx.Client(base_url=url + workspace_base("lab"), timeout=60) as http:
        ok(http.post("/experiment-groups", json={"name": "lab-group"}), 201)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with Server(tmp_path_factory.mktemp("pages") / "data") as running:
        seed(running.url)
        yield running


def api(server: Server, path: str, **params: Any) -> Any:
    return ok(httpx.get(server.url + workspace_base(WORKSPACE) + path, params=params, timeout=60))


def runs_of(server: Server) -> list[dict[str, Any]]:
    group = api(server, f"/experiment-groups/{CONTAINER}")
    return api(server, "/evaluations", page_size=100, filter=json.dumps({"experiment_group_id": group["id"]}))["data"]


def ordered(runs: list[dict[str, Any]], value: Any, descending: bool) -> list[str]:
    return [r["name"] for r in sorted(runs, key=lambda r: (value(r), r["name"]), reverse=descending)]


async def shown_runs(page: Page) -> list[str]:
    return await page.locator("#leaderboard tbody tr").evaluate_all("rows => rows.map(r => r.dataset.run)")


async def test_workspaces_then_a_workspace(page: Page, server: Server, screenshot) -> None:
    await page.goto(server.url + "/")
    rows = page.locator("#workspaces tbody tr")
    await expect(rows).to_have_count(2)
    await expect(rows.nth(0)).to_contain_text("demo")
    await expect(rows.nth(0).locator("td").nth(2)).to_have_text(str(len(RUNS) + 1))
    await screenshot(page, "workspaces")
    await page.get_by_role("link", name="demo").click()
    await expect(page.locator("#containers tbody tr")).to_have_count(2)
    await expect(page.locator("#containers tbody tr").first).to_contain_text(f"★{CONTAINER}")
    # No sort given: the pinned run lists first.
    await expect(page.locator("#runs tbody tr").first).to_contain_text("loose-run")
    await expect(page.locator("#runs tbody tr.pinned")).to_have_count(1)
    await screenshot(page, "workspace")


async def test_leaderboard_rows_follow_the_default_sort_then_a_clicked_column(
    page: Page, server: Server, screenshot
) -> None:
    runs = runs_of(server)
    await page.goto(f"{server.url}{UI}/containers/{CONTAINER}")
    await expect(page.locator("#leaderboard tbody tr")).to_have_count(len(RUNS))
    by_accuracy = ordered(runs, lambda r: r["aggregate_scores"]["accuracy"]["mean"], descending=True)
    assert await shown_runs(page) == by_accuracy
    # The container's column_layout: helpfulness right after the name, tokens hidden.
    headers = await page.locator("#leaderboard thead th[data-column]").evaluate_all(
        "hs => hs.map(h => h.dataset.column)"
    )
    assert headers == [
        "name", "evaluators.helpfulness", "run_count", "test_case_count", "evaluators.accuracy",
        "evaluators.verifier.reward", "cost_usd", "latency_ms",
    ]  # fmt: skip
    await expect(page.locator("#pareto circle.point")).to_have_count(len(RUNS))
    await expect(page.locator("#over-time-figure")).to_be_visible()
    await screenshot(page, "leaderboard")
    await page.locator("#leaderboard th[data-column=cost_usd] button").click()
    by_cost = ordered(runs, lambda r: r["cost_usd"]["mean"], descending=False)
    assert by_cost != by_accuracy
    await expect(page.locator("#leaderboard th[data-column=cost_usd]")).to_contain_text("▲")
    assert await shown_runs(page) == by_cost
    assert "sort=cost_usd.mean" in page.url
    await page.locator("#leaderboard th[data-column=cost_usd] button").click()
    await expect(page.locator("#leaderboard th[data-column=cost_usd]")).to_contain_text("▼")
    assert await shown_runs(page) == by_cost[::-1]


async def test_filter_and_paging_are_the_servers(page: Page, server: Server) -> None:
    runs = runs_of(server)
    cut = sorted(r["cost_usd"]["mean"] for r in runs)[3]
    await page.goto(f"{server.url}{UI}/containers/{CONTAINER}?page_size=2")
    await expect(page.locator("#pager")).to_contain_text(f"page 1 of 3 ({len(RUNS)} in all)")
    await expect(page.locator("#leaderboard tbody tr")).to_have_count(2)
    await page.locator("#pager").get_by_role("button", name="next ›").click()
    await expect(page.locator("#pager")).to_contain_text("page 2 of 3")
    await page.select_option("#page-size", "25")
    await page.fill("#filter", json.dumps({"cost_usd.mean": {"$lte": cut}}))
    await page.click("#controls button[type=submit]")
    await expect(page.locator("#leaderboard tbody tr")).to_have_count(4)
    assert set(await shown_runs(page)) == {r["name"] for r in runs if r["cost_usd"]["mean"] <= cut}
    await page.fill("#filter", '{"nonsense": 1}')
    await page.click("#controls button[type=submit]")
    await expect(page.locator("#error")).to_contain_text("400")


async def test_baseline_differences_and_pinning(page: Page, server: Server) -> None:
    runs = {r["name"]: r for r in runs_of(server)}
    baseline, other = RUNS[0], RUNS[1]
    # No ?baseline=: the container's baseline_evaluation_name.
    await page.goto(f"{server.url}{UI}/containers/{CONTAINER}")
    row = page.locator(f"#leaderboard tbody tr[data-run='{other}']")
    delta = row.locator("td[data-column='evaluators.helpfulness'] .delta")
    helpfulness = {name: run["aggregate_scores"]["helpfulness"]["mean"] for name, run in runs.items()}
    expected = helpfulness[other] - helpfulness[baseline]
    text = (await delta.text_content() or "").strip().replace("−", "-")
    assert float(text) == pytest.approx(expected, abs=1e-3)
    await expect(page.locator(f"#leaderboard tbody tr[data-run='{baseline}'] .tag")).to_have_text("baseline")
    await expect(row.get_by_role("link", name="compare")).to_have_attribute(
        "href", f"{UI}/compare?evaluation={other}&baseline={baseline}"
    )
    await row.get_by_role("button", name="Pin").click()
    await expect(page.locator(f"#leaderboard tbody tr[data-run='{other}'].pinned")).to_have_count(1)
    assert api(server, f"/evaluations/{other}")["pinned_at"] is not None
    await page.locator(f"#leaderboard tbody tr[data-run='{other}']").get_by_role("button", name="Unpin").click()
    await expect(page.locator("#leaderboard tbody tr.pinned")).to_have_count(0)
    assert api(server, f"/evaluations/{other}")["pinned_at"] is None


async def test_evaluations_over_time_when_the_container_asks(page: Page, server: Server) -> None:
    runs = runs_of(server)
    await page.goto(f"{server.url}{UI}/containers/{CONTAINER}")
    await expect(page.locator("#over-time-figure")).to_be_visible()
    evaluators = sorted({name for r in runs for name in r["aggregate_scores"]})
    await expect(page.locator("#over-time polyline.series")).to_have_count(len(evaluators))
    scored = sum(1 for r in runs for _ in r["aggregate_scores"])
    await expect(page.locator("#over-time circle.time-point")).to_have_count(scored)
    await expect(page.locator("#over-time text.legend")).to_have_text(evaluators)


def frontier(points: dict[str, tuple[float, float]]) -> set[str]:
    """Cheapest for the accuracy: nobody both cheaper-or-equal and at-least-as-accurate, one strictly."""
    def beaten(cost: float, score: float) -> bool:
        return any(c <= cost and s >= score and (c < cost or s > score) for c, s in points.values())

    return {name for name, (cost, score) in points.items() if not beaten(cost, score)}


async def test_pareto_plot_has_one_point_per_run_and_marks_the_frontier(page: Page, server: Server) -> None:
    runs = runs_of(server)
    await page.goto(f"{server.url}{UI}/containers/{CONTAINER}")
    points = page.locator("#pareto circle.point")
    await expect(points).to_have_count(len(RUNS))
    assert sorted(await points.evaluate_all("ps => ps.map(p => p.dataset.run)")) == sorted(RUNS)
    expected = frontier({r["name"]: (r["cost_usd"]["mean"], r["aggregate_scores"]["accuracy"]["mean"]) for r in runs})
    shown = await page.locator("#pareto circle.point.frontier").evaluate_all("ps => ps.map(p => p.dataset.run)")
    assert set(shown) == expected
    await page.select_option("#pareto-y", "latency_ms")
    await expect(page.locator("#pareto text.label").nth(1)).to_have_text("latency (ms)")
    await expect(points).to_have_count(len(RUNS))


async def test_a_run_its_sessions_distributions_and_trace(page: Page, server: Server, screenshot) -> None:
    name = RUNS[0]
    await page.goto(f"{server.url}{UI}/evaluations/{name}")
    rows = page.locator("#sessions tbody tr")
    await expect(rows).to_have_count(CASES * REPEATS + 1)
    await expect(page.locator("#distributions figure")).to_have_count(3)
    accuracy = page.locator("#distributions figure[data-evaluator=accuracy] rect.bar")
    counts = await accuracy.evaluate_all("bars => bars.map(b => Number(b.textContent.split(': ').pop()))")
    # One value per test case, as the rollups count them (the traced session's test case scores 0 here).
    assert sum(counts) == api(server, f"/evaluations/{name}")["aggregate_scores"]["accuracy"]["count"] == CASES + 1
    await page.locator("#sessions th[data-column=latency_ms] button").click()
    await expect(page.locator("#sessions th[data-column=latency_ms]")).to_contain_text("▲")
    sessions = api(server, f"/evaluations/{name}/sessions", mode="summary", page_size=1000)["data"]
    # Missing values sort last (the traced session has its latency).
    by_latency = [s["session_id"] for s in sorted(sessions, key=lambda s: s["latency_ms"])]
    assert await rows.evaluate_all("rows => rows.map(r => r.dataset.session)") == by_latency
    await page.locator("#sessions tbody tr[data-session='traced-session'] button").click()
    spans = api(server, "/spans", **{"filter[session_id]": "traced-session"})["data"]
    await expect(page.locator("#trace li.span")).to_have_count(len(spans))
    await expect(page.locator("#trace")).to_contain_text("verifier.reward")
    await screenshot(page, "run")


def interval_of(text: str) -> tuple[float, float]:
    low, high = text.strip("[] ").replace("−", "-").replace("±", "").split(",")
    return float(low), float(high)


async def test_comparison_shows_each_metrics_interval(page: Page, server: Server, screenshot) -> None:
    evaluation, baseline = RUNS[1], RUNS[0]
    expected = api(server, f"/evaluations/{evaluation}/compare", baseline=baseline)
    await page.goto(f"{server.url}{UI}/compare?evaluation={evaluation}&baseline={baseline}")
    rows = page.locator("#metrics tbody tr")
    await expect(rows).to_have_count(len(expected["metrics"]))
    await expect(page.locator("#verdict")).to_contain_text(expected["verdict"])
    for metric in expected["metrics"]:
        row = page.locator(f"#metrics tbody tr[data-metric='{metric['metric']}']")
        await expect(row).to_contain_text(metric["verdict"])
        if metric["ci_low"] is None:  # no pair has both values
            await expect(row.locator("td.ci")).to_have_text("–")
            continue
        low, high = interval_of(await row.locator("td.ci").text_content() or "")
        assert low == pytest.approx(metric["ci_low"], rel=1e-2, abs=1e-6)
        assert high == pytest.approx(metric["ci_high"], rel=1e-2, abs=1e-6)
        await expect(row.locator("svg.interval line.ci")).to_have_count(1)
    assert any(metric["ci_low"] is not None for metric in expected["metrics"])
    await expect(page.locator("#pairing")).to_contain_text(f"{expected['pairing']['n_common']} test cases paired")
    await screenshot(page, "compare")


async def test_no_request_left_loopback(page: Page, server: Server, requested: list[str]) -> None:
    pages = ("/", UI, f"{UI}/containers/{CONTAINER}", f"{UI}/evaluations/{RUNS[1]}",
             f"{UI}/compare?evaluation={RUNS[2]}&baseline={RUNS[0]}")  # fmt: skip
    for path in pages:
        await page.goto(server.url + path)
        await page.wait_for_load_state("networkidle")
    # The page fixture checks this test's own requests; these are every earlier test's.
    assert len(requested) > 20
    assert {url.split("/")[2] for url in requested} == {f"127.0.0.1:{server.port}"}


def test_static_assets_ship_with_the_package() -> None:
    static = Path(__file__).resolve().parents[2] / "src" / "intake_service" / "web" / "static"
    assert {"app.js", "plots.js", "style.css"} <= {p.name for p in static.iterdir()}
