"""The experiment tag every ingest format may carry, in its two spellings.

- `evaluation_context` (SDK 0.3+): {"evaluation_id": <experiment NAME>, "test_case_id"?}; SDK 0.4+
  spell them `evaluation_name` / `test_case_name`, taken as aliases (both spellings must then agree).
  Both keys are optional (no name: stored untagged). Any other key (the retired evaluation_run_id,
  evaluation_sha, metadata, or a later addition) is ignored, as NeMo's 0.3.0 and 0.6.0 servers do.
- `experiment_context` (deprecated): {"experiment_id": <experiment NAME>, "test_case_id"?}; unknown
  keys rejected.
When both are sent, evaluation_context wins (NeMo's 0.3.0 rule), whole: its test case too. An empty
test case is none, as NeMo reads it back.
"""

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

Name = Annotated[str, Field(min_length=1, max_length=255)]
TestCase = Annotated[str | None, Field(max_length=255)]


class ExperimentContext(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    experiment_id: Name
    test_case_id: TestCase = None


class EvaluationContext(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True)
    evaluation_id: Name | None = None
    evaluation_name: Name | None = None
    test_case_id: TestCase = None
    test_case_name: TestCase = None

    @model_validator(mode="after")
    def _spellings_agree(self) -> "EvaluationContext":
        for new, old in (("evaluation_name", "evaluation_id"), ("test_case_name", "test_case_id")):
            if None not in (getattr(self, new), getattr(self, old)) and getattr(self, new) != getattr(self, old):
                raise ValueError(f"{new} and {old} are two spellings of one field; they must match when both are sent.")
        return self


class Tagged(BaseModel):
    """Mixin for a body that may carry the tag."""

    experiment_context: ExperimentContext | None = None
    evaluation_context: EvaluationContext | None = None

    def tag(self) -> tuple[str | None, str | None]:
        """(experiment name, test case id); (None, None) when untagged."""
        if (evaluation := self.evaluation_context) is not None:
            return evaluation.evaluation_name or evaluation.evaluation_id, (
                evaluation.test_case_name or evaluation.test_case_id or None
            )
        if self.experiment_context is not None:
            return self.experiment_context.experiment_id, self.experiment_context.test_case_id or None
        return None, None
