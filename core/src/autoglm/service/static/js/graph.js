// The graph canvas: cytoscape.js laid out left to right by dagre. Nodes are coloured by
// plugin; in a run, by state (the plugin stays as the border). ``when`` conditions are the
// labels of dashed edges.

if (window.cytoscape && window.cytoscapeDagre) window.cytoscape.use(window.cytoscapeDagre);

export const STATE_COLOURS = {
  pending: "#9ca3af", queued: "#9ca3af", running: "#2563eb", succeeded: "#16a34a",
  cached: "#0d9488", skipped: "#d1d5db", failed: "#dc2626", cancelled: "#7c3aed",
};
const PALETTE = ["#6366f1", "#f59e0b", "#10b981", "#ec4899", "#0ea5e9", "#84cc16", "#f97316",
  "#8b5cf6", "#14b8a6", "#e11d48"];

export function pluginColour(plugin) {
  if (!plugin || plugin === "core") return "#475569";
  let h = 0;
  for (const c of plugin) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  return PALETTE[h % PALETTE.length];
}

const STYLE = [
  { selector: "node", style: {
    label: "data(label)", "text-wrap": "wrap", "text-valign": "center", "text-halign": "center",
    "font-size": 10, color: "#fff", "text-outline-width": 0, shape: "round-rectangle",
    width: 130, height: 42, "background-color": "data(colour)", "border-width": 3,
    "border-color": "data(colour)" } },
  { selector: "node[kind != 'node']", style: { shape: "ellipse", width: 90, height: 32,
    "background-color": "#e5e7eb", "border-color": "#9ca3af", color: "#111" } },
  { selector: "node[?running]", style: { "border-style": "double", "border-width": 5 } },
  { selector: "node[problems > 0]", style: { "border-color": "#dc2626", "border-width": 4,
    "border-style": "dashed" } },
  { selector: "node:selected", style: { "overlay-color": "#2d6cdf", "overlay-opacity": 0.2 } },
  { selector: "edge", style: { width: 1.5, "curve-style": "bezier", "target-arrow-shape": "triangle",
    "line-color": "#94a3b8", "target-arrow-color": "#94a3b8", label: "data(label)",
    "font-size": 8, "text-background-color": "#fff", "text-background-opacity": 0.8,
    "text-rotation": "autorotate" } },
  { selector: "edge[?when]", style: { "line-style": "dashed", "line-color": "#f59e0b",
    "target-arrow-color": "#f59e0b", color: "#92400e" } },
];

export function createGraph(container) {
  const cy = window.cytoscape({ container, style: STYLE,
    minZoom: 0.05, maxZoom: 3, boxSelectionEnabled: false });
  return cy;
}

// Draw a graph ({nodes, edges} from the server) replacing what is there; ``states`` colours
// nodes by run state (a run view), otherwise by plugin.
export function draw(cy, graph, { states = null, problems = {} } = {}) {
  const elements = [];
  for (const n of graph.nodes) {
    const isNode = n.kind === "node";
    const state = states ? (states[n.id] || "pending") : null;
    elements.push({ group: "nodes", data: {
      id: n.id, kind: n.kind, type: n.type || "", plugin: n.plugin || "",
      label: isNode ? `${n.id}\n${n.type}` : n.label,
      colour: state ? STATE_COLOURS[state] : (isNode ? pluginColour(n.plugin) : "#e5e7eb"),
      pluginColour: isNode ? pluginColour(n.plugin) : "#9ca3af",
      state: state || "", problems: (problems[n.id] || []).length } });
  }
  graph.edges.forEach((e, i) => {
    const label = e.when ? `when ${e.when}` : (e.out ? `${e.out} → ${e.port}` : e.port);
    elements.push({ group: "edges", data: { id: `e${i}`, source: e.source, target: e.target,
      label, when: e.when || null } });
  });
  cy.batch(() => { cy.elements().remove(); cy.add(elements); });
  if (states) cy.nodes("[kind = 'node']").forEach((n) => n.style("border-color", n.data("pluginColour")));
  layout(cy);
}

export function layout(cy) {
  cy.layout({ name: "dagre", rankDir: "LR", nodeSep: 20, rankSep: 60, animate: false,
    fit: true, padding: 20 }).run();
  if (cy.zoom() > 1.2) { cy.zoom(1.2); cy.center(); }  // a small graph stays readable
}

// Colour one node by state; returns true when the node exists.
export function setState(cy, nodeId, state) {
  const node = cy.getElementById(nodeId);
  if (!node || node.empty()) return false;
  node.data({ state, colour: STATE_COLOURS[state] || "#9ca3af", running: state === "running" });
  return true;
}
