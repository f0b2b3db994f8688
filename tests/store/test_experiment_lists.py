"""The PostgreSQL side of rollup lists (store/postgres/experiments.py)."""

from sqlalchemy import text

from intake_service.domain.listing import ListQuery, Sort
from intake_service.store.postgres.experiments import ExperimentRepository

from support import app_state


async def test_statements_with_rollup_values_are_planned_for_their_values(app, workspace) -> None:
    """A generic plan (PostgreSQL's pick for a prepared statement after five runs) cannot hash an array
    parameter: a rollup filter of 50,000 ids then compared each row with every id, for seconds. Every
    connection plans each statement for its values, outside a transaction too."""
    engine = (await app_state(app)).sessionmaker.kw["bind"]
    async with engine.connect() as connection:
        connection = await connection.execution_options(isolation_level="AUTOCOMMIT")
        assert (await connection.scalar(text("SHOW plan_cache_mode"))) == "force_custom_plan"
    query = ListQuery(1, 10, Sort("created_at", True), True, None)
    async with (await app_state(app)).sessionmaker() as session:
        repo = ExperimentRepository(session)
        for _ in range(7):  # past the five runs after which PostgreSQL may choose a generic plan
            assert await repo.count(workspace, query, {1: (["exp-1", "exp-2"], False)}) == (0, [])
        assert (await session.scalar(text("SHOW plan_cache_mode"))) == "force_custom_plan"
