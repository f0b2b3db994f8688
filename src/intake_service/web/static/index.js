// `/`: the workspaces the caller may read.
import { api, el, enc, fmt, me, run } from "./app.js";

run(async () => {
  await me();
  const { data } = await api("/ui/api/workspaces");
  document.querySelector("#workspaces tbody").replaceChildren(
    ...data.map((w) =>
      el("tr", {},
        el("td", {}, el("a", { href: `/ui/workspaces/${enc(w.workspace)}` }, w.workspace)),
        el("td", { class: "num" }, fmt(w.group_count)),
        el("td", { class: "num" }, fmt(w.evaluation_count)),
      ),
    ),
  );
  document.getElementById("empty").hidden = data.length > 0;
});
