"""schemathesis hooks for bench/schemathesis_campaign.py (loaded through SCHEMATHESIS_HOOKS).

The generated cases may revoke any key they can name, and list-keys responses name the key the run
itself authenticates with: revoking it would turn the rest of the run into 401s. So a revoke of
that one key (its name is in CAMPAIGN_RUNNER_KEY) is never generated; every other key stays fair game.
"""

import ast
import os
import re
import threading
from typing import Any

import schemathesis
from schemathesis.specs.openapi import stateful
from schemathesis.specs.openapi.checks import positive_data_acceptance

RUNNER_KEY = os.environ.get("CAMPAIGN_RUNNER_KEY", "")


# CPython before 3.11.8 builds ast.parse's tree with a recursion counter shared by all threads
# (gh-106905): hypothesis parses lambdas' source from schemathesis's worker threads and sometimes gets
# "SystemError: AST constructor recursion depth mismatch", a runtime error of the run, not a finding.
_parse = ast.parse
_parse_lock = threading.Lock()


def _parse_one_at_a_time(*args: Any, **kwargs: Any) -> Any:
    with _parse_lock:
        return _parse(*args, **kwargs)


ast.parse = _parse_one_at_a_time  # type: ignore[assignment]


# A workspace exists as soon as a request names it; nothing creates one. schemathesis's dependency
# analysis takes the {workspace} path parameter for a reference to a resource no operation produces,
# and so starts its stateful scenarios from the one POST outside workspaces (/admin/keys) alone,
# never from the creates the document's links lead on from.
_likely_root = stateful.is_likely_root_transition


def _workspace_is_no_reference(operation: Any, node: Any, produced_anywhere: set[str]) -> bool:
    return _likely_root(operation, node, produced_anywhere | {"Workspace"})


# Only for the campaign: the in-suite smoke (tests/api/test_schemathesis.py) keeps its short stateful phase.
if os.environ.get("CAMPAIGN_STATEFUL_FROM_CREATES"):
    stateful.is_likely_root_transition = _workspace_is_no_reference


@schemathesis.hook
def filter_path_parameters(context: Any, path_parameters: dict[str, Any] | None) -> bool:
    return not RUNNER_KEY or (path_parameters or {}).get("key_name") != RUNNER_KEY


@schemathesis.hook
def before_call(context: Any, case: Any, kwargs: dict[str, Any]) -> None:
    # Stateful links fill path parameters from earlier responses, past the filter above.
    if RUNNER_KEY and case.method == "DELETE" and (case.path_parameters or {}).get("key_name") == RUNNER_KEY:
        case.path_parameters["key_name"] = f"{RUNNER_KEY}-not-this-one"


def _as_bytes(value: Any) -> bytes:
    """A generated body as the bytes sent: text as UTF-8 (surrogates too), bytes as they are."""
    if isinstance(value, bytes):
        return value
    if hasattr(value, "data"):  # schemathesis's Binary
        return bytes(value.data)
    return str(value).encode("utf-8", "surrogatepass")


# The two bodies sent as they are (NDJSON lines, an OTLP protobuf message): schemathesis has no
# serializer of its own for them.
@schemathesis.serializer("application/x-ndjson", "application/x-protobuf")
def raw_body(context: Any, value: Any) -> bytes:
    return _as_bytes(value)


# Refusals of schema-valid requests that JSON Schema cannot state, each by the one sentence the
# server answers with: a name that must already exist in the workspace (the contract's 400 for an
# ingest naming an unknown experiment), bytes that must decode as protobuf, a string (or an NDJSON
# line) that must parse as JSON, an integer written without a point or exponent that must fit 64 bits
# where ClickHouse stores it (JSON Schema sees 1e20 and 100000000000000000000 as one value, and the
# first is taken as a float), a body that must agree with a header, two fields that must agree (or differ: a span is not
# its own parent; a step's id and its place), or exactly one of two fields. Anything else a
# schema-valid request is refused with still fails the check (ST202).
INEXPRESSIBLE = re.compile(
    r"^(Experiment '.*' (must be created before it can be logged|has been deleted and cannot accept new sessions)"
    r"|Experiment group '.*' must be created before an evaluation can reference it"
    r"|The body is not a protobuf ExportTraceServiceRequest"
    r"|(The )?filter is not valid JSON|Line \d+ is not valid JSON"
    r"|metadata must not hold integers beyond 64 bits"
    r"|session_id and the X-Session-Id header name different sessions"
    r"|(Value error, )?(test_case_name and test_case_id|evaluation_name and evaluation_id) are two spellings of"
    r" one field; they must match when both are sent"
    r"|(parent_evaluation_id|baseline_evaluation_name) '.*' does not reference an existing [eE]valuation"
    r"|filter\[test_case_name\] and filter\[test_case_id\] name different test cases"
    r"|Give exactly one of s3_key or content_base64"
    r"|(Value error, )?parent_span_id must differ from span_id"
    r"|(Value error, )?ended_at must be greater than or equal to started_at|ended_at is before started_at"
    r"|(Value error, )?spans must not contain duplicate \(trace_id, span_id\) identities"
    r"|(Value error, )?steps\[\d+\]\.step_id is -?\d+; step ids run 1, 2, 3, … in order)\.?$",
    re.DOTALL,
)


def _sentence(response: Any) -> str:
    try:
        detail = response.json().get("detail")
    except (ValueError, AttributeError):
        return ""
    if isinstance(detail, list) and detail and isinstance(detail[0], dict):
        detail = detail[0].get("msg")
    return detail if isinstance(detail, str) else ""


@schemathesis.check
def positive_data_acceptance_of_stated_rules(ctx: Any, response: Any, case: Any) -> bool | None:
    """schemathesis's positive_data_acceptance (run with it excluded), less the INEXPRESSIBLE refusals."""
    try:
        return positive_data_acceptance(ctx, response, case)
    except AssertionError:
        if response.status_code in (400, 422) and INEXPRESSIBLE.match(_sentence(response)):
            return None
        raise
