"""The differences bench/differential.py expects between intake-service and NeMo's server: those on
purpose (INTENDED) and those known and left for now (KNOWN); docs/DIFFERENTIAL.md explains them."""

# (step glob, response path glob, why the difference is on purpose), first match wins. Paths are
# dotted keys with [index] for list items ("" is the whole body, "<status>" the status code).
_ECHO = (
    "the page echoes the filter the caller asked for, parsed, with no implicit clause (CONTRACT.md section 3);"
    " NeMo echoes its compiled entity filter ($not is_deleted added, $eq spelt out, rollup filters left out)"
)
_BY_ID = (
    "sessions bind to the evaluation's id (CONTRACT.md section 4), so a deleted evaluation keeps its rollups"
    " under its new name; NeMo's sessions name the evaluation, so its renamed row has none"
)
_CONTAINER = "a group is a 0.4 container (one row for both): the root's group shows the container's fields too"
INTENDED: list[tuple[str, str, str]] = [
    ("*", "*is_favorite", _CONTAINER),
    ("*", "*show_evaluations_over_time", _CONTAINER),
    ("*", "*baseline_evaluation_name", _CONTAINER),
    ("*", "*column_layout", _CONTAINER),
    ("sessions *", "*test_case_name", "session rows carry 0.4's test_case_name beside test_case_id at both mounts"),
    ("*", "filter", _ECHO),
    ("*", "filter.*", _ECHO),
    ("sessions *", "sort", "the sessions page echoes the sort it used; NeMo's answers null"),
    ("*", "*aggregate_scores", "aggregate_scores is {} without scores, as on the seeds' experiment (one row for both)"),
    (
        "*",
        "*created_by",
        "evaluations and results carry created_by (the seeds' field; null without a caller); NeMo leaves it out",
    ),
    ("atif *", "", "our ATIF answer names the session ({session_id}); NeMo's 201 has no body"),
    ("*", "*comment", "a result's nullable fields are present with null (the seeds' rule); NeMo leaves them out"),
    ("*", "*string_value", "a result's nullable fields are present with null (the seeds' rule); NeMo leaves them out"),
    ("*", "*experiment_name", "the seeds' result carries its experiment_name scope (null: every experiment)"),
    ("result numeric without value", "*", "the seeds answer 400 for this (CONTRACT.md: POST /evaluator-results 400)"),
    ("result list without span", "*", "span_id is optional in the seeds' evaluator result (''); NeMo requires it"),
    (
        "eval list filter rollup typed",
        "*",
        "ours filters by every rollup path, test_case_count and run_count too (issue 13); NeMo 0.3.0 by the metrics",
    ),
    ("eval list deleted", "data*", _BY_ID),
    ("*", "*total_tokens", "ours gives total_tokens = input + output when a span sends none; NeMo only a sent total"),
    ("*", "*raw_attributes", "ours keeps every stored attribute; NeMo strips those it maps to fields, adds otel.scope"),
    ("eval create * group*", "detail*", "both 422; ours names the field (experiment_ids), NeMo's model the body"),
    ("annotation bad feedback", "detail*", "both 422 on the feedback's value; NeMo's loc names its union member"),
    ("sessions *", "*root_span_id", "ATIF span ids are generated: ours readable (trajectory), NeMo's hashed"),
    ("traces *", "*root_span_id", "ATIF span ids are generated: ours readable (trajectory), NeMo's hashed"),
    ("spans by evaluation", "*", "ours takes filter[parent_span_id]= (empty) for the roots; NeMo refuses it (400)"),
    (
        "session get",
        "*",
        "ours closes each ATIF step at its timestamp, so the session has an end; NeMo leaves steps open",
    ),
]

# Differences that are not on purpose but left as they are for now (docs/DIFFERENTIAL.md says why).
KNOWN: list[tuple[str, str, str]] = [
    (
        "eval patch empty groups",
        "*",
        "the document states minItems 1 on a PATCH's experiment_ids (harden11), so [] is a 422; NeMo answers 400",
    ),
    ("chat", "span_id", "a chat call's span id: NeMo takes the response's id, ours a new one"),
    ("traces *", "data[[]*[]].id", "a chat capture's trace: NeMo's is the response id, ours the session"),
    ("traces *", "data[[]*[]].name", "a chat capture's trace: NeMo names it by the model, ours 'chat session'"),
    ("traces *", "data[[]*[]].status", "a chat capture's trace: NeMo's is a success, ours unknown"),
    ("traces *", "data[[]*[]].ended_at", "a chat capture's trace: NeMo closes it, ours is open"),
    ("traces *", "data[[]*[]].duration_ms", "a chat capture's trace: NeMo closes it, ours is open"),
    ("span groups", "*", "a chat capture is 2 spans in ours (session root and call), 1 in NeMo"),
    ("*", "*cost_details", "spans: NeMo answers cost_details {} (or the captured ones), ours leaves it out"),
    ("*", "*usage_details", "spans: NeMo answers usage_details {}, ours leaves it out"),
    ("spans summary", "*", "ATIF steps as spans: NeMo's names, kinds, model and agent per step differ from ours"),
]
