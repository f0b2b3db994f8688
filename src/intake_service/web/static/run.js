// A run: its rollups, the distribution of each evaluator's per-test-case values, its sessions (paged,
// sorted by the server) and each session's trace as a span tree.
import { api, base, el, enc, everything, fmt, me, pager, query, run, showError, when, workspace } from "./app.js";
import { histogram } from "./plots.js";

const ui = `/ui/workspaces/${enc(workspace)}`;
const name = document.body.dataset.evaluation;
const runBase = `${base}/evaluations/${enc(name)}`;
const STATS = ["mean", "median", "p90", "p95", "p99", "sum", "count"];
const SESSION_COLUMNS = [
  ["session_id", "session", null], ["test_case_id", "test case", "test_case_id"], ["status", "status", "status"],
  ["started_at", "started", "started_at"], ["latency_ms", "latency (ms)", "latency_ms"],
  ["tokens", "tokens", "tokens"], ["cost_total_usd", "cost (USD)", "cost_total_usd"],
];
const PAGE_SIZE = 25;
const sessions = { sort: "started_at", page: 1 };

function rollups(evaluation) {
  const rows = [
    ...Object.entries(evaluation.aggregate_scores || {}).map(([n, a]) => [n, a]),
    ["cost (USD)", evaluation.cost_usd], ["latency (ms)", evaluation.latency_ms], ["tokens", evaluation.tokens],
  ].filter(([, a]) => a);
  const table = document.getElementById("rollups");
  table.querySelector("thead").replaceChildren(el("tr", {}, el("th", {}, ""), ...STATS.map((s) => el("th", { class: "num" }, s))));
  table.querySelector("tbody").replaceChildren(
    ...rows.map(([n, a]) => el("tr", {}, el("th", {}, n), ...STATS.map((s) => el("td", { class: "num" }, fmt(a[s]))))),
  );
  document.getElementById("summary").textContent =
    `${evaluation.run_count} sessions over ${evaluation.test_case_count} test cases · dataset ${evaluation.dataset_name}` +
    (evaluation.status ? ` · ${evaluation.status}` : "") + ` · created ${when(evaluation.created_at)}`;
}

// Per test case: the sum of each evaluator's session scores over the test case's session count, as the
// rollups take it (an unscored session counts 0).
function perTestCase(rows) {
  const cases = new Map();
  for (const s of rows) {
    if (!s.test_case_id) continue;
    const entry = cases.get(s.test_case_id) || { sessions: 0, sums: {} };
    entry.sessions += 1;
    for (const [evaluator, score] of Object.entries(s.evaluator_scores || {})) {
      entry.sums[evaluator] = (entry.sums[evaluator] || 0) + score;
    }
    cases.set(s.test_case_id, entry);
  }
  const evaluators = [...new Set(rows.flatMap((s) => Object.keys(s.evaluator_scores || {})))].sort();
  return evaluators.map((e) => [e, [...cases.values()].map((c) => (c.sums[e] || 0) / c.sessions)]);
}

async function distributions() {
  const rows = await everything(`${runBase}/sessions`, { mode: "summary", sort: "started_at" });
  const figures = perTestCase(rows).map(([evaluator, values]) =>
    el("figure", { class: "distribution", "data-evaluator": evaluator }, histogram(values, evaluator)));
  document.getElementById("distributions").replaceChildren(
    ...(figures.length ? figures : [el("p", { class: "muted" }, "No evaluator scored a session with a test case.")]),
  );
}

function sessionValue(s, id) {
  if (id === "tokens") return s.input_tokens === null && s.output_tokens === null ? null : (s.input_tokens || 0) + (s.output_tokens || 0);
  return s[id];
}

async function sessionPage() {
  const body = await api(`${runBase}/sessions?${query({ mode: "summary", page: sessions.page, page_size: PAGE_SIZE, sort: sessions.sort })}`);
  const evaluators = [...new Set(body.data.flatMap((s) => Object.keys(s.evaluator_scores)))].sort();
  const table = document.getElementById("sessions");
  table.querySelector("thead").replaceChildren(
    el("tr", {},
      ...SESSION_COLUMNS.map(([id, title, key]) => {
        const mark = sessions.sort === key ? " ▲" : sessions.sort === `-${key}` ? " ▼" : "";
        return el("th", { "data-column": id }, key
          ? el("button", { type: "button", class: "sort", onclick: () => resort(key) }, title + mark)
          : title);
      }),
      ...evaluators.map((e) => el("th", { class: "num" }, e)),
    ),
  );
  table.querySelector("tbody").replaceChildren(
    ...body.data.map((s) =>
      el("tr", { "data-session": s.session_id },
        el("td", {}, el("button", { type: "button", class: "link", onclick: () => trace(s).catch(showError) }, s.session_id)),
        el("td", {}, s.test_case_id || "–"),
        el("td", { class: `status ${s.status}` }, s.status),
        el("td", {}, when(s.started_at)),
        ...["latency_ms", "tokens", "cost_total_usd"].map((id) => el("td", { class: "num" }, fmt(sessionValue(s, id)))),
        ...evaluators.map((e) => el("td", { class: "num" }, fmt(s.evaluator_scores[e]))),
      ),
    ),
  );
  pager(document.getElementById("sessions-pager"), body.pagination, (page) => {
    sessions.page = page;
    sessionPage().catch(showError);
  });
}

function resort(key) {
  sessions.sort = sessions.sort === key ? `-${key}` : key;
  sessions.page = 1;
  sessionPage().catch(showError);
}

function spanNode(span, children, results, start, total) {
  const begin = Date.parse(span.started_at) - start;
  const duration = span.ended_at ? Date.parse(span.ended_at) - Date.parse(span.started_at) : null;
  const tokens = span.total_tokens ?? ((span.input_tokens || 0) + (span.output_tokens || 0) || null);
  const bar = el("span", { class: "timeline" }, el("span", { class: "bar",
    "data-offset": begin, "data-duration": duration ?? 0 }));
  const mine = results.get(span.span_id) || [];
  return el("li", { class: `span ${span.status}`, "data-span": span.span_id },
    el("div", { class: "span-row" },
      el("span", { class: "span-name" }, span.name || span.kind),
      el("span", { class: "kind" }, span.kind),
      bar,
      el("span", { class: "num" }, `+${fmt(begin)} ms`),
      el("span", { class: "num" }, duration === null ? "open" : `${fmt(duration)} ms`),
      el("span", { class: "num" }, tokens ? `${fmt(tokens)} tok` : ""),
      el("span", { class: "num" }, span.cost_total_usd ? `$${fmt(span.cost_total_usd)}` : ""),
      span.model ? el("span", { class: "muted" }, span.model) : null,
      ...mine.map((r) => el("span", { class: "result", title: r.comment || "" },
        `${r.name}: ${r.value ?? r.string_value}`)),
    ),
    children.length ? el("ul", {}, children) : null,
  );
}

// Bars are placed after the tree is in the page (sizes in percent of the trace's span).
function placeBars(root, total) {
  for (const bar of root.querySelectorAll(".bar")) {
    bar.style.marginLeft = `${(100 * Number(bar.dataset.offset)) / total}%`;
    bar.style.width = `${Math.max(0.5, (100 * Number(bar.dataset.duration)) / total)}%`;
  }
}

async function trace(session) {
  document.getElementById("trace-section").hidden = false;
  document.getElementById("trace-session").textContent = session.session_id;
  const filter = { "filter[session_id]": session.session_id };
  const [spans, results] = await Promise.all([
    everything(`${base}/spans`, { ...filter, mode: "summary", sort: "started_at" }, 5),
    everything(`${base}/evaluator-results`, filter, 5),
  ]);
  const box = document.getElementById("trace");
  const scores = Object.entries(session.evaluator_scores).map(([n, v]) => `${n}: ${fmt(v)}`).join(", ");
  const header = el("p", { class: "muted" }, `${spans.length} spans · session scores: ${scores || "none"}`);
  if (!spans.length) {
    box.replaceChildren(header, el("p", { class: "muted" }, "This session has no spans (it was ingested in bulk)."));
    return;
  }
  const byResult = new Map();
  for (const r of results) byResult.set(r.span_id, [...(byResult.get(r.span_id) || []), r]);
  const ids = new Set(spans.map((s) => s.span_id));
  const children = new Map();
  for (const s of spans) {
    const parent = s.parent_span_id && ids.has(s.parent_span_id) ? s.parent_span_id : "";
    children.set(parent, [...(children.get(parent) || []), s]);
  }
  const start = Math.min(...spans.map((s) => Date.parse(s.started_at)));
  const end = Math.max(...spans.map((s) => Date.parse(s.ended_at || s.started_at)));
  const total = Math.max(end - start, 1);
  const build = (s) => spanNode(s, (children.get(s.span_id) || []).map(build), byResult, start, total);
  const tree = el("ul", { class: "span-tree" }, (children.get("") || []).map(build));
  box.replaceChildren(header, tree);
  placeBars(tree, total);
}

run(async () => {
  await me();
  const evaluation = await api(runBase);
  rollups(evaluation);
  const crumb = document.getElementById("container-crumb");
  const groups = await api(`${base}/experiment-groups?${query({ page_size: 1000 })}`);
  const home = groups.data.find((g) => g.id === evaluation.experiment_ids[0]);
  if (home) crumb.replaceChildren(el("a", { href: `${ui}/containers/${enc(home.name)}` }, home.name), " / ");
  await Promise.all([distributions(), sessionPage()]);
});
