// A container's leaderboard (server-side sort, filter and paging with the API's grammar), its pareto
// chart and, when the container asks for it, its evaluations over time.
import {
  api, base, clearError, el, enc, everything, fmt, mayWrite, me, pager, query, run, showError, signed, workspace,
} from "./app.js";
import { overTime, scatter } from "./plots.js";

const ui = `/ui/workspaces/${enc(workspace)}`;
const containerName = document.body.dataset.container;
const STATS = ["sum", "mean", "median", "p90", "p95", "p99", "count"];
const METRICS = { cost_usd: "cost (USD)", latency_ms: "latency (ms)", tokens: "tokens" };
const COUNTS = { run_count: "runs", test_case_count: "test cases" };
const params = new URLSearchParams(location.search);
const state = {
  sort: params.get("sort"),
  filter: params.get("filter") || "",
  stat: params.get("stat") || "mean",
  baseline: params.get("baseline"),
  page: Number(params.get("page")) || 1,
  pageSize: Number(params.get("page_size")) || 25,
};
let group = null;
let writable = false;

// A column id as the container's column_layout may spell it: "evaluators.accuracy" or with a stat.
function normalise(id) {
  const parts = id.split(".");
  if (parts.length > 1 && STATS.includes(parts.at(-1)) && (parts[0] === "evaluators" || parts[0] in METRICS)) {
    return parts.slice(0, -1).join(".");
  }
  return id;
}

function columns(rows) {
  const evaluators = [...new Set(rows.flatMap((r) => Object.keys(r.aggregate_scores || {})))].sort();
  let ids = ["name", ...Object.keys(COUNTS), ...evaluators.map((e) => `evaluators.${e}`), ...Object.keys(METRICS)];
  const layout = group.column_layout;
  if (layout) {
    const order = (layout.order || []).map(normalise).filter((id) => ids.includes(id));
    const hidden = new Set((layout.hidden || []).map(normalise));
    ids = [...new Set([...order, ...ids])].filter((id) => id === "name" || !hidden.has(id));
  }
  return ids;
}

function label(id) {
  if (id.startsWith("evaluators.")) return id.slice("evaluators.".length);
  return COUNTS[id] || METRICS[id] || id;
}

// Whether a larger value is better (true), worse (false) or neither (null).
function higherIsBetter(id) {
  if (id.startsWith("evaluators.")) return true;
  return id in METRICS ? false : null;
}

export function value(row, id, stat) {
  if (id === "name" || id in COUNTS) return row[id];
  const aggregate = id.startsWith("evaluators.")
    ? (row.aggregate_scores || {})[id.slice("evaluators.".length)]
    : row[id];
  return aggregate ? aggregate[stat] : null;
}

function sortKey(id) {
  return id === "name" || id in COUNTS ? id : `${id}.${state.stat}`;
}

function nextSort(id) {
  const key = sortKey(id);
  const first = (state.sort || "").split(",")[0];
  if (first === `-${key}`) return key;
  if (first === key) return `-${key}`;
  return higherIsBetter(id) === false || id === "name" ? key : `-${key}`;
}

function filterParam() {
  const own = state.filter.trim() ? JSON.parse(state.filter) : {};
  if (typeof own !== "object" || Array.isArray(own) || own === null) throw new Error("The filter must be a JSON object.");
  return JSON.stringify({ ...own, experiment_group_id: group.id });
}

function remember() {
  const search = query({
    sort: state.sort === group.default_sort ? null : state.sort,
    filter: state.filter,
    stat: state.stat === "mean" ? null : state.stat,
    baseline: state.baseline === (group.baseline_evaluation_name || "") ? null : state.baseline,
    page: state.page === 1 ? null : state.page,
    page_size: state.pageSize === 25 ? null : state.pageSize,
  });
  history.replaceState(null, "", search ? `?${search}` : location.pathname);
}

async function pin(row) {
  await api(`${base}/evaluations/${enc(row.name)}/pin`, { method: row.pinned_at ? "DELETE" : "POST" });
  await leaderboard();
}

function cell(row, id, baselineRow) {
  const own = value(row, id, state.stat);
  if (id === "name") {
    return el("td", {},
      el("a", { href: `${ui}/evaluations/${enc(row.name)}` }, row.name),
      row.name === state.baseline ? el("span", { class: "tag" }, "baseline") : null);
  }
  const td = el("td", { class: "num", "data-column": id }, fmt(own));
  const aggregate = id in COUNTS ? null : id.startsWith("evaluators.") ? row.aggregate_scores[label(id)] : row[id];
  if (aggregate) td.title = STATS.map((s) => `${s}: ${fmt(aggregate[s])}`).join("\n");
  if (baselineRow && row !== baselineRow && row.name !== baselineRow.name) {
    const theirs = value(baselineRow, id, state.stat);
    if (typeof own === "number" && typeof theirs === "number") {
      const difference = own - theirs;
      const direction = higherIsBetter(id);
      const verdict = difference === 0 || direction === null ? "same" : (difference > 0) === direction ? "better" : "worse";
      td.append(el("span", { class: `delta ${verdict}`, title: "difference from the baseline" }, ` ${signed(difference)}`));
    }
  }
  return td;
}

async function leaderboard() {
  clearError();
  remember();
  const body = await api(
    `${base}/evaluations?${query({ page: state.page, page_size: state.pageSize, sort: state.sort, filter: filterParam() })}`,
  );
  const baselineRow = state.baseline
    ? body.data.find((r) => r.name === state.baseline) ||
      (await api(`${base}/evaluations/${enc(state.baseline)}`).catch(() => null))
    : null;
  const ids = columns(baselineRow ? [...body.data, baselineRow] : body.data);
  const first = (state.sort || "").split(",")[0];
  const table = document.getElementById("leaderboard");
  table.querySelector("thead").replaceChildren(
    el("tr", {},
      el("th", {}, ""),
      ...ids.map((id) => {
        const key = sortKey(id);
        const mark = first === key ? " ▲" : first === `-${key}` ? " ▼" : "";
        return el("th", { class: id === "name" ? null : "num", "data-column": id },
          el("button", { type: "button", class: "sort", onclick: () => resort(id) }, label(id) + mark));
      }),
      el("th", {}, ""),
    ),
  );
  table.querySelector("tbody").replaceChildren(
    ...body.data.map((row) =>
      el("tr", { class: row.pinned_at ? "pinned" : null, "data-run": row.name },
        el("td", {}, writable
          ? el("button", { type: "button", class: "pin", title: row.pinned_at ? "unpin" : "pin",
            onclick: () => pin(row).catch(showError) }, row.pinned_at ? "📌 Unpin" : "Pin")
          : row.pinned_at ? "📌" : ""),
        ...ids.map((id) => cell(row, id, baselineRow)),
        el("td", {}, state.baseline && row.name !== state.baseline
          ? el("a", { href: `${ui}/compare?${query({ evaluation: row.name, baseline: state.baseline })}` }, "compare")
          : ""),
      ),
    ),
  );
  pager(document.getElementById("pager"), body.pagination, (page) => {
    state.page = page;
    leaderboard().catch(showError);
  });
}

function resort(id) {
  state.sort = nextSort(id);
  state.page = 1;
  leaderboard().catch(showError);
}

function axisOptions(runs) {
  const evaluators = [...new Set(runs.flatMap((r) => Object.keys(r.aggregate_scores || {})))].sort();
  return [...Object.keys(METRICS), ...evaluators.map((e) => `evaluators.${e}`)];
}

function drawPareto(runs) {
  const xAxis = document.getElementById("pareto-x").value;
  const yAxis = document.getElementById("pareto-y").value;
  const points = runs
    .map((r) => ({ x: value(r, xAxis, "mean"), y: value(r, yAxis, "mean"), label: r.name,
      href: `${ui}/evaluations/${enc(r.name)}` }))
    .filter((p) => typeof p.x === "number" && typeof p.y === "number");
  document.getElementById("pareto").replaceChildren(
    scatter(points, { xLabel: label(xAxis), yLabel: label(yAxis), xHigher: higherIsBetter(xAxis),
      yHigher: higherIsBetter(yAxis) }),
  );
}

async function plots() {
  const runs = await everything(`${base}/evaluations`, {
    sort: "name", filter: JSON.stringify({ experiment_group_id: group.id }),
  });
  const baselineSelect = document.getElementById("baseline");
  baselineSelect.replaceChildren(el("option", { value: "" }, "none"),
    ...runs.map((r) => el("option", { value: r.name, selected: r.name === state.baseline }, r.name)));
  const options = axisOptions(runs);
  const { x_metric: x, y_metric: y } = group.pareto;
  for (const [id, chosen] of [["pareto-x", x], ["pareto-y", y]]) {
    const select = document.getElementById(id);
    const ids = options.includes(chosen) ? options : [chosen, ...options];
    select.replaceChildren(...ids.map((o) => el("option", { value: o, selected: o === chosen }, label(o))));
    select.onchange = () => drawPareto(runs);
  }
  drawPareto(runs);
  if (group.show_evaluations_over_time) {
    const evaluators = options.filter((o) => o.startsWith("evaluators."));
    const series = evaluators.map((id) => ({
      name: label(id),
      points: runs.filter((r) => typeof value(r, id, "mean") === "number")
        .map((r) => ({ t: Date.parse(r.created_at), y: value(r, id, "mean"), label: r.name })),
    }));
    document.getElementById("over-time").replaceChildren(overTime(series, "mean score"));
    document.getElementById("over-time-figure").hidden = false;
  }
}

function controls() {
  const form = document.getElementById("controls");
  document.getElementById("filter").value = state.filter;
  document.getElementById("stat").value = state.stat;
  document.getElementById("page-size").value = String(state.pageSize);
  const baselineSelect = document.getElementById("baseline");
  if (state.baseline) baselineSelect.append(el("option", { value: state.baseline, selected: true }, state.baseline));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const statChanged = state.stat !== document.getElementById("stat").value;
    state.filter = document.getElementById("filter").value;
    state.stat = document.getElementById("stat").value;
    state.baseline = baselineSelect.value;
    state.pageSize = Number(document.getElementById("page-size").value);
    state.page = 1;
    if (statChanged && state.sort) {
      // Sorting by a statistic follows the statistic shown.
      state.sort = state.sort.split(",").map((key) => {
        const parts = key.split(".");
        return parts.length > 1 && STATS.includes(parts.at(-1)) ? [...parts.slice(0, -1), state.stat].join(".") : key;
      }).join(",");
    }
    leaderboard().catch(showError);
  });
}

run(async () => {
  const who = await me();
  writable = mayWrite(who);
  group = await api(`${base}/experiment-groups/${enc(containerName)}`);
  document.getElementById("description").textContent = group.description || "";
  state.sort = state.sort || group.default_sort;
  state.baseline = state.baseline ?? (group.baseline_evaluation_name || "");
  controls();
  // The table first: the plots read every run of the container and would compete with it.
  await leaderboard();
  await plots();
});
