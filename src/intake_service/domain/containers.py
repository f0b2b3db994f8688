"""Container rules (SDK 0.4.0 to 0.6.0, `/experiments` under /nemo-0.4): the root's experiment
groups with favorite, over-time display, a baseline evaluation and a saved column layout.

Create, get, list and delete are the groups' own (domain.experiment_groups), in this generation's
words. A PUT follows 0.6.0: a field it omits keeps its stored value. The baseline must be a live
evaluation of the container; while it is, the evaluation can be neither deleted nor moved out
(domain.evaluations asks `check_baseline_kept`).
"""

from intake_service.domain import experiment_groups as groups
from intake_service.errors import (
    BaselineInUse,
    ContainerNameTaken,
    ContainerNotFound,
    ContainerRenamed,
    DomainError,
)
from intake_service.models.generated import ContainerRequest, ContainerUpdateRequest, ExperimentGroupResponse
from intake_service.store.postgres.evaluations import UNCHANGED, EvaluationRepository
from intake_service.store.postgres.experiment_groups import (
    ContainerChanges,
    ContainerFields,
    ExperimentGroupRepository,
)

# The fields a PUT changes only when the body names them (an explicit null clears the nullable ones).
KEPT_WHEN_OMITTED = ("description", "insight_id", "summary", "metadata", "default_sort", "is_favorite",
                     "show_evaluations_over_time")  # fmt: skip


async def create(repo: ExperimentGroupRepository, workspace: str, body: ContainerRequest) -> ExperimentGroupResponse:
    layout = body.column_layout.model_dump() if body.column_layout is not None else None
    container = ContainerFields(
        is_favorite=body.is_favorite,
        show_evaluations_over_time=body.show_evaluations_over_time,
        column_layout=layout,
    )
    return await groups.create(repo, workspace, body, container=container, taken=ContainerNameTaken)


async def get(repo: ExperimentGroupRepository, workspace: str, name: str) -> ExperimentGroupResponse:
    return await groups.get(repo, workspace, name, ContainerNotFound)


async def delete(repo: ExperimentGroupRepository, workspace: str, name: str) -> None:
    await groups.delete(repo, workspace, name, ContainerNotFound)


async def _check_baseline(repo: ExperimentGroupRepository, workspace: str, group_id: str, name: str) -> None:
    """400 unless `name` is a live evaluation in the container; it stays locked until the PUT commits."""
    evaluation = await repo.lock_live_evaluation(workspace, name)
    if evaluation is None:
        raise DomainError(f"baseline_evaluation_name '{name}' does not reference an existing Evaluation.")
    if group_id not in evaluation.experiment_ids:
        raise DomainError(
            f"Evaluation '{name}' must be a live member of the Experiment before it can be selected as its baseline."
        )


async def update(
    repo: ExperimentGroupRepository, workspace: str, name: str, body: ContainerUpdateRequest
) -> ExperimentGroupResponse:
    row = await groups.require_live(repo, workspace, name, ContainerNotFound)
    if body.name != name:
        raise ContainerRenamed()
    groups.check_storable(body)
    present = body.model_fields_set
    if "default_sort" in present:
        groups.check_default_sort(body.default_sort)
    if body.baseline_evaluation_name is not None:
        await _check_baseline(repo, workspace, row.id, body.baseline_evaluation_name)
    kept = {field: getattr(body, field) for field in KEPT_WHEN_OMITTED if field in present}
    if "baseline_evaluation_name" in present:
        kept["baseline_evaluation_name"] = body.baseline_evaluation_name
    changes = ContainerChanges(
        **kept,
        # A null pareto or layout keeps the stored one too, as 0.6.0's server does.
        pareto=groups.pareto_axes(body.pareto) if body.pareto is not None else UNCHANGED,
        column_layout=body.column_layout.model_dump() if body.column_layout is not None else UNCHANGED,
    )
    updated = await repo.change_fields(workspace, name, changes, updated_at=groups.now())
    if updated is None:  # deleted meanwhile
        raise ContainerNotFound(workspace, name)
    return await groups.with_count(repo, updated)


async def check_baseline_kept(repo: EvaluationRepository, workspace: str, evaluation: str, leaving: list[str]) -> None:
    """409 when the evaluation is the baseline of a live container among the groups it leaves."""
    container = await repo.baseline_group(workspace, evaluation, leaving) if leaving else None
    if container is not None:
        raise BaselineInUse(evaluation, container)
