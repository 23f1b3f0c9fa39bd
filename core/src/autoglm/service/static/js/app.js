// The autoglm UI: sign in, workflows as graphs, build and edit, run and watch, run history.
// A client of the REST API like the SDK: every rule (scopes, validation, trust) is the
// server's; the page only shows what the server answers.

import { api, ApiError, auth, blobOf, watch } from "./api.js";
import { createGraph, draw, layout, setState, STATE_COLOURS } from "./graph.js";
import { toYaml } from "./yaml.js";

const $ = (sel) => document.querySelector(sel);
const el = (tag, attrs = {}, ...children) => {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "dataset") Object.assign(node.dataset, v);
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else if (v !== undefined && v !== null) node.setAttribute(k, v);
  }
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
};

const ui = {
  cy: null, me: null, view: null, nodeTypes: {}, workflows: [],
  current: null,          // {kind: "workflow"|"run"|"build", ...}
  build: { data: { name: "draft", nodes: [] }, selected: null, problems: [], timer: null },
  run: null,              // {id, record, watcher, states, feed}
  stateLog: [],           // [{node, state, at}] for the benchmark: when a colour was applied
  ready: false,
};
window.autoglmUI = ui;

const can = (scope) => !!ui.me && (ui.me.scopes.includes(scope) || ui.me.scopes.includes("admin"));

// ------------------------------------------------------------------ sign in

async function signIn(key) {
  auth.key = key;
  try {
    ui.me = await api("GET", "/v1/me");
  } catch (err) {
    auth.key = null;
    $("#signin-error").textContent = err.status === 401 ? "unknown or revoked key"
      : err.status === 403 ? "this key lacks the 'read' scope the UI needs" : err.message;
    return false;
  }
  $("#signin").hidden = true;
  $("#app").hidden = false;
  $("#nav").hidden = false;
  $("#signout").hidden = false;
  $("#whoami").textContent = `${ui.me.name} (${ui.me.scopes.join(", ")})`;
  ui.cy = ui.cy || createGraph($("#graph"));
  ui.cy.on("tap", "node", (evt) => onNodeTap(evt.target.id()));
  for (const b of document.querySelectorAll("#run-btn, #build-run-btn, #resume-btn, #cancel-btn, #save-btn"))
    b.disabled = !can("submit");
  await Promise.all([loadWorkflows(), loadPlugins()]);
  showView("workflows");
  ui.ready = true;
  ui.readyAt = performance.now();  // first load to interactive (bench/ui.py)
  document.body.dataset.ready = "1";
  return true;
}

function signOut() {
  auth.key = null;
  location.reload();
}

// -------------------------------------------------------------------- views

function showView(view) {
  ui.view = view;
  for (const b of document.querySelectorAll("#nav button")) b.classList.toggle("active", b.dataset.view === view);
  $("#workflows-pane").hidden = view !== "workflows";
  $("#palette-pane").hidden = view !== "build";
  $("#runs-pane").hidden = view !== "runs";
  $("#detail-pane").hidden = view !== "workflows";
  $("#build-pane").hidden = view !== "build";
  $("#run-pane").hidden = view !== "run";
  $("#runs-table-wrap").hidden = view !== "runs";
  if (view !== "run" && ui.run) { ui.run.watcher.stop(); ui.run = null; }
  if (view === "runs") loadRuns();
  if (view === "build") { ui.cy.resize(); syncBuild(); }
  if (view === "workflows" && ui.current && ui.current.kind === "workflow") openWorkflow(ui.current.name);
}

// ---------------------------------------------------------------- workflows

async function loadWorkflows() {
  ui.workflows = await api("GET", "/v1/workflows");
  const list = $("#workflow-list");
  list.replaceChildren(...ui.workflows.map((w) => el("li", {
    class: "wf-item", dataset: { name: w.name }, onclick: () => openWorkflow(w.name) },
    w.name, el("small", {}, w.valid ? (w.description || "") : `invalid: ${w.problems.length} problem(s)`))));
}

async function loadPlugins() {
  const plugins = await api("GET", "/v1/plugins");
  ui.nodeTypes = {};
  for (const p of plugins) {
    if (!p.allowed) continue;
    for (const t of p.node_types) ui.nodeTypes[t.name] = { ...t, plugin: p.name };
  }
  renderPalette();
}

async function openWorkflow(name) {
  const t0 = performance.now();
  const result = await api("GET", `/v1/workflows/${encodeURIComponent(name)}`);
  ui.current = { kind: "workflow", name, result };
  for (const li of document.querySelectorAll(".wf-item")) li.classList.toggle("active", li.dataset.name === name);
  const t1 = performance.now();
  draw(ui.cy, result.graph, { problems: problemsByNode(result.problems) });
  ui.timings = { fetch_ms: t1 - t0, draw_ms: performance.now() - t1 };
  const entry = ui.workflows.find((w) => w.name === name) || { inputs: {} };
  $("#wf-title").textContent = name;
  $("#wf-description").textContent = entry.description || (result.valid ? "" : result.problems.map((p) => p.message).join("\n"));
  $("#tab-body-yaml").textContent = result.yaml || "";
  $("#tab-body-mermaid").textContent = result.mermaid || "(invalid workflow: no diagram)";
  const form = $("#run-form");
  form.replaceChildren(...Object.entries(entry.inputs || {}).map(([k, spec]) => el("div", { class: "field" },
    el("label", { for: `input-${k}` }, `${k}${spec.required ? " *" : ""}`),
    el("input", { id: `input-${k}`, name: k, placeholder: spec.default === null || spec.default === undefined ? spec.type : JSON.stringify(spec.default) }),
    el("small", {}, spec.description || spec.type))));
  $("#run-btn").hidden = !result.valid;
  $("#edit-btn").hidden = false;
  $("#run-error").textContent = "";
}

function readInputs() {
  const inputs = {};
  for (const input of document.querySelectorAll("#run-form input")) {
    if (input.value === "") continue;
    inputs[input.name] = parseValue(input.value);
  }
  return inputs;
}

function parseValue(text) {
  try { return JSON.parse(text); } catch { return text; }
}

async function submit(body, errorBox) {
  errorBox.textContent = "";
  try {
    const accepted = await api("POST", "/v1/runs", body);
    await openRun(accepted.id);
  } catch (err) {
    errorBox.textContent = err.message + (err.problems.length ? "\n" + err.problems.map((p) => `- ${p.message}`).join("\n") : "");
  }
}

// --------------------------------------------------------------------- runs

async function openRun(runId) {
  const [graph, record] = await Promise.all([
    api("GET", `/v1/runs/${encodeURIComponent(runId)}/graph`),
    api("GET", `/v1/runs/${encodeURIComponent(runId)}`),
  ]);
  showView("run");
  const states = Object.fromEntries(Object.entries(record.nodes).map(([k, n]) => [k, n.status]));
  ui.current = { kind: "run", id: runId };
  ui.run = { id: runId, record, graph, states, feed: {}, selected: null, watcher: { stop() {} } };
  ui.cy.resize();
  draw(ui.cy, graph.graph, { states });
  renderRun();
  ui.run.watcher = watch(runId, (event) => onRunEvent(runId, event));
  const tick = setInterval(() => {  // the running duration, once a second
    if (!ui.run || ui.run.id !== runId) { clearInterval(tick); return; }
    const r = ui.run.record;
    if (r.started_at && !r.finished_at) $("#run-duration").textContent = `${(Date.now() / 1000 - r.started_at).toFixed(0)} s`;
  }, 1000);
}

function onRunEvent(runId, event) {
  const run = ui.run;
  if (!run || run.id !== runId) return;
  const d = event.data;
  if (event.kind === "node") {
    run.states[d.node_id] = d.status;
    if (setState(ui.cy, d.node_id, d.status))
      ui.stateLog.push({ node: d.node_id, state: d.status, at: performance.timeOrigin + performance.now(),
        changed: Math.max(d.started_at || 0, d.finished_at || 0) });
    const rec = run.record.nodes[d.node_id] || {};
    run.record.nodes[d.node_id] = { ...rec, ...d };
    if (run.selected === d.node_id) renderNode(d.node_id);
  } else if (event.kind === "progress" || event.kind === "log") {
    const feed = run.feed[d.node_id] || (run.feed[d.node_id] = { progress: null, logs: [] });
    if (event.kind === "progress") feed.progress = d;
    else { feed.logs.push(`[${d.level}] ${d.line}`); if (feed.logs.length > 500) feed.logs.shift(); }
    if (run.selected === d.node_id) renderNode(d.node_id);
  } else if (event.kind === "run") {
    Object.assign(run.record, d);
    renderRun();
  } else if (event.kind === "end") {
    refreshRun(runId);
  }
}

async function refreshRun(runId) {
  const record = await api("GET", `/v1/runs/${encodeURIComponent(runId)}`);
  if (!ui.run || ui.run.id !== runId) return;
  ui.run.record = record;
  for (const [k, n] of Object.entries(record.nodes)) setState(ui.cy, k, n.status);
  renderRun();
  if (ui.run.selected) renderNode(ui.run.selected);
}

function renderRun() {
  const { record } = ui.run;
  $("#run-id").textContent = record.id;
  $("#run-status").textContent = record.status;
  $("#run-status").style.color = STATE_COLOURS[record.status] || "";
  const end = record.finished_at || (record.started_at ? Date.now() / 1000 : null);
  $("#run-duration").textContent = record.started_at && end ? `${(end - record.started_at).toFixed(1)} s` : "";
  $("#run-run-error").textContent = record.error || "";
  $("#run-outputs").textContent = record.outputs ? JSON.stringify(record.outputs, null, 2) : "";
  const ended = ["succeeded", "failed", "cancelled"].includes(record.status);
  $("#cancel-btn").disabled = ended || !can("submit");
  $("#resume-btn").disabled = !ended || record.status === "succeeded" || !can("submit");
  if (ended) loadArtifacts(record.id);
}

function renderNode(nodeId) {
  const run = ui.run;
  const rec = run.record.nodes[nodeId] || { status: run.states[nodeId] || "pending" };
  const feed = run.feed[nodeId] || { progress: null, logs: [] };
  const box = $("#node-detail");
  const parts = [el("h3", {}, `${nodeId}: `, el("span", { id: "node-state" }, rec.status || "pending"))];
  if (feed.progress) {
    const p = feed.progress;
    const pct = p.total ? Math.min(100, (100 * p.completed) / p.total) : 0;
    parts.push(el("div", { class: "progress", title: p.message || "" }, el("div", { style: `width:${pct}%` })),
      el("small", { id: "node-progress" }, `${p.completed}${p.total ? "/" + p.total : ""} ${p.message || ""}`));
  }
  if (rec.duration_s != null) parts.push(el("p", {}, `${rec.duration_s.toFixed(2)} s, attempts ${rec.attempts || 0}`));
  if (rec.reason) parts.push(el("p", {}, rec.reason));
  if (rec.error) parts.push(el("pre", { class: "code error" }, rec.error));
  if (rec.outputs) parts.push(el("pre", { class: "code" }, JSON.stringify(rec.outputs, null, 2)));
  if (feed.logs.length) parts.push(el("pre", { class: "code logs", id: "node-logs" }, feed.logs.join("\n")));
  box.replaceChildren(...parts);
}

async function loadArtifacts(runId) {
  const items = await api("GET", `/v1/runs/${encodeURIComponent(runId)}/artifacts`);
  $("#artifacts").replaceChildren(...items.map((a) => el("li", {
    class: "artifact-link", dataset: { path: a.path }, onclick: () => openArtifact(runId, a) },
    a.path, el("small", {}, `${a.media_type}, ${a.bytes} bytes`))));
}

const artifactUrl = (runId, path) =>
  `/v1/runs/${encodeURIComponent(runId)}/artifacts/${path.split("/").map(encodeURIComponent).join("/")}`;

// A report's images are its sibling files: fetched with the key and inlined as data: URLs,
// since the frame's blob: document cannot send the key (and must not hold it).
async function inlineImages(runId, artifact, blob) {
  const doc = new DOMParser().parseFromString(await blob.text(), "text/html");
  const folder = artifact.path.includes("/") ? artifact.path.slice(0, artifact.path.lastIndexOf("/") + 1) : "";
  for (const img of doc.querySelectorAll("img[src]")) {
    const src = img.getAttribute("src");
    if (/^[a-z]+:|^\/|\.\./i.test(src)) continue;
    try {
      const data = await blobOf(artifactUrl(runId, folder + src));
      img.setAttribute("src", await new Promise((resolve) => {
        const reader = new FileReader();
        reader.onload = () => resolve(reader.result);
        reader.readAsDataURL(data);
      }));
    } catch { /* left as it is: shown broken */ }
  }
  return new Blob(["<!doctype html>" + doc.documentElement.outerHTML], { type: "text/html" });
}

async function openArtifact(runId, artifact) {
  let blob = await blobOf(artifactUrl(runId, artifact.path));
  if (artifact.media_type === "text/html") blob = await inlineImages(runId, artifact, blob);
  const typed = new Blob([blob], { type: artifact.media_type });
  const url = URL.createObjectURL(typed);
  $("#artifact-name").textContent = artifact.path;
  $("#artifact-frame").src = url;
  $("#artifact-dialog").showModal();
}

async function loadRuns() {
  const status = $("#runs-status").value;
  const page = await api("GET", `/v1/runs?limit=200${status ? `&status=${status}` : ""}`);
  const filter = $("#runs-filter").value.trim().toLowerCase();
  const rows = page.items.filter((r) => !filter || r.workflow_name.toLowerCase().includes(filter));
  $("#runs-table tbody").replaceChildren(...rows.map((r) => {
    const end = r.finished_at || (r.started_at ? Date.now() / 1000 : null);
    return el("tr", { class: "run-row", dataset: { id: r.id, status: r.status }, onclick: () => openRun(r.id) },
      el("td", {}, el("code", {}, r.id)), el("td", {}, r.workflow_name),
      el("td", { style: `color:${STATE_COLOURS[r.status] || "inherit"}` }, r.status),
      el("td", {}, r.started_at ? new Date(r.started_at * 1000).toLocaleString() : ""),
      el("td", {}, r.started_at && end ? `${(end - r.started_at).toFixed(1)} s` : ""));
  }));
}

// -------------------------------------------------------------------- build

function renderPalette() {
  const q = $("#palette-search").value.trim().toLowerCase();
  const names = Object.keys(ui.nodeTypes).sort().filter((n) => !q || n.toLowerCase().includes(q)
    || (ui.nodeTypes[n].description || "").toLowerCase().includes(q));
  $("#palette").replaceChildren(...names.map((n) => el("li", {
    class: "palette-item", dataset: { type: n }, title: ui.nodeTypes[n].description || "",
    onclick: () => addNode(n) }, n, el("small", {}, (ui.nodeTypes[n].description || "").slice(0, 80)))));
}

function addNode(type) {
  const data = ui.build.data;
  data.nodes = data.nodes || [];
  const base = type.split(".").pop().replace(/[^A-Za-z0-9_]/g, "_");
  let id = base;
  for (let i = 2; data.nodes.some((n) => n.id === id); i++) id = `${base}${i}`;
  data.nodes.push({ id, type });
  ui.build.selected = id;
  syncBuild();
}

function selectedNode() {
  return (ui.build.data.nodes || []).find((n) => n.id === ui.build.selected) || null;
}

// The builder's data changed: write the YAML, validate it, redraw.
function syncBuild({ fromText = false } = {}) {
  if (!fromText) $("#yaml-editor").value = toYaml(ui.build.data);
  renderNodeEditor();
  scheduleValidate();
}

function scheduleValidate() {
  clearTimeout(ui.build.timer);
  ui.build.timer = setTimeout(validateBuild, 250);
}

async function validateBuild() {
  const text = $("#yaml-editor").value;
  let result;
  try {
    result = await api("POST", "/v1/workflows/validate", { yaml: text });
  } catch (err) {
    result = { valid: false, problems: err.problems.length ? err.problems : [{ message: err.message }], graph: { nodes: [], edges: [] } };
  }
  if (text !== $("#yaml-editor").value) return; // typed on since: a newer check is coming
  ui.build.problems = result.problems;
  ui.build.valid = result.valid;
  if (ui.view === "build") {
    draw(ui.cy, result.graph, { problems: problemsByNode(result.problems) });
    if (ui.build.selected) ui.cy.getElementById(ui.build.selected).select();
  }
  $("#problem-count").textContent = result.valid ? "(none)" : `(${result.problems.length})`;
  $("#problems").replaceChildren(...result.problems.map((p) => el("li", { class: "problem", dataset: { node: p.node || "", field: p.field || "" } },
    `${p.line ? `line ${p.line}: ` : ""}${p.node ? `node '${p.node}': ` : ""}${p.field ? `${p.field}: ` : ""}${p.message}`)));
  markFields();
  document.body.dataset.validated = String(Date.now());
  return result;
}

function problemsByNode(problems) {
  const out = {};
  for (const p of problems || []) if (p.node) (out[p.node] = out[p.node] || []).push(p);
  return out;
}

function markFields() {
  for (const f of document.querySelectorAll("#node-editor .field")) {
    const mine = ui.build.problems.filter((p) => p.node === ui.build.selected &&
      p.field && (p.field === f.dataset.field || p.field.startsWith(f.dataset.field + ".")));
    f.classList.toggle("bad", mine.length > 0);
    f.querySelector(".msg").textContent = mine.map((p) => p.message).join("; ");
  }
}

function schemaTypes(schema) {
  if (!schema || typeof schema !== "object") return null;
  if (schema.type) return new Set(Array.isArray(schema.type) ? schema.type : [schema.type]);
  const alts = schema.anyOf || schema.oneOf;
  if (alts) {
    const all = new Set();
    for (const a of alts) { const t = schemaTypes(a); if (!t) return null; t.forEach((x) => all.add(x)); }
    return all;
  }
  return null; // any
}

// Mirrors the validator's rule (autoglm.workflow.typecheck): untyped connects to anything,
// an integer is a number, otherwise the types must meet.
export function compatible(outSchema, inSchema) {
  const a = schemaTypes(outSchema), b = schemaTypes(inSchema);
  if (!a || !b) return true;
  for (const t of a) {
    if (b.has(t) || (t === "integer" && b.has("number")) || t === "null") return true;
  }
  return false;
}

function renderNodeEditor() {
  const node = selectedNode();
  $("#sel-node").textContent = node ? `${node.id} (${node.type})` : "(click a node)";
  const box = $("#node-editor");
  if (!node) { box.replaceChildren(); $("#connect-form").replaceChildren(); return; }
  const info = ui.nodeTypes[node.type] || { config_schema: {}, inputs_schema: {} };
  const props = (info.config_schema && info.config_schema.properties) || {};
  const required = new Set((info.config_schema && info.config_schema.required) || []);
  const fields = [el("div", { class: "field", dataset: { field: "id" } },
    el("label", { for: "node-id" }, "id"),
    el("input", { id: "node-id", value: node.id, onchange: (e) => renameNode(node, e.target.value) }),
    el("span", { class: "msg" })),
    el("button", { id: "delete-node", type: "button", onclick: () => deleteNode(node.id) }, "Delete node")];
  for (const [name, schema] of Object.entries(props)) {
    const current = node.config && name in node.config ? node.config[name] : undefined;
    fields.push(configField(node, name, schema, current, required.has(name)));
  }
  box.replaceChildren(...fields);
  renderConnect(node, info);
  markFields();
}

function configField(node, name, schema, current, required) {
  const types = schemaTypes(schema) || new Set();
  const id = `cfg-${name}`;
  const set = (value) => {
    node.config = node.config || {};
    if (value === undefined) delete node.config[name]; else node.config[name] = value;
    if (!Object.keys(node.config).length) delete node.config;
    // the YAML and the check follow each keystroke; the form is not redrawn (caret stays)
    $("#yaml-editor").value = toYaml(ui.build.data);
    scheduleValidate();
  };
  let input;
  if (schema.enum) {
    input = el("select", { id, onchange: (e) => set(e.target.value === "" ? undefined : parseValue(e.target.value)) },
      el("option", { value: "" }, "(default)"), ...schema.enum.map((v) => el("option", { value: JSON.stringify(v) }, String(v))));
    input.value = current === undefined ? "" : JSON.stringify(current);
  } else if (types.has("boolean") && types.size <= 2) {
    input = el("select", { id, onchange: (e) => set(e.target.value === "" ? undefined : e.target.value === "true") },
      el("option", { value: "" }, "(default)"), el("option", { value: "true" }, "true"), el("option", { value: "false" }, "false"));
    input.value = current === undefined ? "" : String(current);
  } else if (types.has("object") || types.has("array") || !types.size) {
    input = el("textarea", { id, rows: 2, placeholder: schema.default !== undefined ? JSON.stringify(schema.default) : "JSON" });
    input.value = current === undefined ? "" : JSON.stringify(current);
    input.addEventListener("input", (e) => set(e.target.value.trim() === "" ? undefined : parseValue(e.target.value)));
  } else {
    const numeric = types.has("integer") || types.has("number");
    input = el("input", { id, placeholder: schema.default !== undefined ? JSON.stringify(schema.default) : "" });
    input.value = current === undefined ? "" : String(current);
    input.addEventListener("input", (e) => {
      const v = e.target.value;
      if (v === "") return set(undefined);
      set(numeric && /^-?\d+(\.\d+)?(e-?\d+)?$/i.test(v.trim()) ? Number(v) : v);
    });
  }
  return el("div", { class: "field", dataset: { field: `config.${name}` } },
    el("label", { for: id }, `${name}${required ? " *" : ""}`), input,
    el("small", {}, schema.description || ""), el("span", { class: "msg" }));
}

function renderConnect(node, info) {
  const inputs = (info.inputs_schema && info.inputs_schema.properties) || {};
  const form = $("#connect-form");
  if (!Object.keys(inputs).length) { form.replaceChildren(el("small", {}, "this node takes no inputs")); return; }
  const portSel = el("select", { id: "connect-input" }, ...Object.keys(inputs).map((p) => el("option", { value: p }, p)));
  const keyInput = el("input", { id: "connect-key", placeholder: "key (object inputs)" });
  const sourceSel = el("select", { id: "connect-source" });
  const fillSources = () => {
    const port = portSel.value;
    const target = inputs[port];
    const options = [];
    const keyed = (schemaTypes(target) || new Set()).has("object") && keyInput.value.trim() !== "";
    for (const other of ui.build.data.nodes || []) {
      if (other.id === node.id) continue;
      const outs = ((ui.nodeTypes[other.type] || {}).outputs_schema || {}).properties || {};
      for (const [out, schema] of Object.entries(outs)) {
        if (keyed || compatible(schema, target)) options.push(`${other.id}.${out}`);
      }
    }
    for (const name of Object.keys(ui.build.data.inputs || {})) options.push(`inputs.${name}`);
    sourceSel.replaceChildren(...options.map((o) => el("option", { value: o }, o)));
  };
  portSel.addEventListener("change", fillSources);
  keyInput.addEventListener("input", fillSources);
  fillSources();
  const connect = el("button", { id: "connect-btn", type: "button", onclick: () => {
    if (!sourceSel.value) return;
    node.inputs = node.inputs || {};
    const ref = `$${sourceSel.value}`;
    const key = keyInput.value.trim();
    if (key) {
      const current = node.inputs[portSel.value];
      node.inputs[portSel.value] = { ...(current && typeof current === "object" ? current : {}), [key]: ref };
    } else node.inputs[portSel.value] = ref;
    syncBuild();
  } }, "Connect");
  form.replaceChildren(el("label", {}, "input ", portSel), keyInput, el("label", {}, "from ", sourceSel), connect);
}

function renameNode(node, id) {
  if (!/^[A-Za-z_][A-Za-z0-9_-]*$/.test(id) || ui.build.data.nodes.some((n) => n.id === id)) return renderNodeEditor();
  const old = node.id;
  node.id = id;
  const re = new RegExp(`\\$${old}(?=[.\\s]|$)`, "g");
  const text = JSON.stringify(ui.build.data).replace(re, `$${id}`);
  ui.build.data = JSON.parse(text);
  ui.build.selected = id;
  syncBuild();
}

function deleteNode(id) {
  ui.build.data.nodes = ui.build.data.nodes.filter((n) => n.id !== id);
  ui.build.selected = null;
  syncBuild();
}

function onNodeTap(id) {
  if (ui.view === "build") {
    if (!(ui.build.data.nodes || []).some((n) => n.id === id)) return;
    ui.build.selected = id;
    renderNodeEditor();
  } else if (ui.view === "run" && ui.run) {
    ui.run.selected = id;
    renderNode(id);
  }
}

async function onYamlTyped() {
  clearTimeout(ui.build.timer);
  ui.build.timer = setTimeout(async () => {
    const result = await validateBuild();
    if (result && result.data) {  // the text is the truth now: the form follows it
      ui.build.data = result.data;
      if (!selectedNode()) ui.build.selected = null;
      renderNodeEditor();
    }
  }, 300);
}

function editInBuilder() {
  const result = ui.current && ui.current.result;
  if (!result || !result.data) return;
  ui.build.data = JSON.parse(JSON.stringify(result.data));
  ui.build.selected = null;
  $("#save-name").value = ui.current.name;
  showView("build");
}

async function saveBuild() {
  const name = $("#save-name").value.trim();
  const msg = $("#build-msg");
  if (!name) { msg.textContent = "give the workflow a name"; return; }
  try {
    await api("PUT", `/v1/workflows/${encodeURIComponent(name)}`, { yaml: $("#yaml-editor").value });
    msg.textContent = `saved as ${name}`;
    await loadWorkflows();
  } catch (err) {
    msg.textContent = err.message;
  }
}

// --------------------------------------------------------------------- wire

function wire() {
  $("#signin-form").addEventListener("submit", (e) => { e.preventDefault(); signIn($("#key").value.trim()); });
  $("#signout").addEventListener("click", signOut);
  for (const b of document.querySelectorAll("#nav button")) b.addEventListener("click", () => showView(b.dataset.view));
  for (const b of document.querySelectorAll(".tabs button")) b.addEventListener("click", () => {
    for (const o of document.querySelectorAll(".tabs button")) o.classList.toggle("active", o === b);
    for (const t of ["details", "yaml", "mermaid"]) $(`#tab-body-${t}`).hidden = t !== b.dataset.tab;
  });
  $("#run-btn").addEventListener("click", () => submit({ workflow: ui.current.name, inputs: readInputs() }, $("#run-error")));
  $("#edit-btn").addEventListener("click", editInBuilder);
  $("#palette-search").addEventListener("input", renderPalette);
  $("#yaml-editor").addEventListener("input", onYamlTyped);
  $("#save-btn").addEventListener("click", saveBuild);
  $("#build-run-btn").addEventListener("click", () => submit({ workflow_yaml: $("#yaml-editor").value }, $("#build-msg")));
  $("#clear-btn").addEventListener("click", () => { ui.build.data = { name: "draft", nodes: [] }; ui.build.selected = null; syncBuild(); });
  $("#cancel-btn").addEventListener("click", async () => {
    try { await api("POST", `/v1/runs/${encodeURIComponent(ui.run.id)}/cancel`); } catch (err) { $("#run-run-error").textContent = err.message; }
  });
  // Resume: run the same workflow and inputs again with the cache on, so every node that
  // succeeded is reused and only what failed or was cancelled runs again.
  $("#resume-btn").addEventListener("click", async () => {
    const { record, graph } = ui.run;
    await submit({ workflow_yaml: graph.yaml, inputs: record.inputs, use_cache: true }, $("#run-run-error"));
  });
  $("#runs-status").addEventListener("change", loadRuns);
  $("#runs-filter").addEventListener("input", loadRuns);
  $("#artifact-close").addEventListener("click", () => {
    const frame = $("#artifact-frame");
    if (frame.src.startsWith("blob:")) URL.revokeObjectURL(frame.src);
    frame.removeAttribute("src");
    $("#artifact-dialog").close();
  });
  window.addEventListener("resize", () => ui.cy && ui.cy.resize());
  if (auth.key) signIn(auth.key);
  else document.body.dataset.ready = "signin";
}

ui.layout = () => layout(ui.cy);
ui.openRun = openRun;
ui.openWorkflow = openWorkflow;
ui.ApiError = ApiError;
wire();
