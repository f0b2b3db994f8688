// A workspace: its containers (favourites first) and its runs (pinned first), paged.
import { api, base, el, enc, fmt, mayWrite, me, pager, query, run, showError, when, workspace } from "./app.js";

const ui = `/ui/workspaces/${enc(workspace)}`;
const PAGE_SIZE = 25;

async function containers() {
  const { data } = await api(`${base}/experiment-groups?${query({ page_size: 1000, sort: "name" })}`);
  // is_favorite arrives with the 0.4 container fields; without it the order is by name.
  const ordered = [...data].sort((a, b) => Number(Boolean(b.is_favorite)) - Number(Boolean(a.is_favorite)));
  document.querySelector("#containers tbody").replaceChildren(
    ...ordered.map((g) =>
      el("tr", { class: g.is_favorite ? "favourite" : null },
        el("td", { title: g.is_favorite ? "favourite" : null }, g.is_favorite ? "★" : ""),
        el("td", {}, el("a", { href: `${ui}/containers/${enc(g.name)}` }, g.name)),
        el("td", {}, g.description || ""),
        el("td", { class: "num" }, fmt(g.evaluation_count)),
        el("td", {}, when(g.created_at)),
      ),
    ),
  );
}

async function pin(name, pinned) {
  await api(`${base}/evaluations/${enc(name)}/pin`, { method: pinned ? "DELETE" : "POST" });
}

async function runs(page, writable) {
  // No sort: the API lists pinned runs first, then the newest.
  const body = await api(`${base}/evaluations?${query({ page, page_size: PAGE_SIZE })}`);
  document.querySelector("#runs tbody").replaceChildren(
    ...body.data.map((r) =>
      el("tr", { class: r.pinned_at ? "pinned" : null },
        el("td", { title: r.pinned_at ? "pinned" : null }, r.pinned_at ? "📌" : ""),
        el("td", {}, el("a", { href: `${ui}/evaluations/${enc(r.name)}` }, r.name)),
        el("td", {}, r.dataset_name),
        el("td", {}, r.status || ""),
        el("td", { class: "num" }, fmt(r.test_case_count)),
        el("td", {}, when(r.created_at)),
        el("td", {}, writable
          ? el("button", { type: "button", class: "pin", onclick: () =>
            pin(r.name, r.pinned_at).then(() => runs(page, writable)).catch(showError) }, r.pinned_at ? "Unpin" : "Pin")
          : null),
      ),
    ),
  );
  pager(document.getElementById("runs-pager"), body.pagination, (p) => runs(p, writable).catch(showError));
}

run(async () => {
  const who = await me();
  await Promise.all([containers(), runs(1, mayWrite(who))]);
});
