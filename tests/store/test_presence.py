"""A sessions page skips the statements that read evaluator results and spans while its workspace has
none (store/clickhouse/presence.py), and sees the first ones stored after it was read."""

from intake_service.store.clickhouse.spans import Span

from support import app_telemetry, create_experiment, ingest_ok, post_result_ok, session_rows


async def test_a_sessions_page_sees_the_first_result_and_span_stored_after_it(client, base, app, workspace) -> None:
    telemetry = await app_telemetry(app)
    name = (await create_experiment(client, base))["name"]
    session = {"session_id": "a", "started_at": "2026-01-01T00:00:00Z", "scores": {"acc": 1.0}}
    await ingest_ok(client, base, name, [session])
    [row] = await session_rows(client, base, name)
    assert (row["evaluator_scores"], row["trace_id"], row["root_span_id"]) == ({"acc": 1.0}, "a", "a")
    assert not await telemetry.presence.has("evaluator_results", workspace)  # known now: no statement next time
    assert not await telemetry.presence.has("spans", workspace)

    await post_result_ok(client, base, experiment_name=name, session_id="a", span_id="x", name="acc",
                         data_type="NUMERIC", value=0.0)  # fmt: skip
    root = Span(session_id="a", span_id="root", source="otlp", start_ns=1, trace_id="t")
    await telemetry.insert_spans(workspace, [root])
    [row] = await session_rows(client, base, name)
    assert (row["evaluator_scores"], row["trace_id"], row["root_span_id"]) == ({"acc": 0.5}, "t", "root")
