"""Comparison routes: a run against a baseline, at /evaluations/{name}/compare and the seeds'
/experiments/{name}/compare. Rules and statistics live in domain.compare."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response

from intake_service.api.deps import ExperimentName, Experiments, Session, Telemetry, Workspace
from intake_service.api.export import FormatParam, export_format, export_responses, one_batch, stream
from intake_service.api.responses import NOT_FOUND, UNAVAILABLE, OffLoopJsonRoute
from intake_service.domain import compare as domain
from intake_service.models.generated import CompareResponse
from intake_service.store.postgres.evaluations import EvaluationRepository

router = APIRouter(route_class=OffLoopJsonRoute)
# The seeds' run: at the root only, since /nemo-0.4's /experiments is the container.
experiments_router = APIRouter(route_class=OffLoopJsonRoute)

Baseline = Annotated[
    str,
    Query(
        min_length=1,
        max_length=255,
        description="The name of the run to compare against (a live run of the same workspace).",
    ),
]
Resamples = Annotated[int, Query(ge=100, le=20000, description="Bootstrap resamples per metric.")]
Seed = Annotated[
    int,
    Query(ge=0, le=2**32 - 1, description="Seed of the bootstrap's random generator: one request, one answer."),
]
Top = Annotated[
    int, Query(ge=0, le=100, description="How many top movers (largest absolute paired differences) each metric lists.")
]
RESPONSES = {
    **export_responses(
        CompareResponse,
        "evaluation,baseline,metric,kind,higher_is_better,n_common,evaluation_mean,baseline_mean,mean_difference,"
        "ci_low,ci_high,p_value,p_value_holm,test,improved,regressed,unchanged,pass_fail.both_pass,pass_fail.both_fail,"
        "pass_fail.improved,pass_fail.regressed,pass_fail.p_value,pass_fail.pass_rate_difference,pass_fail.ci_low,"
        "pass_fail.ci_high,top_movers,verdict,pass_fail\n"
        "run-b,run-a,evaluators.accuracy,pass_fail,true,120,0.8,0.7,0.1,0.0417,0.1583,0.0026,0.0104,mcnemar_exact,"
        '14,2,104,82,22,14,2,0.0026,0.1,0.0417,0.1583,"[{""test_case_id"":""q-17"",...}]",improved,\n',
        '{"evaluation":"run-b","baseline":"run-a","metric":"evaluators.accuracy","kind":"pass_fail",'
        '"mean_difference":0.1,"verdict":"improved",...}\n',
    ),
    **NOT_FOUND,
    **UNAVAILABLE,
}
DESCRIPTION = """Whether this run differs from the baseline beyond noise, metric by metric.

Sessions pair by test case: repeats pair in start order when every common test case has as many
sessions on both sides (`in_order`), else each side's per-test-case mean is paired
(`per_test_case_mean`); test cases of one side only are listed in `pairing`. For every evaluator and
for cost_usd, latency_ms and tokens (lower is better): both means, the mean paired difference
(evaluation − baseline) with its 95 % seeded percentile-bootstrap interval, the Wilcoxon signed-rank
p-value, or for a pass/fail evaluator (every paired value 0 or 1) the paired 2×2 table and McNemar's
exact p-value; Holm-adjusted p-values across all metrics; a verdict per metric and overall at 5 %.
CSV and NDJSON (`format=` or `Accept`) give one row per metric."""


def _options(resamples: Resamples = 2000, seed: Seed = 0, top: Top = 5) -> domain.Options:
    return domain.Options(resamples=resamples, seed=seed, top_movers=top)


Options = Annotated[domain.Options, Depends(_options)]


def _answer(request: Request, export: FormatParam, body: dict[str, Any]) -> CompareResponse | Response:
    wanted = export_format(request, export)
    if wanted == "json":
        return CompareResponse.model_validate(body)
    rows = [{"evaluation": body["evaluation"], "baseline": body["baseline"], **metric} for metric in body["metrics"]]
    return stream(one_batch(rows), wanted)


@router.get(
    "/evaluations/{name}/compare",
    response_model=CompareResponse,
    responses=RESPONSES,
    tags=["evaluations"],
    operation_id="compare-evaluation-apis-intake-v-2-workspaces-workspace-evaluations-name-compare-get",
    summary="Compare Evaluation",
    description=DESCRIPTION,
)
async def compare_evaluation(
    workspace: Workspace,
    name: ExperimentName,
    baseline: Baseline,
    request: Request,
    session: Session,
    telemetry: Telemetry,
    options: Options,
    format: FormatParam = None,
) -> CompareResponse | Response:
    body = await domain.compare_evaluations(
        EvaluationRepository(session), telemetry, workspace, name, baseline, options
    )
    return _answer(request, format, body)


@experiments_router.get(
    "/experiments/{name}/compare",
    response_model=CompareResponse,
    responses=RESPONSES,
    tags=["experiments"],
    operation_id="compare-experiment-apis-intake-v-2-workspaces-workspace-experiments-name-compare-get",
    summary="Compare Experiment",
    description=DESCRIPTION,
)
async def compare_experiment(
    workspace: Workspace,
    name: ExperimentName,
    baseline: Baseline,
    request: Request,
    repo: Experiments,
    telemetry: Telemetry,
    options: Options,
    format: FormatParam = None,
) -> CompareResponse | Response:
    body = await domain.compare_experiments(repo, telemetry, workspace, name, baseline, options)
    return _answer(request, format, body)
