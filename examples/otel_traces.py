"""Export OpenTelemetry traces of a toy agent to intake-service: one trace per test case, a root span
tagged with the experiment and two LLM calls carrying gen_ai.* usage. Each trace becomes a session.

    pip install opentelemetry-sdk opentelemetry-exporter-otlp-proto-http
    python examples/otel_traces.py --workspace demo --experiment baseline

The experiment must exist (create it first); --api-key is needed when the server runs with
INTAKE_AUTH=api-key.
"""

import argparse
import random
import time

from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import Status, StatusCode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8080")
    parser.add_argument("--workspace", required=True)
    parser.add_argument("--experiment", required=True)
    parser.add_argument("--cases", type=int, default=5)
    parser.add_argument("--api-key")
    args = parser.parse_args()

    exporter = OTLPSpanExporter(
        endpoint=f"{args.url}/apis/intake/v2/workspaces/{args.workspace}/ingest/otlp/v1/traces",
        headers={"X-API-Key": args.api_key} if args.api_key else None,
    )
    resource = Resource.create(
        {"service.name": "toy-agent", "gen_ai.agent.name": "toy-agent", "gen_ai.agent.version": "1.0"}
    )
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(BatchSpanProcessor(exporter))
    tracer = provider.get_tracer("toy-agent")

    for case in range(args.cases):
        tag = {"nemo.experiment.id": args.experiment, "nemo.test_case.id": f"tc-{case}"}
        with tracer.start_as_current_span("agent.run", attributes=tag) as root:
            for call in range(2):
                usage = {
                    "gen_ai.request.model": "llama-3.1-8b",
                    "gen_ai.usage.input_tokens": random.randint(200, 900),
                    "gen_ai.usage.output_tokens": random.randint(10, 90),
                    "gen_ai.usage.cost": 0.0005 * (call + 1),
                }
                with tracer.start_as_current_span(f"chat llama-3.1-8b #{call + 1}", attributes=usage):
                    time.sleep(0.01)  # the model call
            root.set_status(Status(StatusCode.OK))

    provider.shutdown()  # flushes the batch: every span is sent before the script exits
    print(f"Exported {args.cases} traces to {args.workspace}/{args.experiment}.")


if __name__ == "__main__":
    main()
