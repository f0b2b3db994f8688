"""Experiment group rules (SDK 0.2.0 and 0.3.0): defaults, the name as identity, soft delete with a
rename (which cascades to the evaluations that belong to the group alone), the default sort, and
the group list's filters. The same rows are SDK 0.4+'s containers (domain.containers), whose
errors speak of an "Experiment": hence the `not_found` and `taken` parameters.
"""

import json
from datetime import UTC, datetime
from typing import Any

from starlette.datastructures import QueryParams
from uuid6 import uuid7

from intake_service.domain.filters import parse_bool
from intake_service.domain.listing import COLUMN_SORTS
from intake_service.domain.paging import pagination
from intake_service.domain.rollup_metrics import STATS, parse_rollup_path
from intake_service.domain.values import json_problem, metadata_too_large, text_problem
from intake_service.errors import DomainError, GroupNameTaken, GroupNotFound, GroupRenamed, validation_error
from intake_service.models.generated import (
    ColumnLayout,
    ContainerRequest,
    ContainerUpdateRequest,
    ExperimentGroupRequest,
    ExperimentGroupResponse,
    ExperimentGroupResponsesPage,
    ParetoConfig,
)
from intake_service.store.postgres.experiment_groups import (
    ContainerFields,
    ExperimentGroupRepository,
    GroupFields,
    GroupFilter,
    ParetoAxes,
)
from intake_service.store.postgres.tables import ExperimentGroup

# The text a group stores, each checked for what PostgreSQL cannot hold (check_storable); the
# document states the NUL rule on each (api.openapi).
TEXT_FIELDS = ("name", "description", "insight_id", "summary", "default_sort", "baseline_evaluation_name")

DEFAULT_SORT = "-created_at"
DEFAULT_X_METRIC, DEFAULT_Y_METRIC = "cost_usd", "latency_ms"
LIST_PARAMS = {"page", "page_size", "sort", "filter"}
TEXT_FILTERS = ("name", "insight_id", "baseline_evaluation_name")
BOOL_FILTERS = ("is_deleted", "is_favorite", "show_evaluations_over_time")
# 0.3.0's evaluation sorts that the rollup registry may not hold yet; accepted in a default sort.
EVALUATION_SORT_EXTRAS = ("test_case_count", *(f"tokens.{stat}" for stat in STATS))
DELETED_MARKER = "-deleted-"
NEW_GROUP = ContainerFields()  # a group created at the root: the container fields' defaults
NAME_MAX_LENGTH = 255


def now() -> datetime:
    return datetime.now(UTC)


def check_default_sort(default_sort: str) -> None:
    """400 unless `default_sort` is a sort the evaluations list takes: comma-separated fields, each
    optionally '-'-prefixed (the client sends it back as that list's `sort`)."""
    fields = [token.strip() for token in default_sort.split(",") if token.strip()]
    if not fields:
        raise DomainError("The 'default_sort' parameter must contain at least one field.")
    for token in fields:
        field = token.removeprefix("-")
        if field not in COLUMN_SORTS and field not in EVALUATION_SORT_EXTRAS and parse_rollup_path(field) is None:
            raise DomainError(f"Unsupported sort field in default_sort: {field!r}.")


GroupBody = ExperimentGroupRequest | ContainerRequest | ContainerUpdateRequest


def _check_not_null(body: GroupBody) -> None:
    """422 for an explicit null where the field is a string with a default (the generated model
    admits it; NeMo's does not): default_sort and the pareto axes."""
    if "default_sort" in body.model_fields_set and body.default_sort is None:
        raise validation_error(["body", "default_sort"], None, "default_sort must be a string.")
    for axis in ("x_metric", "y_metric"):
        if body.pareto is not None and axis in body.pareto.model_fields_set and getattr(body.pareto, axis) is None:
            raise validation_error(["body", "pareto", axis], None, f"{axis} must be a string.")


def check_storable(body: GroupBody) -> None:
    """422 for values the schema admits but PostgreSQL cannot store (NUL, lone surrogates)."""
    _check_not_null(body)
    for name in TEXT_FIELDS:
        value = getattr(body, name, None)
        problem = text_problem(value) if value is not None else None
        if problem:
            raise validation_error(["body", name], None, f"{name} {problem}.")
    layout = getattr(body, "column_layout", None)
    for key, columns in (layout.model_dump() if layout is not None else {}).items():
        for index, column in enumerate(columns):
            if problem := text_problem(column):
                raise validation_error(["body", "column_layout", key, index], None, f"A column id {problem}.")
    metadata = body.metadata or {}
    problem = json_problem(metadata)
    if problem:
        raise validation_error(["body", "metadata"], None, f"metadata {problem}.")
    if metadata_too_large(metadata):
        raise validation_error(["body", "metadata"], None, "metadata must be at most 64 KiB as JSON.")


def group_fields(body: GroupBody) -> GroupFields:
    """What create sets and a root PUT replaces; an omitted field goes back to its default, except
    pareto, which the caller adds (create: cost vs latency; PUT: the stored axes)."""
    check_storable(body)
    default_sort = body.default_sort if body.default_sort is not None else DEFAULT_SORT
    check_default_sort(default_sort)
    return GroupFields(
        description=body.description,
        insight_id=body.insight_id,
        summary=body.summary,
        metadata=body.metadata,
        default_sort=default_sort,
    )


def pareto_axes(pareto: ParetoConfig) -> ParetoAxes:
    return ParetoAxes(x_metric=pareto.x_metric or DEFAULT_X_METRIC, y_metric=pareto.y_metric or DEFAULT_Y_METRIC)


def _response(row: ExperimentGroup, count: int) -> ExperimentGroupResponse:
    return ExperimentGroupResponse(
        id=row.id,
        name=row.name,
        workspace=row.workspace,
        description=row.description,
        insight_id=row.insight_id,
        summary=row.summary,
        metadata=row.metadata_,
        default_sort=row.default_sort,
        pareto=ParetoConfig(x_metric=row.pareto_x_metric, y_metric=row.pareto_y_metric),
        column_layout=ColumnLayout.model_validate(row.column_layout) if row.column_layout is not None else None,
        is_favorite=row.is_favorite,
        show_evaluations_over_time=row.show_evaluations_over_time,
        baseline_evaluation_name=row.baseline_evaluation_name,
        created_at=row.created_at,
        updated_at=row.updated_at,
        evaluation_count=count,
        experiment_count=count,
    )


async def with_count(repo: ExperimentGroupRepository, row: ExperimentGroup) -> ExperimentGroupResponse:
    counts = await repo.count_experiments(row.workspace, [row.id])
    return _response(row, counts[row.id])


async def require_live(
    repo: ExperimentGroupRepository, workspace: str, name: str, not_found: type[GroupNotFound] = GroupNotFound
) -> ExperimentGroup:
    row = None if text_problem(name) else await repo.get_live(workspace, name)
    if row is None:
        raise not_found(workspace, name)
    return row


async def create(
    repo: ExperimentGroupRepository,
    workspace: str,
    body: GroupBody,
    *,
    container: ContainerFields = NEW_GROUP,
    taken: type[GroupNameTaken] = GroupNameTaken,
) -> ExperimentGroupResponse:
    created_at = now()
    row = await repo.insert(
        id=f"grp-{uuid7()}",
        workspace=workspace,
        name=body.name,
        created_at=created_at,
        fields=group_fields(body),
        pareto=pareto_axes(body.pareto or ParetoConfig()),
        container=container,
    )
    if row is None:
        raise taken(workspace, body.name)
    return _response(row, 0)


async def get(
    repo: ExperimentGroupRepository, workspace: str, name: str, not_found: type[GroupNotFound] = GroupNotFound
) -> ExperimentGroupResponse:
    return await with_count(repo, await require_live(repo, workspace, name, not_found))


async def replace(
    repo: ExperimentGroupRepository, workspace: str, name: str, body: ExperimentGroupRequest
) -> ExperimentGroupResponse:
    await require_live(repo, workspace, name)
    if body.name != name:
        raise GroupRenamed()
    fields = group_fields(body)
    # Older clients (SDK 0.2.0) send no pareto: their PUT must not reset customised axes.
    pareto = pareto_axes(body.pareto) if body.pareto is not None else None
    row = await repo.replace_fields(workspace, name, fields, pareto=pareto, updated_at=now())
    if row is None:  # deleted meanwhile
        raise GroupNotFound(workspace, name)
    return await with_count(repo, row)


def deleted_suffix(moment: datetime) -> str:
    return DELETED_MARKER + moment.astimezone(UTC).strftime("%Y%m%dT%H%M%S.%fZ")


def deleted_name(name: str, moment: datetime) -> str:
    """`<name>-deleted-<UTC time>` (groups and evaluations alike), the name cut short when the whole
    would pass the length limit."""
    suffix = deleted_suffix(moment)
    return name[: NAME_MAX_LENGTH - len(suffix)] + suffix


async def delete(
    repo: ExperimentGroupRepository, workspace: str, name: str, not_found: type[GroupNotFound] = GroupNotFound
) -> None:
    """Soft delete, renaming the row so its name is free for a new group; the evaluations that belong
    to this group alone are deleted with it (renamed the same way), those in other groups too stay."""
    row = await require_live(repo, workspace, name, not_found)
    deleted_at = now()
    new_name = deleted_name(row.name, deleted_at)
    if await repo.soft_delete(workspace, name, new_name=new_name, deleted_at=deleted_at) is None:
        raise not_found(workspace, name)
    await repo.delete_sole_members(
        workspace, row.id, suffix=deleted_suffix(deleted_at), max_length=NAME_MAX_LENGTH, deleted_at=deleted_at
    )


def _filter_item(wanted: dict[str, Any], field: str, value: Any) -> None:
    """One equality condition into `wanted` (400 for a field or value the group list cannot take)."""
    if field.startswith("metadata.") and len(field) > len("metadata."):
        key = field[len("metadata.") :]
        if not isinstance(value, str) or text_problem(key) or text_problem(value):
            raise DomainError(f"The filter on {field!r} takes one text value.")
        wanted.setdefault("metadata", {})[key] = value
    elif field in BOOL_FILTERS:
        try:
            wanted[field] = parse_bool(value)
        except ValueError:
            raise DomainError(f"The filter on {field!r} takes true or false.") from None
    elif field in TEXT_FILTERS:
        if not isinstance(value, str) or text_problem(value):
            raise DomainError(f"The filter on {field!r} takes one text value.")
        wanted[field] = value
    else:
        fields = ", ".join((*TEXT_FILTERS, *BOOL_FILTERS))
        raise DomainError(f"Unsupported filter field: {field!r}. Use {fields} or metadata.<key>.")


def _bracket_field(key: str) -> str:
    """`filter[name]`, `filter[metadata.k]` or the SDK's nested `filter[metadata][k]` → the field."""
    parts = key[len("filter[") : -1].split("][") if key.endswith("]") else []
    if len(parts) == 1 and parts[0]:
        return parts[0]
    if len(parts) == 2 and parts[0] == "metadata" and parts[1]:
        return f"metadata.{parts[1]}"
    if len(parts) == 2 and parts[1] == "$eq" and parts[0]:
        return parts[0]
    raise DomainError(f"Malformed filter parameter {key!r}; use filter[field]=value.")


def parse_group_filter(params: QueryParams) -> tuple[GroupFilter, dict[str, Any]]:
    """The list's filters, in bracket form or as one JSON object; equality only, as in NeMo's."""
    wanted: dict[str, Any] = {}
    for key, value in params.multi_items():
        if key.startswith("filter["):
            _filter_item(wanted, _bracket_field(key), value)
    raw = params.getlist("filter")
    if len(raw) > 1 or (raw and wanted):
        raise DomainError("Give the filter once: one filter={...} or filter[field]=value parameters.")
    if raw:
        try:
            obj = json.loads(raw[0])
        except (ValueError, RecursionError):
            raise DomainError("The filter is not valid JSON.") from None
        if not isinstance(obj, dict):
            raise DomainError("The filter must be a JSON object.")
        for field, value in obj.items():
            if field == "metadata" and isinstance(value, dict):
                for key, item in value.items():
                    _filter_item(wanted, f"metadata.{key}", item)
            else:
                _filter_item(wanted, field, value)
    metadata = wanted.get("metadata", {})
    echo = {k: v for k, v in wanted.items() if k != "metadata"} | {f"metadata.{k}": v for k, v in metadata.items()}
    chosen = GroupFilter(
        deleted=wanted.get("is_deleted", False),
        name=wanted.get("name"),
        insight_id=wanted.get("insight_id"),
        baseline_evaluation_name=wanted.get("baseline_evaluation_name"),
        is_favorite=wanted.get("is_favorite"),
        show_evaluations_over_time=wanted.get("show_evaluations_over_time"),
        metadata=tuple(sorted(metadata.items())),
    )
    return chosen, echo


async def list_page(
    repo: ExperimentGroupRepository, workspace: str, params: QueryParams, *, page: int, page_size: int, sort: str
) -> ExperimentGroupResponsesPage:
    for key in params:
        if key not in LIST_PARAMS and not key.startswith("filter["):
            raise DomainError(f"Unsupported query parameter: {key!r}.")
    wanted, echo = parse_group_filter(params)
    rows, total = await repo.list_page(
        workspace,
        wanted,
        sort=sort.removeprefix("-"),
        descending=sort.startswith("-"),
        offset=(page - 1) * page_size,
        limit=page_size,
    )
    counts = await repo.count_experiments(workspace, [row.id for row in rows])
    return ExperimentGroupResponsesPage(
        data=[_response(row, counts[row.id]) for row in rows],
        pagination=pagination(page, page_size, len(rows), total),
        sort=sort,
        filter=echo,
    )
