// Two runs compared per evaluator and for cost, latency and tokens: the paired difference with its
// bootstrap interval and p-values, how many test cases moved which way, and the ones that moved most.
import { api, base, el, enc, fmt, me, query, run, signed, workspace } from "./app.js";
import { interval } from "./plots.js";

const ui = `/ui/workspaces/${enc(workspace)}`;
const params = new URLSearchParams(location.search);

function passFail(table) {
  if (!table) return "";
  return `both pass ${table.both_pass} · both fail ${table.both_fail} · improved ${table.improved} · ` +
    `regressed ${table.regressed} · McNemar p ${fmt(table.p_value, 3)} · pass rate ${signed(table.pass_rate_difference)}` +
    (table.ci_low === null ? "" : ` [${signed(table.ci_low)}, ${signed(table.ci_high)}]`);
}

function metricRow(m, span, confidence) {
  return el("tr", { "data-metric": m.metric, class: `verdict-${m.verdict.replace(/\W+/g, "-")}` },
    el("th", {}, m.metric, el("div", { class: "muted" }, m.higher_is_better ? "higher is better" : "lower is better")),
    el("td", { class: "num" }, fmt(m.n_common)),
    el("td", { class: "num" }, fmt(m.evaluation_mean)),
    el("td", { class: "num" }, fmt(m.baseline_mean)),
    el("td", { class: "num" }, signed(m.mean_difference)),
    el("td", { class: "num ci", title: `${Math.round(confidence * 100)} % paired bootstrap interval` },
      m.ci_low === null ? "–" : `[${signed(m.ci_low)}, ${signed(m.ci_high)}]`),
    el("td", {}, interval(m.mean_difference, m.ci_low, m.ci_high, span)),
    el("td", { class: "num" }, fmt(m.p_value, 3)),
    el("td", { class: "num" }, fmt(m.p_value_holm, 3)),
    el("td", { class: "num" }, `${m.improved} / ${m.regressed} / ${m.unchanged}`),
    el("td", {}, m.verdict, m.pass_fail ? el("div", { class: "muted pass-fail" }, passFail(m.pass_fail)) : null),
  );
}

function movers(metrics, evaluation, baseline) {
  return metrics.filter((m) => m.top_movers && m.top_movers.length).map((m) =>
    el("details", { "data-metric": m.metric },
      el("summary", {}, `Test cases that moved most on ${m.metric}`),
      el("table", { class: "grid" },
        el("thead", {}, el("tr", {}, el("th", {}, "test case"), el("th", { class: "num" }, evaluation),
          el("th", { class: "num" }, baseline), el("th", { class: "num" }, "difference"))),
        el("tbody", {}, m.top_movers.map((t) => el("tr", {}, el("td", {}, t.test_case_id),
          el("td", { class: "num" }, fmt(t.evaluation)), el("td", { class: "num" }, fmt(t.baseline)),
          el("td", { class: "num" }, signed(t.difference))))),
      ),
    ));
}

async function compare(evaluation, baseline) {
  const body = await api(`${base}/evaluations/${enc(evaluation)}/compare?${query({ baseline })}`);
  const { bootstrap, pairing } = body;
  const verdict = document.getElementById("verdict");
  verdict.textContent = `${evaluation} against ${baseline}: ${body.verdict}`;
  verdict.className = `verdict ${body.verdict.split(" ")[0]}`;
  const unpaired = (names, run) => el("span", { title: names.join(", ") || null },
    `${names.length} only in `, el("a", { href: `${ui}/evaluations/${enc(run)}` }, run));
  document.getElementById("pairing").replaceChildren(
    `${pairing.n_common} test cases paired (${pairing.method.replaceAll("_", " ")}); unpaired: `,
    unpaired(pairing.unpaired_evaluation, evaluation), ", ", unpaired(pairing.unpaired_baseline, baseline),
    ` · ${Math.round(bootstrap.confidence * 100)} % intervals from ${bootstrap.resamples} paired bootstrap resamples ` +
      `(seed ${bootstrap.seed}); p-values by Wilcoxon signed-rank, Holm-adjusted across metrics`,
  );
  const table = document.getElementById("metrics");
  table.querySelector("thead").replaceChildren(el("tr", {},
    ...["metric", "n", evaluation, baseline, "difference", "interval", "", "p", "p (Holm)", "improved / regressed / same",
      "verdict"].map((h, i) => el("th", { class: i >= 1 && i <= 5 ? "num" : null }, h))));
  table.querySelector("tbody").replaceChildren(...body.metrics.map((m) => {
    const span = Math.max(Math.abs(m.ci_low ?? 0), Math.abs(m.ci_high ?? 0), Math.abs(m.mean_difference ?? 0));
    return metricRow(m, span, bootstrap.confidence);
  }));
  document.getElementById("movers").replaceChildren(...movers(body.metrics, evaluation, baseline));
}

run(async () => {
  await me();
  const evaluation = params.get("evaluation") || "";
  const baseline = params.get("baseline") || "";
  document.getElementById("evaluation").value = evaluation;
  document.getElementById("baseline").value = baseline;
  document.getElementById("pick").addEventListener("submit", (event) => {
    event.preventDefault();
    const search = query({ evaluation: document.getElementById("evaluation").value,
      baseline: document.getElementById("baseline").value });
    location.search = search;
  });
  if (evaluation && baseline) await compare(evaluation, baseline);
});
