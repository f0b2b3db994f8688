"""The /evaluations filters SDKs 0.4+ add to the shared filter language (NeMo 0.6.0's list):

- `experiment_id`: membership in a group (container), the same test as `experiment_group_id`.
- `agent_name`, `agent_version`, `model_name`: an evaluation whose list facet (agent_names,
  agent_versions, model_names, as it answers them: the names of its sessions) holds the name, as
  NeMo 0.6.0 turns these filters into a `$contains` on its facets. agent_name and agent_version also
  match the run's own column, which the seeds and SDK 0.1 set, so a run shows up by the name it was
  created with. (NeMo's facets take only sessions with a test case, and every span's names; ours are
  the lists the evaluation shows, so a filter never disagrees with the row it returns.)

The facets are decided by ClickHouse first; PostgreSQL then reads the ids put on the condition.
"""

from dataclasses import replace

from intake_service.domain.filters import AllOf, AnyOf, Condition, FilterNode, Negation
from intake_service.errors import BadListQuery
from intake_service.store.clickhouse.telemetry import TelemetryStore

EXTRA_FIELDS = ("experiment_id", "model_name")
MEMBERSHIP_FIELDS = ("experiment_group_id", "experiment_id")
MEMBERSHIP_OPS = ("$eq", "$ne", "$in", "$nin")
FACETS = ("agent_name", "agent_version", "model_name")


def check_ops(condition: Condition) -> None:
    if condition.field in MEMBERSHIP_FIELDS and condition.op not in MEMBERSHIP_OPS:
        raise BadListQuery(f"{condition.field} supports only {', '.join(MEMBERSHIP_OPS)}.")
    if condition.field == "model_name" and (condition.op not in MEMBERSHIP_OPS or condition.value is None):
        raise BadListQuery(f"model_name supports only {', '.join(MEMBERSHIP_OPS)}, with a name.")


async def observe(telemetry: TelemetryStore, workspace: str, node: FilterNode | None) -> FilterNode | None:
    """`node` with every facet condition carrying the ids of the evaluations that show its value."""

    async def walk(node: FilterNode) -> FilterNode:
        if isinstance(node, Negation):
            return Negation(await walk(node.node))
        if isinstance(node, AllOf | AnyOf):
            return type(node)(tuple([await walk(child) for child in node.nodes]))
        # $like and null keep to the run's own column: a name seen in telemetry is matched whole.
        if node.field not in FACETS or node.op not in MEMBERSHIP_OPS or node.value is None:
            return node
        values = list(node.value) if isinstance(node.value, tuple) else [node.value]
        ids = await telemetry.evaluations_observing(workspace, node.field, values)
        return replace(node, observed=tuple(ids))

    return None if node is None else await walk(node)
