"""What every flow shares. Flows run in an SDK venv (nemo-platform and its client packages only),
so they import nothing from the project: the SDK, the standard library and this file."""

import json
import sys
from collections.abc import Callable
from importlib.metadata import version
from typing import Any

import nemo_platform
import pydantic


def config() -> dict[str, Any]:
    return json.loads(sys.argv[1])


def client(cfg: dict[str, Any]) -> nemo_platform.NeMoPlatform:
    # Only base_url and workspace: direct mode, no config file, no retries hiding a failure.
    # The installed distribution's version (0.3.0's module says 0.0.0 in __version__).
    assert version("nemo-platform") == cfg["sdk_version"], version("nemo-platform")
    return nemo_platform.NeMoPlatform(base_url=cfg["base_url"], workspace=cfg["workspace"], max_retries=0)


def status_of(call: Callable[[], Any]) -> dict[str, Any]:
    """The HTTP status and detail an SDK call raised (it must raise an APIStatusError)."""
    try:
        call()
    except nemo_platform.APIStatusError as exc:
        body = exc.body if isinstance(exc.body, dict) else {}
        return {"status": exc.status_code, "detail": body.get("detail"), "error": type(exc).__name__}
    raise AssertionError("the call succeeded")


# Fields the SDK types as a non-null string where the server answers null on purpose (README): the
# SDK parses them without complaint (it does not validate), so only plain()'s check needs telling.
# parent_experiment_id is a computed alias in NeMo's own 0.3.0 server, null there too without a parent.
DOCUMENTED_NULLS = {("EvaluationResponse", "parent_experiment_id")}


def plain(model: Any) -> Any:
    """An SDK response model as JSON (what the SDK parsed, not the raw body), first validated against
    the model's own types: the SDK builds its models without validation, so a field of the wrong
    type or a required one missing would otherwise pass unseen."""
    if not hasattr(model, "model_dump_json"):
        return model
    dumped = json.loads(model.model_dump_json(warnings=False))
    try:
        type(model).model_validate(dumped)
    except pydantic.ValidationError as exc:
        name = type(model).__name__
        unexpected = [
            e
            for e in exc.errors()
            if not (e["input"] is None and (name, ".".join(map(str, e["loc"]))) in DOCUMENTED_NULLS)
        ]
        assert not unexpected, f"{name} differs from the SDK's model: {unexpected}"
    return dumped


def emit(result: dict[str, Any]) -> None:
    print(json.dumps(result, default=str))


class Steps:
    """A flow's named steps, each run on its own: a step that raises is recorded as
    {"step_failed": "..."} and the flow goes on, so one missing feature leaves the other steps' results
    to be checked. A step that needs a failed one's value fails too, naming what it missed."""

    def __init__(self) -> None:
        self.out: dict[str, Any] = {}

    def __call__(self, name: str, call: Callable[[], Any]) -> Any:
        try:
            value = call()
        except Exception as exc:  # the step's failure is its result
            self.out[name] = {"step_failed": f"{type(exc).__name__}: {exc}"[:3000]}
            return None
        self.out[name] = value
        return value
