// What every page shares: the API client (with the key kept in sessionStorage when auth is on), the
// caller's rights, DOM building and number formatting.
const KEY = "intake-api-key";
const data = document.body.dataset;

export const workspace = data.workspace || null;
export const base = workspace ? `/apis/intake/v2/workspaces/${encodeURIComponent(workspace)}` : null;
export const enc = encodeURIComponent;

export class ApiError extends Error {
  constructor(status, detail) {
    super(detail);
    this.status = status;
  }
}

async function detailOf(response) {
  try {
    const body = await response.json();
    if (typeof body.detail === "string") return body.detail;
    if (Array.isArray(body.detail)) return body.detail.map((d) => d.msg).join("; ");
    return JSON.stringify(body);
  } catch {
    return `${response.status} ${response.statusText}`;
  }
}

let asking = null;

// One dialog for every request that met a 401; they all wait for the same key.
function askForKey(problem) {
  if (asking) return asking;
  const dialog = document.getElementById("key-dialog");
  const note = document.getElementById("key-problem");
  note.textContent = problem || "";
  note.hidden = !problem;
  asking = new Promise((resolve) => {
    dialog.addEventListener("close", function done() {
      dialog.removeEventListener("close", done);
      const value = document.getElementById("key-input").value.trim();
      if (value) sessionStorage.setItem(KEY, value);
      asking = null;
      resolve();
    });
  });
  dialog.showModal();
  return asking;
}

export async function api(path, options = {}) {
  for (;;) {
    const headers = { Accept: "application/json", ...(options.headers || {}) };
    const key = sessionStorage.getItem(KEY);
    if (key) headers["X-API-Key"] = key;
    const response = await fetch(path, { ...options, headers });
    if (response.status === 401 && data.auth === "on") {
      sessionStorage.removeItem(KEY);
      await askForKey(key ? await detailOf(response) : "");
      continue;
    }
    if (!response.ok) throw new ApiError(response.status, await detailOf(response));
    return response.status === 204 ? null : response.json();
  }
}

export function query(params) {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== null && value !== undefined && value !== "") search.set(name, String(value));
  }
  return search.toString();
}

let caller = null;

// The caller's name and rights, read once; with auth on this is where the key is asked for.
export async function me() {
  if (!caller) {
    caller = await api("/ui/api/me");
    const label = document.getElementById("caller");
    if (label && caller.name) label.textContent = `key: ${caller.name}`;
    const forget = document.getElementById("forget-key");
    if (forget) {
      forget.hidden = false;
      forget.onclick = () => {
        sessionStorage.removeItem(KEY);
        location.reload();
      };
    }
  }
  return caller;
}

export function mayWrite(who, space = workspace) {
  return who.write && (who.workspaces.includes("*") || who.workspaces.includes(space));
}

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else if (name === "text") node.textContent = value;
    else node.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function fmt(value, digits = 4) {
  if (value === null || value === undefined) return "–";
  if (typeof value !== "number") return String(value);
  if (Number.isInteger(value)) return value.toLocaleString("en");
  const size = Math.abs(value);
  if (size >= 1000) return value.toLocaleString("en", { maximumFractionDigits: 1 });
  return Number(value.toPrecision(digits)).toString();
}

export function signed(value) {
  if (value === null || value === undefined || Number.isNaN(value)) return "";
  return (value > 0 ? "+" : value < 0 ? "−" : "±") + fmt(Math.abs(value), 3);
}

export function when(text) {
  return text ? new Date(text).toISOString().replace("T", " ").slice(0, 19) : "–";
}

export function showError(error) {
  const box = document.getElementById("error");
  box.textContent = error instanceof ApiError ? `${error.status}: ${error.message}` : String(error);
  box.hidden = false;
}

export function clearError() {
  document.getElementById("error").hidden = true;
}

// Previous / next and where we are; `go(page)` loads another page.
export function pager(nav, pagination, go) {
  const { page, total_pages: pages, total_results: total } = pagination;
  nav.replaceChildren(
    el("button", { type: "button", disabled: page <= 1, onclick: () => go(page - 1) }, "‹ previous"),
    el("span", {}, ` page ${page} of ${Math.max(pages, 1)} (${total} in all) `),
    el("button", { type: "button", disabled: page >= pages, onclick: () => go(page + 1) }, "next ›"),
  );
}

// Every page of a list, for plots that need all rows (bounded: `limit` pages of 1,000).
export async function everything(path, params, limit = 10) {
  const rows = [];
  for (let page = 1; page <= limit; page += 1) {
    const body = await api(`${path}?${query({ ...params, page, page_size: 1000 })}`);
    rows.push(...body.data);
    if (page >= body.pagination.total_pages) break;
  }
  return rows;
}

export function run(main) {
  main().catch(showError);
}
