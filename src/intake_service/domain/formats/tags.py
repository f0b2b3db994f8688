"""The experiment tag every ingest format may carry, in its two spellings.

- `experiment_context`: {"experiment_id": <experiment NAME>, "test_case_id"?}; unknown keys rejected.
- `evaluation_context`: {"evaluation_id": <experiment NAME>, "test_case_id"?}; the older keys
  evaluation_run_id, evaluation_sha and metadata are tolerated and ignored.
When both are sent, experiment_context wins.
"""

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

Name = Annotated[str, Field(min_length=1, max_length=255)]
TestCase = Annotated[str | None, Field(max_length=255)]


class ExperimentContext(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    experiment_id: Name
    test_case_id: TestCase = None


class EvaluationContext(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    evaluation_id: Name
    test_case_id: TestCase = None
    evaluation_run_id: Any = None
    evaluation_sha: Any = None
    metadata: Any = None


class Tagged(BaseModel):
    """Mixin for a body that may carry the tag."""

    experiment_context: ExperimentContext | None = None
    evaluation_context: EvaluationContext | None = None

    def tag(self) -> tuple[str | None, str | None]:
        """(experiment name, test case id); (None, None) when untagged."""
        if self.experiment_context is not None:
            return self.experiment_context.experiment_id, self.experiment_context.test_case_id
        if self.evaluation_context is not None:
            return self.evaluation_context.evaluation_id, self.evaluation_context.test_case_id
        return None, None
