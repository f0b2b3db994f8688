"""Reads over many experiments: the list, /compare and /stats."""

from intake_service.domain.workbench import scoring, views
from intake_service.domain.workbench.access import Viewer
from intake_service.domain.workbench.errors import InvalidInput
from intake_service.domain.workbench.experiments import best_runs_by_experiment
from intake_service.domain.workbench.targets import Stores, resolve_experiment
from intake_service.domain.workbench.values import check_status, check_text
from intake_service.models.workbench import ComparedExperiment, Comparison, ExperimentPage, Stats
from intake_service.store.postgres.workbench import ExperimentQuery

SORT_FIELDS = ("createdAt", "updatedAt", "name", "runCount", "status")
DEFAULT_SORT = "createdAt:desc"
MIN_COMPARED, MAX_COMPARED = 2, 20


def parse_sort(sort: str) -> tuple[str, bool]:
    """`field:asc|desc` (a bare field sorts ascending)."""
    field, _, direction = sort.strip().partition(":")
    if field not in SORT_FIELDS or direction not in ("", "asc", "desc"):
        raise InvalidInput(f"sort must be field:asc or field:desc with field one of {', '.join(SORT_FIELDS)}.")
    return field, direction == "desc"


def list_query(
    *, search: str | None, status: str | None, tag: str | None, pinned: bool | None, sort: str, limit: int, offset: int
) -> ExperimentQuery:
    field, descending = parse_sort(sort)
    return ExperimentQuery(
        search=check_text(search, "search") or None,
        status=check_status(status),
        tag=check_text(tag, "tag"),
        pinned=pinned,
        sort_field=field,
        descending=descending,
        limit=limit,
        offset=offset,
    )


async def list_experiments(stores: Stores, viewer: Viewer, query: ExperimentQuery) -> ExperimentPage:
    """Pinned first, then the requested order; `count` is every match, not just this page."""
    rows, total = await stores.repo.list_experiments(viewer.workspace, viewer.visibility, query)
    _, best = best_runs_by_experiment(await stores.repo.runs_of([row.id for row, _ in rows]))
    experiments = []
    for row, run_count in rows:
        best_run = best.get(row.id)
        experiments.append(views.experiment(row, run_count, best_run.id if best_run else None))
    return ExperimentPage(count=total, limit=query.limit, offset=query.offset, experiments=experiments)


def parse_ids(ids: str) -> list[str]:
    refs = [ref.strip() for ref in ids.split(",") if ref.strip()]
    if not MIN_COMPARED <= len(refs) <= MAX_COMPARED:
        raise InvalidInput(
            f"ids must list {MIN_COMPARED} to {MAX_COMPARED} experiment ids separated by commas; got {len(refs)}."
        )
    return refs


async def compare(stores: Stores, viewer: Viewer, ids: str) -> Comparison:
    """The experiments in the given order with their best runs' final metrics, and the parameters
    whose best-run values differ."""
    experiments = [await resolve_experiment(stores, viewer, ref) for ref in parse_ids(ids)]
    grouped, best = best_runs_by_experiment(await stores.repo.runs_of(list({e.id: None for e in experiments})))
    compared = []
    for experiment in experiments:
        best_run = best.get(experiment.id)
        compared.append(
            ComparedExperiment(
                id=experiment.id,
                name=experiment.name,
                status=views.as_status(experiment.status),
                runCount=len(grouped.get(experiment.id, [])),
                bestRunId=best_run.id if best_run else None,
                bestMetrics=scoring.final_values(best_run) if best_run else {},
                tags=list(experiment.tags or []),
                createdAt=views.iso(experiment.created_at),
            )
        )
    diff = scoring.parameter_diff([best.get(experiment.id) for experiment in experiments])
    return Comparison(experiments=compared, parameterDiff=diff)


async def stats(stores: Stores, viewer: Viewer) -> Stats:
    return Stats(**await stores.repo.stats(viewer.workspace, viewer.visibility))
