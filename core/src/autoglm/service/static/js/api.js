// The page's only way to the server: every call carries the key as a header (never in a URL),
// and the event stream is read with fetch (EventSource cannot send headers).

const KEY = "autoglm.key";

export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.detail) || `HTTP ${status}`);
    this.status = status;
    this.problems = (body && body.problems) || [];
  }
}

export const auth = {
  get key() { return sessionStorage.getItem(KEY); },
  set key(value) {
    if (value) sessionStorage.setItem(KEY, value); else sessionStorage.removeItem(KEY);
  },
};

function headers(extra = {}) {
  return { Authorization: `Bearer ${auth.key}`, ...extra };
}

export async function api(method, path, body) {
  const init = { method, headers: headers(), cache: "no-store" };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init);
  const text = await response.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = { detail: text }; }
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

export async function blobOf(path) {
  const response = await fetch(path, { headers: headers(), cache: "no-store" });
  if (!response.ok) throw new ApiError(response.status, null);
  return response.blob();
}

// Follow a run's events; reconnects with Last-Event-ID until ``end`` or ``stop()``.
export function watch(runId, onEvent) {
  const controller = new AbortController();
  let lastId = null;
  let stopped = false;
  (async () => {
    let failures = 0;
    while (!stopped) {
      let ended = false;
      try {
        const h = headers({ Accept: "text/event-stream" });
        if (lastId) h["Last-Event-ID"] = lastId;
        const response = await fetch(`/v1/runs/${encodeURIComponent(runId)}/events`,
          { headers: h, signal: controller.signal, cache: "no-store" });
        if (!response.ok) { onEvent({ kind: "error", data: { status: response.status } }); return; }
        const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = "";
        let frame = { kind: "message", data: [], id: null };
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += value;
          let cut;
          while ((cut = buffer.indexOf("\n")) >= 0) {
            const line = buffer.slice(0, cut).replace(/\r$/, "");
            buffer = buffer.slice(cut + 1);
            if (line === "") {
              if (frame.data.length) {
                if (frame.id) lastId = frame.id;
                const event = { kind: frame.kind, id: frame.id, data: JSON.parse(frame.data.join("\n")) };
                onEvent(event);
                failures = 0;
                if (event.kind === "end") ended = true;
              }
              frame = { kind: "message", data: [], id: null };
            } else if (!line.startsWith(":")) {
              const at = line.indexOf(":");
              const name = at < 0 ? line : line.slice(0, at);
              const v = at < 0 ? "" : line.slice(at + 1).replace(/^ /, "");
              if (name === "event") frame.kind = v;
              else if (name === "data") frame.data.push(v);
              else if (name === "id") frame.id = v;
            }
          }
        }
      } catch (err) {
        if (stopped) return;
      }
      if (ended || stopped) return;
      failures += 1;
      await new Promise((r) => setTimeout(r, Math.min(5000, 250 * 2 ** failures)));
    }
  })();
  return { stop() { stopped = true; controller.abort(); } };
}
