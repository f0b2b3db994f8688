"""A rollup's sum and mean do not depend on the order ClickHouse meets the rows in
(`evaluation_rollups.ordered_sum` / `ordered_mean`), so one set of sessions answers one value at
every read: the pivot's JSON and NDJSON once disagreed in the last digit (0.325 against
0.32499999999999996)."""

from itertools import permutations

from intake_service.store.clickhouse.evaluation_rollups import ordered_mean, ordered_sum

from support import app_telemetry

VALUES = [0.1, 0.2, 0.3, 0.7, 1e-3]


async def test_one_set_of_values_has_one_sum_and_one_mean_in_any_order(app) -> None:
    executor = (await app_telemetry(app)).executor
    statement = (
        f"SELECT {ordered_sum('v')} AS ordered_sum, {ordered_mean('v')} AS ordered_mean, sum(v) AS plain_sum "
        "FROM (SELECT arrayJoin({values:Array(Nullable(Float64))}) AS v)"
    )
    answers = [executor.query(statement, {"values": [*order, None]})[0] for order in permutations(VALUES)]
    # The values were chosen so that adding them in different orders gives different floats.
    assert len({row["plain_sum"] for row in answers}) > 1
    assert {row["ordered_sum"] for row in answers} == {sum(sorted(VALUES))}
    assert {row["ordered_mean"] for row in answers} == {sum(sorted(VALUES)) / len(VALUES)}
