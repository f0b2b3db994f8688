"""schemathesis hooks for bench/schemathesis_campaign.py (loaded through SCHEMATHESIS_HOOKS).

The generated cases may revoke any key they can name, and list-keys responses name the key the run
itself authenticates with: revoking it would turn the rest of the run into 401s. So a revoke of
that one key (its name is in CAMPAIGN_RUNNER_KEY) is never generated; every other key stays fair game.
"""

import os
from typing import Any

import schemathesis

RUNNER_KEY = os.environ.get("CAMPAIGN_RUNNER_KEY", "")


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
