// The confect dashboard: one page, no build step, nothing fetched but this deployment's
// own endpoints (/_dashboard/api/*, with the admin key) and its live channel.
"use strict";

const KEY_STORE = `confect.adminKey.${location.host}`;
const PAGE = 50;
const KEEP_CALLS = 1000;

const state = {
  key: null,
  view: null, // the current view: { render(), onCommit(tables), onCall(call) }
  calls: [], // the live log, oldest first
  socket: null,
  functions: null, // cached list
};

// --- small DOM helpers ---------------------------------------------------------------------

function h(tag, props = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on")) element.addEventListener(name.slice(2), value);
    else if (name === "class") element.className = value;
    else if (name in element && typeof value !== "string") element[name] = value;
    else element.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : String(child));
  }
  return element;
}

// `element`'s children made `children` (arrays flattened, nulls left out).
function replaceWith(element, ...children) {
  element.replaceChildren(...children.flat().filter((child) => child !== null && child !== undefined && child !== false));
}

function show(...children) {
  const main = document.getElementById("main");
  replaceWith(main, ...children);
  return main;
}

let toastTimer = null;
function toast(message, bad = false) {
  const box = document.getElementById("toast");
  box.textContent = message;
  box.className = bad ? "bad" : "";
  box.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => (box.hidden = true), bad ? 6000 : 2500);
}

// --- values: Convex's wire JSON, shown as people read it ---------------------------------

function int64Of(base64) {
  const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  return new DataView(bytes.buffer).getBigInt64(0, true);
}

// A wire value as JSON text in which an int64 reads `123n`.
function pretty(value, indent = 2) {
  return JSON.stringify(readable(value), null, indent).replace(/"\uE000(-?\d+n)"/g, "$1");
}

function readable(value) {
  if (Array.isArray(value)) return value.map(readable);
  if (value && typeof value === "object") {
    const keys = Object.keys(value);
    if (keys.length === 1 && keys[0] === "$integer") return `\uE000${int64Of(value.$integer)}n`; // a mark JSON text keeps as it is
    if (keys.length === 1 && keys[0] === "$bytes") return `<${atob(value.$bytes).length} bytes>`;
    return Object.fromEntries(keys.map((k) => [k, readable(value[k])]));
  }
  return value;
}

function cell(value, field) {
  if (value === undefined) return h("span", { class: "muted" }, "—");
  if (field === "_creationTime" && typeof value === "number") return when(value);
  if (typeof value === "string") return value;
  return pretty(value, 0);
}

function when(ms) {
  const date = new Date(ms);
  return `${date.toLocaleDateString()} ${date.toLocaleTimeString()}`;
}

function clock(seconds) {
  const date = new Date(seconds * 1000);
  return `${date.toLocaleTimeString([], { hour12: false })}.${String(date.getMilliseconds()).padStart(3, "0")}`;
}

// What a person types where a value goes: JSON if it parses (`3`, `true`, `"x"`), else text.
function typedValue(text) {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function size(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

// --- the server ----------------------------------------------------------------------------

class ApiError extends Error {}

async function api(name, body = {}) {
  const response = await fetch(`/_dashboard/api/${name}`, {
    method: "POST",
    headers: { authorization: `Convex ${state.key}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const answer = await response.json();
  if (response.status === 401) {
    signOut(answer.message);
    throw new ApiError(answer.message);
  }
  if (!response.ok) throw new ApiError(answer.message ?? `HTTP ${response.status}`);
  return answer;
}

function connect() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const socket = new WebSocket(`${scheme}://${location.host}/_dashboard/api/live`);
  state.socket = socket;
  const live = document.getElementById("live");
  socket.onopen = () => socket.send(JSON.stringify({ admin_key: state.key }));
  socket.onmessage = (message) => {
    const event = JSON.parse(message.data);
    if (event.type === "ready") {
      live.className = "live on";
      live.textContent = "live";
    } else if (event.type === "call") {
      state.calls.push(event.call);
      if (state.calls.length > KEEP_CALLS) state.calls.shift();
      state.view?.onCall?.(event.call);
    } else if (event.type === "commit") {
      state.view?.onCommit?.(event.tables);
    }
  };
  socket.onclose = (closed) => {
    live.className = "live off";
    live.textContent = "offline";
    if (state.socket !== socket || !state.key) return;
    if (closed.code === 4001) return signOut("the admin key is not this deployment's");
    state.calls = [];
    setTimeout(() => state.socket === socket && connect(), 1000);
  };
}

// --- signing in ------------------------------------------------------------------------------

function signOut(reason) {
  localStorage.removeItem(KEY_STORE);
  state.key = null;
  const socket = state.socket;
  state.socket = null;
  socket?.close();
  signInPage(reason);
}

function signInPage(reason) {
  document.getElementById("nav").hidden = true;
  document.getElementById("sign-out").hidden = true;
  const input = h("input", { id: "admin-key", type: "password", placeholder: "admin key", autocomplete: "off" });
  const submit = async (event) => {
    event.preventDefault();
    state.key = input.value.trim();
    try {
      await api("deployment");
      localStorage.setItem(KEY_STORE, state.key);
      start();
    } catch (error) {
      signInPage(error instanceof ApiError ? "That is not this deployment's admin key." : error.message);
    }
  };
  show(
    h(
      "form",
      { class: "signin", onsubmit: submit },
      h("h2", {}, "Sign in to this deployment"),
      h(
        "p",
        {},
        "Paste the deployment's admin key: ",
        h("code", {}, "confect dev"),
        " prints a link that signs in directly, and keeps the key in the app's ",
        h("code", {}, ".confect/admin_key"),
        ".",
      ),
      input,
      reason ? h("p", { class: "error", id: "sign-in-error" }, reason) : null,
      h("button", { class: "primary", type: "submit" }, "Sign in"),
    ),
  ).className = "signed-out";
  input.focus();
}

function start() {
  document.getElementById("nav").hidden = false;
  document.getElementById("sign-out").hidden = false;
  document.getElementById("main").className = "";
  document.getElementById("where").textContent = location.host;
  if (!state.socket) connect();
  if (!location.hash.startsWith("#/")) location.hash = "#/data";
  else route();
}

// --- routing -------------------------------------------------------------------------------

const VIEWS = {
  data: dataView,
  functions: functionsView,
  logs: logsView,
  schedules: schedulesView,
  files: filesView,
  deployment: deploymentView,
};

function route() {
  if (!state.key) return;
  const [name, ...rest] = location.hash.slice(2).split("/");
  const view = VIEWS[name] ?? dataView;
  document.querySelector(".detail")?.remove();
  for (const link of document.querySelectorAll("#nav a")) {
    link.classList.toggle("current", link.dataset.view === (VIEWS[name] ? name : "data"));
  }
  state.view = view(decodeURIComponent(rest.join("/")));
}

// --- Data ----------------------------------------------------------------------------------

function dataView(tableName) {
  const view = { onCommit: null };
  api("tables").then(({ tables }) => {
    if (state.view !== view) return;
    const table = tables.find((t) => t.name === tableName) ?? tables[0];
    const list = h(
      "div",
      { class: "list", id: "tables" },
      h("div", { class: "group" }, "Tables"),
      tables.filter((t) => !t.system).map((t) => tableLink(t, table)),
      h("div", { class: "group" }, "System"),
      tables.filter((t) => t.system).map((t) => tableLink(t, table)),
    );
    const pane = h("div", { class: "pane" });
    show(h("div", { class: "split" }, list, pane));
    if (table) documentsPane(view, pane, table);
  }, (error) => toast(error.message, true));
  return view;
}

function tableLink(table, current) {
  return h(
    "a",
    { href: `#/data/${encodeURIComponent(table.name)}`, class: table === current ? "current" : "", "data-table": table.name },
    table.name,
  );
}

function documentsPane(view, pane, table) {
  const query = { table: table.name, index: "by_creation_time", order: "desc", eq: [] };
  let shown = [];
  let cursor = null;
  const selected = new Set();
  let open = null; // the document in the side panel

  const indexFields = (name) =>
    name === "by_creation_time"
      ? ["_creationTime"]
      : name === "by_id"
        ? ["_id"]
        : [...table.indexes.find((i) => i.name === name).fields, "_creationTime"];

  // the filter bar: an index and values for its fields, and a field equal to a value
  const indexSelect = h(
    "select",
    { id: "index" },
    ["by_creation_time", ...table.indexes.map((i) => i.name)].map((name) => h("option", { value: name }, name)),
  );
  const orderSelect = h("select", { id: "order" }, h("option", { value: "desc" }, "newest first"), h("option", { value: "asc" }, "oldest first"));
  const rangeInputs = h("span", { class: "range" });
  // then a range on the field after the equalities given
  const lowerOp = h("select", { id: "lower-op" }, h("option", { value: "gte" }, "≥"), h("option", { value: "gt" }, ">"));
  const lowerValue = h("input", { id: "lower-value", placeholder: "from", title: "the next field from this value" });
  const upperOp = h("select", { id: "upper-op" }, h("option", { value: "lt" }, "<"), h("option", { value: "lte" }, "≤"));
  const upperValue = h("input", { id: "upper-value", placeholder: "to", title: "the next field up to this value" });
  const fieldPath = h("input", { id: "field-path", placeholder: "field" });
  const fieldValue = h("input", { id: "field-value", placeholder: "equals", title: "a value: JSON (3, true, \"x\") or plain text" });
  const drawRange = () => {
    const fields = indexFields(indexSelect.value).slice(0, -1);
    rangeInputs.replaceChildren(
      ...fields.map((field) => h("input", { class: "eq", "data-field": field, placeholder: `${field} =`, title: `${field} equals (JSON or text); fill the fields in order` })),
    );
  };
  indexSelect.onchange = drawRange;
  drawRange();
  const apply = () => {
    query.index = indexSelect.value;
    query.order = orderSelect.value;
    query.eq = [];
    for (const input of rangeInputs.querySelectorAll("input.eq")) {
      if (input.value === "") break;
      query.eq.push(typedValue(input.value));
    }
    query.lower = lowerValue.value ? { op: lowerOp.value, value: typedValue(lowerValue.value) } : null;
    query.upper = upperValue.value ? { op: upperOp.value, value: typedValue(upperValue.value) } : null;
    query.field = fieldPath.value ? { path: fieldPath.value, value: typedValue(fieldValue.value) } : null;
    load(false);
  };
  const clear = () => {
    indexSelect.value = "by_creation_time";
    orderSelect.value = "desc";
    fieldPath.value = fieldValue.value = lowerValue.value = upperValue.value = "";
    drawRange();
    apply();
  };
  const filters = h(
    "form",
    { class: "filters", onsubmit: (e) => (e.preventDefault(), apply()) },
    h("label", {}, "Index", indexSelect),
    rangeInputs,
    h("span", { class: "bounds", title: "a range on the index's next field" }, lowerOp, lowerValue, upperOp, upperValue),
    orderSelect,
    h("label", {}, "Filter", fieldPath, fieldValue),
    h("button", { type: "submit", class: "primary", id: "apply" }, "Apply"),
    h("button", { type: "button", onclick: clear }, "Clear"),
  );

  const count = h("span", { class: "muted", id: "count" });
  const deleteSelected = h("button", { class: "danger", id: "delete-selected", disabled: true, onclick: () => remove([...selected]) }, "Delete selected");
  const toolbar = h(
    "div",
    { class: "toolbar" },
    h("h2", { class: "flat" }, table.name),
    table.system ? h("span", { class: "badge" }, "system, read-only") : null,
    count,
    h("span", { class: "spacer" }),
    h("button", { id: "show-schema", onclick: () => schemaPanel(table) }, "Schema"),
    table.system ? null : h("button", { id: "add-document", onclick: () => editPanel(null) }, "Add document"),
    table.system ? null : deleteSelected,
  );
  const grid = h("div", { id: "documents" });
  const more = h("button", { id: "load-more", hidden: true, onclick: () => load(true) }, "Load more");
  pane.replaceChildren(toolbar, filters, grid, h("div", { class: "actions" }, more));

  async function load(append, limit = PAGE) {
    try {
      const page = await api("documents", { ...query, limit, cursor: append ? cursor : null });
      if (state.view !== view) return;
      shown = append ? [...shown, ...page.documents] : page.documents;
      cursor = page.cursor;
      draw();
    } catch (error) {
      toast(error.message, true);
    }
  }

  function draw() {
    const columns = ["_id"];
    for (const doc of shown) for (const key of Object.keys(doc)) if (!columns.includes(key) && key !== "_creationTime") columns.push(key);
    columns.push("_creationTime");
    for (const id of [...selected]) if (!shown.some((d) => d._id === id)) selected.delete(id);
    deleteSelected.disabled = selected.size === 0;
    count.textContent = `${shown.length} document${shown.length === 1 ? "" : "s"} shown${cursor ? ", more below" : ""}`;
    more.hidden = !cursor;
    if (!shown.length) {
      grid.replaceChildren(h("div", { class: "empty" }, cursor ? "Nothing found yet: load more to search on." : "No documents."));
      return;
    }
    const rows = shown.map((doc) => {
      const check = h("input", {
        type: "checkbox",
        checked: selected.has(doc._id),
        onclick: (event) => event.stopPropagation(),
        onchange: (event) => {
          event.target.checked ? selected.add(doc._id) : selected.delete(doc._id);
          deleteSelected.disabled = selected.size === 0;
        },
      });
      return h(
        "tr",
        { "data-id": doc._id, class: open && open._id === doc._id ? "selected" : "", onclick: () => documentPanel(doc) },
        table.system ? null : h("td", { class: "check" }, check),
        columns.map((column) => h("td", { title: column in doc ? pretty(doc[column], 0) : "" }, cell(doc[column], column))),
      );
    });
    grid.replaceChildren(
      h(
        "table",
        { class: "grid" },
        h("thead", {}, h("tr", {}, table.system ? null : h("th", { class: "check" }), columns.map((c) => h("th", {}, c)))),
        h("tbody", {}, rows),
      ),
    );
  }

  function closePanel() {
    document.querySelector(".detail")?.remove();
    open = null;
    draw();
  }

  function panel(...children) {
    document.querySelector(".detail")?.remove();
    document.body.append(h("aside", { class: "detail" }, ...children));
  }

  function documentPanel(doc) {
    open = doc;
    draw();
    panel(
      h("div", { class: "toolbar" }, h("h2", { class: "flat" }, "Document"), h("span", { class: "spacer" }), h("button", { class: "quiet", onclick: closePanel }, "Close")),
      h("pre", { class: "json", id: "document-json" }, pretty(doc)),
      table.system
        ? null
        : h(
            "div",
            { class: "actions" },
            h("button", { id: "edit-document", onclick: () => editPanel(doc) }, "Edit"),
            h("button", { class: "danger", id: "delete-document", onclick: () => remove([doc._id]) }, "Delete"),
          ),
    );
  }

  function editPanel(doc) {
    const fields = doc ? Object.fromEntries(Object.entries(doc).filter(([k]) => !k.startsWith("_"))) : {};
    const text = h("textarea", { id: "document-editor", spellcheck: false }, JSON.stringify(fields, null, 2));
    const problem = h("div", { class: "error", id: "edit-error" });
    const save = async () => {
      let parsed;
      try {
        parsed = JSON.parse(text.value);
      } catch (error) {
        problem.textContent = `Not valid JSON: ${error.message}`;
        return;
      }
      try {
        if (doc) await api("replace", { table: table.name, id: doc._id, document: parsed });
        else await api("insert", { table: table.name, document: parsed });
        toast(doc ? "Saved" : "Added");
        closePanel();
        await load(false, Math.max(PAGE, Math.min(shown.length, 500)));
      } catch (error) {
        problem.textContent = error.message;
      }
    };
    open = doc;
    panel(
      h("div", { class: "toolbar" }, h("h2", { class: "flat" }, doc ? "Edit document" : `Add a document to ${table.name}`), h("span", { class: "spacer" }), h("button", { class: "quiet", onclick: closePanel }, "Close")),
      doc ? h("p", { class: "muted mono" }, doc._id) : null,
      h("p", { class: "muted" }, "The fields as Convex JSON (an int64 is {\"$integer\": base64}); checked against the schema: ", h("code", {}, table.document)),
      text,
      problem,
      h("div", { class: "actions" }, h("button", { class: "primary", id: "save-document", onclick: save }, doc ? "Save" : "Add"), h("button", { onclick: closePanel }, "Cancel")),
    );
    text.focus();
  }

  async function remove(ids) {
    if (!confirm(`Delete ${ids.length} document${ids.length === 1 ? "" : "s"} from ${table.name}?`)) return;
    try {
      await api("delete", { table: table.name, ids });
      toast(`Deleted ${ids.length}`);
      selected.clear();
      closePanel();
      await load(false, Math.max(PAGE, Math.min(shown.length, 500)));
    } catch (error) {
      toast(error.message, true);
    }
  }

  function schemaPanel(table) {
    panel(
      h("div", { class: "toolbar" }, h("h2", { class: "flat" }, `Schema of ${table.name}`), h("span", { class: "spacer" }), h("button", { class: "quiet", onclick: closePanel }, "Close")),
      h("h3", {}, "Documents"),
      h("pre", { class: "json", id: "schema-document" }, table.document),
      h("h3", {}, "Indexes"),
      h(
        "table",
        { class: "grid", id: "schema-indexes" },
        h("thead", {}, h("tr", {}, h("th", {}, "name"), h("th", {}, "fields"))),
        h(
          "tbody",
          {},
          h("tr", {}, h("td", {}, "by_id"), h("td", {}, "_id")),
          h("tr", {}, h("td", {}, "by_creation_time"), h("td", {}, "_creationTime")),
          table.indexes.map((i) => h("tr", {}, h("td", {}, i.name), h("td", {}, [...i.fields, "_creationTime"].join(", ")))),
        ),
      ),
      table.search_indexes.length ? h("h3", {}, "Search indexes") : null,
      table.search_indexes.map((s) => h("p", { class: "mono" }, `${s.name}: ${s.search_field}`, s.filter_fields.length ? ` (filters: ${s.filter_fields.join(", ")})` : "")),
    );
  }

  // live: a commit to this table reloads what is shown (as many documents, up to a bound);
  // commits during a reload make one more reload after it
  let reloading = null;
  let stale = false;
  view.onCommit = async (tables) => {
    if (!tables.includes(table.name)) return;
    if (reloading) {
      stale = true;
      return;
    }
    do {
      stale = false;
      reloading = load(false, Math.max(PAGE, Math.min(shown.length, 500)));
      await reloading;
    } while (stale && state.view === view);
    reloading = null;
    if (open) {
      const fresh = shown.find((d) => d._id === open._id);
      const showing = document.getElementById("document-json");
      if (fresh && showing) showing.textContent = pretty(fresh);
    }
  };
  load(false);
}

// --- Functions -----------------------------------------------------------------------------

function functionsView(path) {
  const view = {};
  api("functions").then(({ functions }) => {
    if (state.view !== view) return;
    state.functions = functions;
    const current = functions.find((f) => f.path === path) ?? functions[0];
    const search = h("input", { class: "search", placeholder: "Filter functions" });
    const links = functions.map((f) =>
      h(
        "a",
        { href: `#/functions/${encodeURIComponent(f.path)}`, class: f === current ? "current" : "", "data-path": f.path, title: f.path },
        h("span", { class: "name" }, f.path),
        h("span", { class: `badge ${f.kind}` }, f.kind[0].toUpperCase()),
      ),
    );
    search.oninput = () => links.forEach((link) => (link.hidden = !link.dataset.path.includes(search.value)));
    const pane = h("div", { class: "pane" });
    show(h("div", { class: "split" }, h("div", { class: "list", id: "functions" }, search, links), pane));
    if (current) functionPane(pane, current);
  }, (error) => toast(error.message, true));
  return view;
}

function functionPane(pane, fn) {
  const args = h("textarea", { id: "args", rows: 6, spellcheck: false }, "{}");
  const actAs = h("select", { id: "act-as" }, h("option", { value: "admin" }, "admin (no user)"), h("option", { value: "user" }, "a user"));
  const subject = h("input", { id: "subject", placeholder: "subject (user id)", hidden: true });
  const name = h("input", { id: "user-name", placeholder: "name", hidden: true });
  actAs.onchange = () => (subject.hidden = name.hidden = actAs.value !== "user");
  const result = h("div", { id: "result" });
  const run = async () => {
    let parsed;
    try {
      parsed = JSON.parse(args.value || "{}");
    } catch (error) {
      result.replaceChildren(h("div", { class: "error-box" }, `The arguments are not valid JSON: ${error.message}`));
      return;
    }
    const request = { path: fn.path, args: parsed };
    if (actAs.value === "user") request.identity = { subject: subject.value || "dashboard-user", name: name.value || null };
    result.replaceChildren(h("p", { class: "muted" }, "Running…"));
    const started = performance.now();
    try {
      const answer = await api("run", request);
      const took = `${(performance.now() - started).toFixed(0)} ms`;
      result.replaceChildren(
        h("h3", {}, answer.success ? "Result" : "Error", " ", h("span", { class: `badge ${answer.success ? "ok" : "failed"}` }, answer.success ? "ok" : "failed"), " ", h("span", { class: "muted" }, took)),
        answer.success ? h("pre", { class: "box", id: "run-value" }, pretty(answer.value)) : h("pre", { class: "error-box", id: "run-error" }, answer.error),
        h("h3", {}, "Log lines"),
        answer.log_lines.length
          ? h("div", { class: "box calls", id: "run-logs" }, answer.log_lines.map((line) => h("div", { class: `line ${line.level.toLowerCase()}` }, `${clock(line.timestamp)} [${line.level}] ${line.text}`)))
          : h("p", { class: "muted", id: "run-logs" }, "none"),
      );
    } catch (error) {
      result.replaceChildren(h("pre", { class: "error-box", id: "run-error" }, error.message));
    }
  };
  replaceWith(
    pane,
    h("div", { class: "toolbar" }, h("h2", { class: "flat" }, h("span", { class: "mono" }, fn.path)), h("span", { class: `badge ${fn.kind}` }, fn.kind), fn.visibility === "internal" ? h("span", { class: "badge internal" }, "internal") : null),
    h(
      "dl",
      { class: "kv" },
      h("dt", {}, "Arguments"),
      h("dd", { id: "fn-args" }, fn.args ?? "not declared (any)"),
      h("dt", {}, "Returns"),
      h("dd", { id: "fn-returns" }, fn.returns ?? "not declared (any)"),
    ),
    h("h3", {}, "Run"),
    fn.kind === "http_action" ? h("p", { class: "muted" }, "An http action runs through its route.") : [
      h("p", { class: "muted" }, "Arguments as Convex JSON. Runs with the admin key (internal functions too), as a user if chosen."),
      args,
      h("div", { class: "actions" }, h("label", {}, "Act as", actAs), subject, name, h("button", { class: "primary", id: "run", onclick: run }, `Run ${fn.kind}`)),
    ],
    result,
  );
}

// --- Logs ----------------------------------------------------------------------------------

function logsView() {
  const view = {};
  const fn = h("input", { id: "log-function", placeholder: "function (part of its path)" });
  const outcome = h(
    "select",
    { id: "log-outcome" },
    h("option", { value: "" }, "any outcome"),
    h("option", { value: "ok" }, "succeeded"),
    h("option", { value: "failed" }, "failed"),
    h("option", { value: "cached" }, "cached"),
  );
  const pause = h("input", { type: "checkbox", id: "log-pause" });
  const list = h("div", { class: "calls", id: "calls" });
  const matches = (call) =>
    (!fn.value || call.path.includes(fn.value)) &&
    (!outcome.value ||
      (outcome.value === "ok" && call.success) ||
      (outcome.value === "failed" && !call.success) ||
      (outcome.value === "cached" && call.cached));
  const entry = (call) =>
    h(
      "div",
      { class: "call", "data-path": call.path, "data-outcome": call.success ? "ok" : "failed" },
      h(
        "div",
        { class: "head" },
        h("span", { class: "time" }, clock(call.started)),
        h("span", { class: `badge ${call.kind}` }, call.kind),
        call.origin !== "client" ? h("span", { class: "badge" }, call.origin) : null,
        h("span", { class: "path" }, call.path),
        h("span", { class: `badge ${call.success ? "ok" : "failed"}` }, call.success ? (call.cached ? "ok (cached)" : "ok") : "failed"),
        h("span", { class: "took" }, call.cached ? "cached" : `${call.duration_ms.toFixed(1)} ms`),
      ),
      call.log_lines.map((line) => h("div", { class: `line ${line.level.toLowerCase()}` }, `${clock(line.timestamp)} [${line.level}] ${line.text}`)),
      call.success ? null : h("div", { class: "failure" }, call.error + (call.where ? `\n    at ${call.where}` : "")),
    );
  const draw = () => {
    const shown = state.calls.filter(matches).reverse();
    list.replaceChildren(...(shown.length ? shown.map(entry) : [h("div", { class: "empty" }, "No calls yet.")]));
  };
  fn.oninput = outcome.onchange = draw;
  pause.onchange = () => pause.checked || draw();
  view.onCall = (call) => {
    if (pause.checked || !matches(call)) return;
    list.querySelector(".empty")?.remove();
    list.prepend(entry(call));
    while (list.children.length > KEEP_CALLS) list.lastChild.remove();
  };
  show(
    h(
      "div",
      { class: "page" },
      h("div", { class: "toolbar" }, h("h2", { class: "flat" }, "Logs"), h("span", { class: "muted" }, "every call as it ends, newest first")),
      h(
        "div",
        { class: "filters" },
        fn,
        outcome,
        h("label", {}, pause, "Pause"),
        h("button", { onclick: () => ((state.calls = []), draw()) }, "Clear"),
      ),
      list,
    ),
  );
  draw();
  return view;
}

// --- Schedules -----------------------------------------------------------------------------

function schedulesView() {
  const view = {};
  const stateSelect = h(
    "select",
    { id: "job-state" },
    h("option", { value: "" }, "all states"),
    ["pending", "inProgress", "success", "failed", "canceled"].map((s) => h("option", { value: s }, s)),
  );
  const jobsBox = h("div", { id: "jobs" });
  const cronsBox = h("div", { id: "crons" });
  const more = h("button", { id: "more-jobs", hidden: true }, "Load more");
  let jobs = [];
  let cursor = null;

  const loadJobs = async (append) => {
    try {
      const page = await api("jobs", { state: stateSelect.value || null, cursor: append ? cursor : null, limit: PAGE });
      if (state.view !== view) return;
      jobs = append ? [...jobs, ...page.jobs] : page.jobs;
      cursor = page.cursor;
      drawJobs();
    } catch (error) {
      toast(error.message, true);
    }
  };
  const cancel = async (job) => {
    try {
      await api("cancel_job", { id: job.id });
      toast("Canceled");
      await loadJobs(false);
    } catch (error) {
      toast(error.message, true);
    }
  };
  const drawJobs = () => {
    more.hidden = !cursor;
    if (!jobs.length) return jobsBox.replaceChildren(h("div", { class: "empty" }, "No scheduled functions."));
    jobsBox.replaceChildren(
      h(
        "table",
        { class: "grid" },
        h("thead", {}, h("tr", {}, ["function", "args", "scheduled for", "state", "completed", ""].map((c) => h("th", {}, c)))),
        h(
          "tbody",
          {},
          jobs.map((job) =>
            h(
              "tr",
              { "data-id": job.id, "data-state": job.state },
              h("td", {}, job.name),
              h("td", { class: "wrap" }, pretty(job.args, 0)),
              h("td", {}, when(job.scheduled_time)),
              h("td", { class: "wrap" }, h("span", { class: `badge ${job.state}` }, job.state), job.error ? h("div", { class: "error" }, job.error) : null),
              h("td", {}, job.completed_time ? when(job.completed_time) : ""),
              h("td", {}, job.state === "pending" ? h("button", { class: "danger cancel", onclick: () => cancel(job) }, "Cancel") : null),
            ),
          ),
        ),
      ),
    );
  };
  const loadCrons = async () => {
    try {
      const { crons } = await api("crons");
      if (state.view !== view) return;
      cronsBox.replaceChildren(
        crons.length
          ? h(
              "table",
              { class: "grid" },
              h("thead", {}, h("tr", {}, ["name", "function", "args", "schedule", "next run"].map((c) => h("th", {}, c)))),
              h(
                "tbody",
                {},
                crons.map((cron) =>
                  h("tr", { "data-name": cron.name }, h("td", {}, cron.name), h("td", {}, cron.function), h("td", {}, pretty(cron.args, 0)), h("td", { class: "wrap" }, cron.schedule), h("td", {}, cron.next_run ? when(cron.next_run) : "")),
                ),
              ),
            )
          : h("div", { class: "empty" }, "The app defines no crons."),
      );
    } catch (error) {
      toast(error.message, true);
    }
  };
  stateSelect.onchange = () => loadJobs(false);
  more.onclick = () => loadJobs(true);
  view.onCommit = (tables) => {
    if (tables.includes("_scheduled_functions")) loadJobs(false);
    if (tables.includes("_cron_jobs")) loadCrons();
  };
  show(
    h(
      "div",
      { class: "page" },
      h("div", { class: "toolbar" }, h("h2", { class: "flat" }, "Scheduled functions"), h("span", { class: "spacer" }), h("label", {}, "State", stateSelect)),
      jobsBox,
      h("div", { class: "actions" }, more),
      h("h2", { class: "spaced" }, "Crons"),
      cronsBox,
    ),
  );
  loadJobs(false);
  loadCrons();
  return view;
}

// --- Files ---------------------------------------------------------------------------------

function filesView() {
  const view = {};
  const box = h("div", { id: "files" });
  const picker = h("input", { type: "file", id: "file-input" });
  const more = h("button", { id: "more-files", hidden: true }, "Load more");
  let files = [];
  let cursor = null;
  const load = async (append) => {
    try {
      const page = await api("files", { cursor: append ? cursor : null, limit: PAGE });
      if (state.view !== view) return;
      files = append ? [...files, ...page.files] : page.files;
      cursor = page.cursor;
      draw();
    } catch (error) {
      toast(error.message, true);
    }
  };
  const upload = async () => {
    const file = picker.files[0];
    if (!file) return toast("Choose a file first", true);
    try {
      const { url } = await api("upload_url");
      const response = await fetch(url, { method: "POST", headers: { "content-type": file.type || "application/octet-stream" }, body: file });
      if (!response.ok) throw new Error((await response.json()).message);
      picker.value = "";
      toast(`Uploaded ${file.name}`);
      await load(false);
    } catch (error) {
      toast(error.message, true);
    }
  };
  const remove = async (file) => {
    if (!confirm(`Delete the file ${file.id}?`)) return;
    try {
      await api("delete_file", { id: file.id });
      toast("Deleted");
      await load(false);
    } catch (error) {
      toast(error.message, true);
    }
  };
  const draw = () => {
    more.hidden = !cursor;
    if (!files.length) return box.replaceChildren(h("div", { class: "empty" }, "No files stored."));
    box.replaceChildren(
      h(
        "table",
        { class: "grid" },
        h("thead", {}, h("tr", {}, ["id", "size", "content type", "sha256", "uploaded", ""].map((c) => h("th", {}, c)))),
        h(
          "tbody",
          {},
          files.map((file) =>
            h(
              "tr",
              { "data-id": file.id },
              h("td", {}, file.id),
              h("td", {}, size(file.size)),
              h("td", {}, file.content_type ?? h("span", { class: "muted" }, "—")),
              h("td", { title: file.sha256 }, file.sha256.slice(0, 16) + "…"),
              h("td", {}, when(file.creation_time)),
              h("td", {}, h("a", { href: `/api/storage/${file.id}`, download: file.id }, "Download"), " ", h("button", { class: "danger delete-file", onclick: () => remove(file) }, "Delete")),
            ),
          ),
        ),
      ),
    );
  };
  more.onclick = () => load(true);
  view.onCommit = (tables) => tables.includes("_storage") && load(false);
  show(
    h(
      "div",
      { class: "page" },
      h("div", { class: "toolbar" }, h("h2", { class: "flat" }, "Files"), h("span", { class: "spacer" }), picker, h("button", { class: "primary", id: "upload", onclick: upload }, "Upload")),
      box,
      h("div", { class: "actions" }, more),
    ),
  );
  load(false);
  return view;
}

// --- Deployment ----------------------------------------------------------------------------

function deploymentView() {
  const view = {};
  api("deployment").then((info) => {
    if (state.view !== view) return;
    const key = h("dd", { id: "admin-key-value" }, "•".repeat(24));
    let revealed = false;
    const reveal = h("button", {
      id: "reveal-key",
      onclick: () => {
        revealed = !revealed;
        key.textContent = revealed ? state.key : "•".repeat(24);
        reveal.textContent = revealed ? "Hide" : "Show";
      },
    }, "Show");
    const copy = h("button", { onclick: () => navigator.clipboard?.writeText(state.key).then(() => toast("Copied")) }, "Copy");
    show(
      h(
        "div",
        { class: "page" },
        h("h2", {}, "Deployment"),
        h(
          "dl",
          { class: "kv", id: "deployment" },
          h("dt", {}, "URL"),
          h("dd", {}, info.url),
          h("dt", {}, "Engine"),
          h("dd", { id: "engine" }, info.engine),
          h("dt", {}, "Data"),
          h("dd", { id: "location" }, info.location),
          h("dt", {}, "App"),
          h("dd", {}, `${info.tables} tables, ${info.functions} functions, ${info.crons} crons`),
          h("dt", {}, "Admin key"),
          key,
          h("dt", {}, ""),
          h("dd", {}, h("div", { class: "actions flat" }, reveal, copy)),
        ),
        h("p", { class: "muted" }, "The admin key runs any function and reads and writes any data: keep it secret."),
        h("h2", { class: "spaced" }, "Environment variables"),
        environmentBox,
      ),
    );
    loadEnvironment();
  }, (error) => toast(error.message, true));

  // the environment variables: each editable in place; set and unset as `confect env` does
  const environmentBox = h("div", { id: "environment" });
  const change = async (changes, done) => {
    try {
      await api("set_environment", { changes });
      toast(done);
      await loadEnvironment();
    } catch (error) {
      toast(error.message, true);
    }
  };
  async function loadEnvironment() {
    const { variables } = await api("environment");
    if (state.view !== view) return;
    const name = h("input", { id: "env-name", placeholder: "NAME" });
    const value = h("input", { id: "env-value", placeholder: "value" });
    environmentBox.replaceChildren(
      h(
        "table",
        { class: "grid env" },
        h("thead", {}, h("tr", {}, h("th", {}, "name"), h("th", {}, "value"), h("th", {}))),
        h(
          "tbody",
          {},
          variables.map((variable) => {
            const input = h("input", { class: "env-value", value: variable.value });
            return h(
              "tr",
              { "data-name": variable.name },
              h("td", {}, variable.name),
              h("td", {}, input),
              h(
                "td",
                {},
                h("button", { class: "save-env", onclick: () => change([{ name: variable.name, value: input.value }], `Saved ${variable.name}`) }, "Save"),
                " ",
                h("button", { class: "danger remove-env", onclick: () => change([{ name: variable.name, value: null }], `Removed ${variable.name}`) }, "Remove"),
              ),
            );
          }),
          h(
            "tr",
            {},
            h("td", {}, name),
            h("td", {}, value),
            h("td", {}, h("button", { class: "primary", id: "add-env", onclick: () => change([{ name: name.value.trim(), value: value.value }], `Added ${name.value.trim()}`) }, "Add")),
          ),
        ),
      ),
    );
  }
  view.onCommit = (tables) => tables.includes("_environment_variables") && loadEnvironment();
  return view;
}

// --- start ---------------------------------------------------------------------------------

document.getElementById("sign-out").onclick = () => signOut();
window.addEventListener("hashchange", route);
{
  // `confect dev` links here with the key in the fragment (never sent to the server): keep
  // it, and take it out of the address bar and the history
  const given = new URLSearchParams(location.hash.slice(1)).get("key");
  if (given) {
    localStorage.setItem(KEY_STORE, given);
    history.replaceState(null, "", `${location.pathname}#/data`);
  }
  state.key = localStorage.getItem(KEY_STORE);
  state.key ? start() : signInPage();
}
