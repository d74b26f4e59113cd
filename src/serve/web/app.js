// The windlass page: the session list, a session's page (timeline, live log tail, answers,
// feedback, cancel, resume) and the submit form, over the JSON API of the same server.
// Session text is only ever put into the page as text (never as HTML); HTML a session
// produced goes into a sandboxed frame without allow-same-origin.
"use strict";

const NODE_TYPES = [
  "cascade_started", "phase_started", "turn_started", "llm_request", "llm_response", "tool_call",
  "tool_result", "state_set", "routed", "validator_verdict", "attempt_failed", "sounding_started",
  "sounding_finished", "soundings_evaluated", "sub_cascade_started", "sub_cascade_finished",
  "human_input_requested", "signal_received", "callout", "phase_finished", "checkpoint", "warning",
  "phase_failed", "cascade_finished",
];
const STATUSES = ["queued", "starting", "running", "blocked", "completed", "error", "cancelled", "orphaned"];

let current = null; // what the page shows now: {stop()}

class Unauthorized extends Error {}

async function api(method, path, body) {
  const init = { method, headers: { Accept: "application/json" }, credentials: "same-origin" };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const resp = await fetch(path, init);
  if (resp.status === 401) throw new Unauthorized();
  const text = await resp.text();
  const data = text ? JSON.parse(text) : {};
  if (!resp.ok) throw new Error(data.error || resp.statusText);
  return data;
}

// h("div.card", {onclick}, child, "text") -> element; strings are text nodes.
function h(spec, attrs, ...children) {
  const [tag, ...classes] = spec.split(".");
  const el = document.createElement(tag || "div");
  if (classes.length) el.className = classes.join(" ");
  if (attrs !== null && attrs !== undefined && (typeof attrs !== "object" || attrs instanceof Node || Array.isArray(attrs))) {
    children.unshift(attrs);
    attrs = null;
  }
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (v !== null && v !== undefined && v !== false) el.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

const main = () => document.getElementById("main");
function show(...nodes) {
  main().replaceChildren(...nodes);
}
const badge = (s) => h("span.badge." + (s || "unknown"), s || "?");
const when = (t) => (t > 0 ? new Date(t * 1000).toLocaleString() : "–");
const clock = (t) => new Date(t * 1000).toLocaleTimeString();
const money = (c) => "$" + Number(c || 0).toFixed(4);
function ms(d) {
  if (d === null || d === undefined) return "";
  return d < 1000 ? `${d} ms` : `${(d / 1000).toFixed(1)} s`;
}

function showLogin() {
  const tpl = document.getElementById("login-tpl").content.cloneNode(true);
  show(tpl);
  document.getElementById("login-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const token = new FormData(ev.target).get("token");
    try {
      await api("POST", "/login", { token });
      route();
    } catch (e) {
      document.getElementById("login-error").textContent = e instanceof Unauthorized ? "That is not the token." : e.message;
    }
  });
}

async function guarded(fn) {
  try {
    await fn();
  } catch (e) {
    if (e instanceof Unauthorized) showLogin();
    else show(h("p.error", e.message));
  }
}

// The session list, refreshed every 2 s.
function listPage() {
  const params = new URLSearchParams(location.hash.split("?")[1] || "");
  const status = h("select", { name: "status", id: "filter-status" }, h("option", { value: "" }, "any"),
    STATUSES.map((s) => h("option", { value: s, selected: params.get("status") === s }, s)));
  const cascade = h("input", { name: "cascade", id: "filter-cascade", placeholder: "cascade id", value: params.get("cascade") || "" });
  const body = h("tbody");
  const table = h("table", { id: "sessions" },
    h("thead", h("tr", ["session", "cascade", "status", "phase", "started", "tokens", "cost"].map((c) => h("th", c)))), body);
  const more = h("p.muted");
  const apply = () => {
    const q = new URLSearchParams();
    if (status.value) q.set("status", status.value);
    if (cascade.value) q.set("cascade", cascade.value);
    location.hash = "#/" + (q.toString() ? "?" + q : "");
  };
  status.addEventListener("change", apply);
  cascade.addEventListener("change", apply);
  show(h("h1", "Sessions"), h("div.filters", h("label", "Status", status), h("label", "Cascade", cascade)), table, more);
  let timer = null;
  let stopped = false;
  const load = async () => {
    const q = new URLSearchParams({ limit: "100" });
    if (params.get("status")) q.set("status", params.get("status"));
    if (params.get("cascade")) q.set("cascade", params.get("cascade"));
    const data = await api("GET", "/api/sessions?" + q);
    if (stopped) return;
    body.replaceChildren(...data.sessions.map((s) =>
      h("tr.row", { "data-session": s.session_id, onclick: () => (location.hash = "#/s/" + encodeURIComponent(s.session_id)) },
        h("td.mono", s.session_id), h("td", s.cascade_id), h("td", badge(s.status), s.orphan ? " (orphan)" : ""),
        h("td", s.current_phase || ""), h("td", when(s.started_at || s.updated_at)),
        h("td", `${s.tokens_in} / ${s.tokens_out}`), h("td", money(s.cost)))));
    more.textContent = data.sessions.length ? (data.next_cursor ? "Showing the newest 100." : "") : "No sessions yet. Submit one.";
    timer = setTimeout(() => guarded(load), 2000);
  };
  guarded(load);
  return { stop() { stopped = true; clearTimeout(timer); } };
}

function phaseView(p) {
  const winner = p.evaluation ? p.evaluation.winner : null;
  return h("div.phase." + p.status, { "data-phase": p.name },
    h("div.head", h("strong", p.name), badge(p.status), h("span.muted", ms(p.duration_ms)),
      h("span.muted", `turns ${p.turns} · attempts ${p.attempts} · tokens ${p.tokens_in}/${p.tokens_out} · ${money(p.cost)}`),
      p.model ? h("span.muted.mono", p.model) : null),
    p.tool_calls.length ? h("div", p.tool_calls.map((t) =>
      h("div.mono", `⚙ ${t.tool}(${JSON.stringify(t.arguments)})`, t.ok === false ? " ✗" : "", t.result ? ` → ${String(t.result).slice(0, 300)}` : ""))) : null,
    p.soundings.length ? h("div.soundings", p.soundings.map((s) =>
      h("div.sounding" + (s.index === winner ? ".winner" : ""), h("strong", `sounding ${s.index}`), " ", badge(s.status),
        s.model ? h("div.muted.mono", s.model) : null, s.mutation ? h("div.muted", s.mutation) : null,
        h("pre", s.output || "")))) : null,
    p.evaluation ? h("div", h("strong", `evaluator (winner ${winner === null ? "none" : winner}): `), h("pre", p.evaluation.reply || "")) : null,
    p.verdicts.map((v) => h("div.verdict." + (v.valid ? "ok" : "bad"), `${v.role} ${v.validator}${v.mode ? " (" + v.mode + ")" : ""}: ${v.reason}`)),
    p.failed_attempts.map((a) => h("div.error", `attempt ${a.attempt} failed: ${a.reason}`)),
    p.error ? h("div.error", p.error) : null,
    p.output ? h("details", h("summary", "output"), h("pre", p.output)) : null);
}

function questionView(id, q) {
  const box = h("section.card.question", { id: "question" }, h("h2", "Waiting for you"), h("pre", q.prompt));
  if (q.html) {
    const frame = h("iframe", { sandbox: "", title: "content from the session", referrerpolicy: "no-referrer" });
    frame.srcdoc = q.html;
    box.append(frame);
  }
  const answer = async (text) => {
    await api("POST", `/api/sessions/${encodeURIComponent(id)}/signal`, { message: text });
    box.replaceChildren(h("p.muted", "Answer sent; the session takes it at its next step."));
  };
  if (q.options && q.options.length) {
    box.append(h("div.options", q.options.map((o, i) => {
      const label = typeof o === "object" ? (o.label || o.id || JSON.stringify(o)) : String(o);
      return h("button.secondary", { onclick: () => guarded(() => answer(String(i + 1))) }, label);
    })));
  }
  const input = h("textarea", { id: "answer", placeholder: "Your answer" });
  box.append(input, h("div.actions", h("button", { id: "send-answer", onclick: () => guarded(() => answer(input.value)) }, "Send answer")));
  return box;
}

function logLine(row) {
  const c = row.content || {};
  let what = "";
  switch (row.node_type) {
    case "llm_response": what = (c.content || "").slice(0, 400); break;
    case "tool_call": what = `${c.tool}(${JSON.stringify(c.arguments)})`; break;
    case "tool_result": what = String(c.result || "").slice(0, 300); break;
    case "human_input_requested": what = c.prompt; break;
    case "signal_received": what = JSON.stringify(c.payload); break;
    case "phase_failed": what = c.error; break;
    case "cascade_finished": what = `${c.status} ${c.error || ""}`; break;
    case "warning": what = c.message; break;
    case "validator_verdict": what = `${c.validator}: ${c.valid ? "valid" : "invalid"} ${c.reason}`; break;
    default: what = "";
  }
  return h("div.line", { "data-node": row.node_type }, h("span.t", clock(row.timestamp) + " "), h("span.k", row.node_type),
    row.phase_name ? h("span.p", ` [${row.phase_name}]`) : "", what ? " " + what : "");
}

// A session's page: facts, reply box, actions, timeline, and the live log tail over SSE.
function sessionPage(id) {
  const facts = h("div.facts");
  const question = h("div");
  const timeline = h("div", { id: "timeline" });
  const log = h("div", { id: "log" });
  const note = h("p.muted", { id: "note" });
  const feedback = h("textarea", { id: "feedback", placeholder: "Feedback for the session (added to its conversation)" });
  const path = `/api/sessions/${encodeURIComponent(id)}`;
  const act = (what, body) => guarded(async () => {
    const r = await api("POST", `${path}/${what}`, body);
    note.textContent = what === "signal" ? "Sent." : `${what}: ${r.cancel || r.status || "ok"}`;
    refresh();
  });
  const buttons = h("div.actions",
    h("button.danger", { id: "cancel", onclick: () => act("cancel", {}) }, "Cancel"),
    h("button.secondary", { id: "resume", onclick: () => act("resume") }, "Resume"));
  show(h("h1", "Session ", h("span.mono", id)), h("section.card", facts, buttons, note), question,
    h("section.card", h("h2", "Feedback"), feedback, h("div.actions",
      h("button", { id: "send-feedback", onclick: () => { const m = feedback.value; feedback.value = ""; act("signal", { message: m }); } }, "Send"))),
    h("h2", "Phases"), timeline, h("h2", "Log"), log);

  let stopped = false;
  let pending = null;
  const refresh = () => {
    if (pending) return;
    pending = setTimeout(() => guarded(async () => {
      pending = null;
      const d = await api("GET", path);
      if (stopped) return;
      const s = d.session;
      const fact = (label, ...value) => h("div", h("span.label", label), h("div", { "data-fact": label }, ...value));
      facts.replaceChildren(...[
        fact("status", h("span", { id: "status" }, badge(s.status))),
        fact("cascade", s.cascade_id),
        fact("phase", h("span", { id: "current-phase" }, s.current_phase || "–")),
        fact("blocked on", s.blocked_on || "–"),
        fact("started", when(s.started_at)),
        fact("tokens", `${s.tokens_in} in / ${s.tokens_out} out`),
        fact("cost", money(s.cost)),
        fact("owner", s.owner || "–"),
        s.error_message ? fact("error", h("span.error", s.error_message)) : null,
      ].filter(Boolean));
      const finished = ["completed", "error", "cancelled"].includes(s.status);
      document.getElementById("cancel").disabled = finished;
      document.getElementById("send-feedback").disabled = finished;
      document.getElementById("resume").disabled = s.status === "completed" || s.status === "cancelled";
      question.replaceChildren(...(d.question ? [questionView(id, d.question)] : []));
      timeline.replaceChildren(...(d.phases.length ? d.phases.map(phaseView) : [h("p.muted", "No phase has started yet.")]));
    }), 150);
  };
  refresh();

  const events = new EventSource(`${path}/events`);
  const onRow = (ev) => {
    const row = JSON.parse(ev.data);
    const stick = log.scrollTop + log.clientHeight >= log.scrollHeight - 20;
    log.append(logLine(row));
    if (stick) log.scrollTop = log.scrollHeight;
    if (["phase_started", "phase_finished", "phase_failed", "sounding_finished", "soundings_evaluated",
      "validator_verdict", "tool_result", "human_input_requested", "signal_received", "cascade_finished"].includes(row.node_type)) refresh();
  };
  NODE_TYPES.forEach((t) => events.addEventListener(t, onRow));
  events.addEventListener("status", refresh);
  events.addEventListener("end", () => { events.close(); document.getElementById("conn").textContent = ""; refresh(); });
  events.onopen = () => (document.getElementById("conn").textContent = "live");
  events.onerror = () => (document.getElementById("conn").textContent = events.readyState === 2 ? "" : "reconnecting…");
  return { stop() { stopped = true; events.close(); document.getElementById("conn").textContent = ""; } };
}

function submitPage() {
  const cascade = h("input", { name: "cascade", id: "submit-cascade", placeholder: "cascades/hello.yaml" });
  const definition = h("textarea", { name: "definition", id: "submit-definition", placeholder: "or paste a cascade (YAML)" });
  const input = h("textarea", { name: "input", id: "submit-input" });
  input.value = "{}";
  const error = h("p.error", { id: "submit-error" });
  const form = h("form", { id: "submit-form" },
    h("label", "Cascade file (under the served folder)", cascade), h("label", "Or its definition", definition),
    h("label", "Input (a JSON object)", input), h("div.actions", h("button", { type: "submit" }, "Submit")), error);
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    error.textContent = "";
    guarded(async () => {
      let parsed;
      try {
        parsed = JSON.parse(input.value || "{}");
      } catch (e) {
        error.textContent = "The input is not JSON: " + e.message;
        return;
      }
      const body = { input: parsed };
      if (definition.value.trim()) body.definition = definition.value;
      else body.cascade = cascade.value;
      try {
        const r = await api("POST", "/api/sessions", body);
        location.hash = "#/s/" + encodeURIComponent(r.session_id);
      } catch (e) {
        if (e instanceof Unauthorized) throw e;
        error.textContent = e.message;
      }
    });
  });
  show(h("h1", "Submit a cascade"), h("section.card", form), h("p.muted", "A worker on this store runs it (`windlass worker`)."));
  return { stop() {} };
}

function route() {
  if (current) current.stop();
  const hash = location.hash || "#/";
  if (hash.startsWith("#/s/")) current = sessionPage(decodeURIComponent(hash.slice(4)));
  else if (hash.startsWith("#/submit")) current = submitPage();
  else current = listPage();
}

window.addEventListener("hashchange", route);
window.addEventListener("DOMContentLoaded", route);
