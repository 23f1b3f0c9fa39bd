// Workflow data to YAML text. The builder keeps the workflow as the data the server parsed
// (``data`` of /v1/workflows/validate) and writes it back as block YAML whose leaf values are
// JSON (YAML's flow style is a superset of JSON), so every value round-trips exactly.

const PLAIN = /^[A-Za-z_][A-Za-z0-9_.\-]*$/;
const RESERVED = /^(true|false|null|yes|no|on|off|~)$/i;

function scalar(value) {
  if (typeof value === "string" && PLAIN.test(value) && !RESERVED.test(value)) return value;
  return JSON.stringify(value);
}

function key(k) { return PLAIN.test(k) && !RESERVED.test(k) ? k : JSON.stringify(k); }

function emitMap(obj, indent) {
  const pad = " ".repeat(indent);
  const lines = [];
  for (const [k, v] of Object.entries(obj)) {
    if (v && typeof v === "object" && !Array.isArray(v) && Object.keys(v).length && indent < 4) {
      lines.push(`${pad}${key(k)}:`);
      lines.push(...emitMap(v, indent + 2));
    } else {
      lines.push(`${pad}${key(k)}: ${v && typeof v === "object" ? JSON.stringify(v) : scalar(v)}`);
    }
  }
  return lines;
}

export function toYaml(data) {
  const lines = [];
  const order = ["name", "description", "inputs", "nodes", "outputs"];
  const keys = [...order.filter((k) => k in data), ...Object.keys(data).filter((k) => !order.includes(k))];
  for (const k of keys) {
    const v = data[k];
    if (k === "nodes") {
      lines.push("nodes:");
      for (const node of v || []) {
        const entries = Object.entries(node);
        entries.forEach(([nk, nv], i) => {
          const lead = i === 0 ? "  - " : "    ";
          if (nv && typeof nv === "object") lines.push(`${lead}${key(nk)}: ${JSON.stringify(nv)}`);
          else lines.push(`${lead}${key(nk)}: ${scalar(nv)}`);
        });
      }
    } else if (v && typeof v === "object" && !Array.isArray(v)) {
      lines.push(`${k}:`);
      lines.push(...emitMap(v, 2));
    } else {
      lines.push(`${key(k)}: ${scalar(v)}`);
    }
  }
  return lines.join("\n") + "\n";
}
