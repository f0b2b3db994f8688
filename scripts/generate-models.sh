#!/usr/bin/env bash
# Regenerates src/intake_service/models/generated.py from openapi/intake-v2.yaml.
# A test runs the same command and fails if the checked-in module differs.
set -euo pipefail
cd "$(dirname "$0")/.."
# Request bodies are strict (models/strict.py): no coercion the document does not allow.
body="intake_service.models.strict.StrictBody"
STRICT_BODIES="{\"ExperimentRequest\": \"$body\", \"SessionInput\": \"$body\", \"SessionsIngestRequest\": \"$body\",
  \"EvaluatorResultInput\": \"$body\", \"ApiKeyRequest\": \"$body\"}"
time="intake_service.models.strict"
JSON_TIMES="{\"SessionInput.started_at\": \"$time.SessionTime\", \"SessionInput.ended_at\": \"$time.SessionTime\",
  \"ApiKeyRequest.expires_at\": \"$time.JsonDatetime\"}"
exec datamodel-codegen \
  --input openapi/intake-v2.yaml --input-file-type openapi \
  --output "${1:-src/intake_service/models/generated.py}" \
  --output-model-type pydantic_v2.BaseModel \
  --target-python-version 3.11 \
  --use-annotated --field-constraints --use-standard-collections --use-union-operator \
  --enum-field-as-literal all --use-double-quotes \
  --collapse-root-models --disable-timestamp --formatters black \
  --model-extra-keys-without-x-prefix x-examples --strict-nullable \
  --base-class-map "$STRICT_BODIES" --type-overrides "$JSON_TIMES" \
  --custom-file-header "# Generated from openapi/intake-v2.yaml by scripts/generate-models.sh. Do not edit."
